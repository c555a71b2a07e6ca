"""Clerical review: the decisions file, decisions applied before clustering, stable keys."""

import pandas as pd
import pytest
from linkage_records import uid

from vrdp.linkage.review import (
    DECISION_COLUMNS,
    DecisionFileError,
    ReviewBand,
    append_decision,
    apply_decisions,
    constrained_clusters,
    latest_decisions,
    main,
    read_decisions,
)
from vrdp.linkage.run import link_records
from vrdp.linkage.stable_ids import assign_stable_ids

HEADER = ",".join(DECISION_COLUMNS)


def _write(path, *lines):
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


# --- the decisions file -------------------------------------------------------------


def test_a_missing_file_means_no_decisions(tmp_path):
    assert read_decisions(tmp_path / "none.csv").empty


def test_valid_file_is_read_with_pairs_ordered_and_times_in_utc(tmp_path):
    f = _write(
        tmp_path / "d.csv",
        "b:x:2,a:x:1,match,J. Smith,same NHS number,2026-11-23T09:15:00Z",
        "c:x:3,d:x:4,non-match,A. Jones,twins,2026-11-23 10:00",
    )
    d = read_decisions(f)
    assert d[["record_uid_l", "record_uid_r"]].values.tolist() == [
        ["a:x:1", "b:x:2"],
        ["c:x:3", "d:x:4"],
    ]
    assert d["line"].tolist() == [2, 3]
    assert str(d["decided_at"].dt.tz) == "UTC"


def test_every_bad_line_is_named_with_its_problem(tmp_path):
    f = _write(
        tmp_path / "d.csv",
        "a:x:1,b:x:2,match,J. Smith,ok,2026-11-23T09:15:00",
        "a:x:1,b:x:2,yes,J. Smith,ok,2026-11-23T09:15:00",
        "a:x:1,a:x:1,match,,ok,2026-11-23T09:15:00",
        "a:x:1,b:x:2,non-match,J. Smith,ok,yesterday",
    )
    with pytest.raises(DecisionFileError) as err:
        read_decisions(f)
    msg = str(err.value)
    assert str(f) in msg and "4 problem(s)" in msg
    assert "line 3: decision 'yes' is not one of match, non-match" in msg
    assert "line 4: reviewer is empty" in msg
    assert "line 4: record 'a:x:1' is paired with itself" in msg
    assert "line 5: decided_at 'yesterday' is not an ISO 8601 date and time" in msg
    assert "line 2" not in msg


def test_a_missing_column_is_named(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("record_uid_l,record_uid_r,decision\na,b,match\n")
    with pytest.raises(DecisionFileError, match=r"missing column.*reviewer, reason, decided_at"):
        read_decisions(f)


def test_the_latest_decision_for_a_pair_wins_in_either_order(tmp_path):
    f = _write(
        tmp_path / "d.csv",
        "a,b,match,J,first look,2026-11-23T09:00:00",
        "b,a,non-match,K,second look,2026-11-23T10:00:00",
        "c,d,non-match,J,x,2026-11-23T10:00:00",
        "c,d,match,J,same time: the later line wins,2026-11-23T10:00:00",
    )
    last = latest_decisions(read_decisions(f)).set_index("record_uid_l")
    assert last.loc["a", "decision"] == "non-match" and last.loc["a", "reviewer"] == "K"
    assert last.loc["c", "decision"] == "match"


def test_append_validates_before_writing_and_the_cli_checks(tmp_path, capsys):
    f = tmp_path / "review" / "decisions.csv"
    with pytest.raises(DecisionFileError, match="decision 'maybe'"):
        append_decision(f, "a", "b", "maybe", "J", "x")
    assert not f.exists()
    row = append_decision(f, "a", "b", "match", "J. Smith", "same PNC")
    assert row["decided_at"].endswith("+00:00")
    add = ["add", "--left", "c", "--right", "d", "--decision", "non-match"]
    assert main(["--file", str(f), *add, "--reviewer", "K", "--reason", "twins"]) == 0
    assert len(read_decisions(f)) == 2
    assert main(["--file", str(f), "check"]) == 0
    assert "2 pair(s), valid" in capsys.readouterr().out
    f.write_text(f.read_text() + "e,e,match,J,x,2026-01-01T00:00:00\n")
    assert main(["--file", str(f), "check"]) == 2
    assert "line 4: record 'e' is paired with itself" in capsys.readouterr().err


def test_review_band_must_be_ordered():
    with pytest.raises(ValueError, match="review band"):
        ReviewBand(0.9, 0.5)


# --- decisions applied before clustering (pure functions) ---------------------------


def _decisions(*rows):
    d = pd.DataFrame(rows, columns=["record_uid_l", "record_uid_r", "decision"])
    return d.assign(
        reviewer="J",
        reason="r",
        decided_at=pd.Timestamp("2026-11-23", tz="UTC"),
        line=range(2, len(d) + 2),
    )


def test_a_non_match_splits_a_chain_and_a_match_joins_unscored_records():
    edges = pd.DataFrame(
        {
            "record_uid_l": ["a", "b", "x"],
            "record_uid_r": ["b", "c", "y"],
            "match_probability": [0.99, 0.95, 0.97],
        }
    )
    dec = _decisions(("a", "c", "non-match"), ("d", "e", "match"), ("a", "zz", "match"))
    links, cannot, applied = apply_decisions(edges, dec, pd.Series(list("abcdexy")), 0.9)
    assert set(map(tuple, links.loc[links["forced"], ["record_uid_l", "record_uid_r"]].values)) == {
        ("d", "e")
    }
    assert applied.set_index("record_uid_r").loc["zz", "status"].startswith("skipped")
    # connected components would keep a-b-c together; the decision keeps a and c apart
    cc = pd.DataFrame({"record_uid": list("abcdexy"), "cluster_id": list("aaaddxx")})
    out = constrained_clusters(cc, links, cannot).set_index("record_uid")["cluster_id"]
    assert out["a"] == out["b"] != out["c"]
    assert out["x"] == out["y"] == "x"  # other clusters untouched


# --- through link_records with a trained Splink model --------------------------------


def _link(records, model_dir, decisions=None):
    return link_records(
        records[
            [
                "record_uid",
                "agency",
                "forename",
                "surname",
                "date_of_birth",
                "postcode",
                "pnc_id",
                "nhs_number",
                "upn",
                "crn",
            ]
        ],
        model_dir,
        0.9,
        decisions=decisions,
        review_band=ReviewBand(0.5, 0.99),
    )


def test_decisions_change_the_clusters_and_keys_stay_stable(records, model_dir, tmp_path):
    a1, a2, a3 = (uid(records, t) for t in ("A1", "A2", "A3"))
    b1, b2 = uid(records, "B1"), uid(records, "B2")

    first = _link(records, model_dir)
    assert not first.trained and first.model_reason.startswith("reused")
    cid = first.clusters.set_index("record_uid")["cluster_id"]
    assert cid[a1] == cid[a2] == cid[a3]  # the model links the three identical records
    assert cid[b1] != cid[b2]  # ... and not the nickname without a date of birth
    ids1, _ = assign_stable_ids(first.clusters, None)

    f = _write(
        tmp_path / "decisions.csv",
        f"{a1},{a3},non-match,J. Smith,different PNC on paper files,2026-11-23T09:00:00Z",
        f"{b2},{b1},match,J. Smith,GP record confirms PEGGY is MARGARET,2026-11-23T09:05:00Z",
        "police:nominals:GONE,police:nominals:A1,match,J. Smith,record deleted,2026-11-23T09:06Z",
    )
    second = _link(records, model_dir, read_decisions(f))
    cid2 = second.clusters.set_index("record_uid")["cluster_id"]
    assert cid2[a1] == cid2[a2] != cid2[a3]  # forced split (ties broken by record id)
    assert cid2[b1] == cid2[b2]  # forced link
    status = second.decisions_applied.set_index(["record_uid_l", "record_uid_r"])
    assert status.loc[(a1, a3), "status"] == "applied" and status.loc[(a1, a3), "model_linked"]
    assert not status.loc[(a1, a3), "together_after"]
    assert status.loc[(b1, b2), "status"] == "applied" and status.loc[(b1, b2), "together_after"]
    assert pd.isna(status.loc[(b1, b2), "model_probability"])  # never scored: not blocked
    assert status.loc[(a1, "police:nominals:GONE"), "status"].startswith("skipped")

    ids2, changes = assign_stable_ids(second.clusters, ids1[["record_uid", "person_id"]])
    before = ids1.set_index("record_uid")["person_id"]
    after = ids2.set_index("record_uid")["person_id"]
    untouched = ~before.index.isin([a3, b1, b2])
    assert (before[untouched] == after.reindex(before.index)[untouched]).all()
    assert after[a1] == after[a2] == before[a1]  # the larger part keeps the person's id
    assert after[a3] not in set(before)  # the part split off gets a new id
    assert after[b1] == after[b2] == min(before[b1], before[b2])  # the older id survives
    kinds = changes.groupby("change")["person_id"].apply(set).to_dict()
    assert kinds == {"split": {after[a3]}, "merge": {after[b1]}}

    third = _link(records, model_dir, read_decisions(f))  # decisions stay in force
    ids3, changes3 = assign_stable_ids(third.clusters, ids2[["record_uid", "person_id"]])
    assert changes3.empty
    pd.testing.assert_frame_equal(
        ids3.sort_values("record_uid").reset_index(drop=True)[["record_uid", "person_id"]],
        ids2.sort_values("record_uid").reset_index(drop=True)[["record_uid", "person_id"]],
    )


def test_the_review_queue_shows_undecided_uncertain_pairs_with_evidence(records, model_dir):
    result = _link(records, model_dir)
    q = result.review
    assert len(q) > 0
    assert q["match_probability"].between(0.5, 0.99, inclusive="left").all()
    assert {"forename_l", "forename_r", "date_of_birth_l", "postcode_r", "pnc_id_l"} <= set(q)
    assert (q["record_uid_l"] < q["record_uid_r"]).all()
    assert q["match_probability"].is_monotonic_decreasing
    assert (q["model_linked"] == (q["match_probability"] >= 0.9)).all()
    first = q.iloc[0]
    dec = _decisions((first["record_uid_l"], first["record_uid_r"], "non-match"))
    again = _link(records, model_dir, dec).review
    decided = (again["record_uid_l"] == first["record_uid_l"]) & (
        again["record_uid_r"] == first["record_uid_r"]
    )
    assert not decided.any() and len(again) == len(q) - 1


def test_linkage_closes_its_duckdb_connections_and_clusters_text_ids(
    records, model_dir, monkeypatch
):
    """Scoring closes the DuckDB connection it opened (open, it held its buffers,
    about 4 GB on the large world, through the next step); clustering opens none;
    clusters keyed by integer ids name each record and cluster by its record_uid."""
    import duckdb

    import vrdp.linkage.run as run

    opened = []
    connect = run._connect

    def recording_connect(*args):
        opened.append(connect(*args))
        return opened[-1]

    monkeypatch.setattr(run, "_connect", recording_connect)
    result = _link(records, model_dir)
    assert len(opened) == 1  # scoring; the pairs are clustered in this process
    for con in opened:
        with pytest.raises(duckdb.ConnectionException):
            con.execute("select 1")
    clusters = result.clusters
    assert sorted(clusters["record_uid"]) == sorted(records["record_uid"].astype(str))
    assert clusters["cluster_id"].isin(clusters["record_uid"]).all()
    # a cluster is named by its first record in text order, as with text ids
    first = clusters.groupby("cluster_id")["record_uid"].min()
    assert (first.index == first.to_numpy()).all()


def test_training_closes_its_duckdb_connection(records, tmp_path, monkeypatch):
    """Open, training's DuckDB connection held about 2 GB of buffers on the large
    world through scoring and clustering (the process peaked at 8.4 GiB)."""
    import duckdb

    import vrdp.linkage.run as run

    opened = []
    connect = run._connect

    def recording_connect(*args):
        opened.append(connect(*args))
        return opened[-1]

    monkeypatch.setattr(run, "_connect", recording_connect)
    path = run.train_model(records, tmp_path / "models")
    assert path.exists()
    assert len(opened) == 1
    with pytest.raises(duckdb.ConnectionException):
        opened[0].execute("select 1")


def test_components_are_splinks_clusters_on_duckdb():
    """The clustering in this process (SciPy) gives the partition and the names
    (each cluster's lowest id) that Splink's clustering on DuckDB gives, on a
    random graph with chains, stars, repeated and reversed links and lone nodes."""
    import numpy as np
    from splink.backends.duckdb import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    from vrdp.linkage.run import _components

    rng = np.random.default_rng(7)
    n = 3000
    left = rng.integers(0, n, 2500)
    right = rng.integers(0, n, 2500)
    left, right = left[left != right], right[left != right]
    left = np.concatenate([left, right[:50], np.arange(100, 140)])  # reversed repeats, a chain
    right = np.concatenate([right, left[:50], np.arange(101, 141)])
    mine = _components(n, left, right)

    splink = cluster_pairwise_predictions_at_threshold(
        pd.DataFrame({"record_uid": np.arange(n)}),
        pd.DataFrame({"record_uid_l": left, "record_uid_r": right}),
        db_api=DuckDBAPI(),
        node_id_column_name="record_uid",
    ).as_pandas_dataframe()
    theirs = splink.set_index("record_uid")["cluster_id"].reindex(np.arange(n)).to_numpy()
    assert (mine == theirs).all()
    assert len(set(mine)) < n - 1000  # the graph joins many nodes: the test compares partitions
    assert len(set(mine[100:141])) == 1  # the chain is one person
    assert (mine <= np.arange(n)).all()  # named by its lowest node
