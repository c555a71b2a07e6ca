"""Gazetteer of places and ISTV location text geocoding: known answers and simulated truth."""

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from support import THAMES_VALLEY_BOX

from quality.contracts.agencies import agency_contracts
from vrdp.ingest.deliveries import load_delivery
from vrdp.ingest.gazetteer import (
    MATCH_THRESHOLD,
    build_gazetteer,
    geocode_accuracy,
    geocode_summary,
    normalise_place,
    parse_police_location,
)

# Two towns 20 km apart; each has a pub called The Crown and a hospital.
OXFORD = (451_000.0, 206_000.0)
BANBURY = (445_500.0, 240_500.0)


def _gazetteer(more_police=()):
    pois = pd.DataFrame(
        [
            ("P1", "The Crown", "pub", "High Street", OXFORD[0] + 100, OXFORD[1]),
            ("P2", "The Crown", "pub", "Bridge Street", BANBURY[0] + 100, BANBURY[1]),
            ("P3", "Tiger Tiger", "nightclub", "George Street", OXFORD[0], OXFORD[1] + 300),
            ("P4", "John Radcliffe", "hospital", "Headley Way", OXFORD[0] + 50, OXFORD[1] + 50),
            ("P5", "Horton", "hospital", "Oxford Road", BANBURY[0] + 50, BANBURY[1] + 50),
            ("P6", "Kebab House", "fast_food", "Market Place", BANBURY[0], BANBURY[1] + 200),
        ],
        columns=["poi_id", "name", "category", "street", "easting_m", "northing_m"],
    )
    police = pd.DataFrame(
        [
            ("3 Meadow Row, Oxford, OX1 1AA", OXFORD[0] - 400, OXFORD[1]),
            ("7 Meadow Row, Oxford, OX1 1AB", OXFORD[0] - 420, OXFORD[1] + 20),
            ("Meadow Row, Oxford", OXFORD[0] - 410, OXFORD[1] + 10),
            ("The Crown, High Street, Oxford", OXFORD[0] + 100, OXFORD[1]),
            ("The Crown, Bridge Street, Banbury", BANBURY[0] + 100, BANBURY[1]),
            ("2 High Street, Oxford, OX1 4AA", OXFORD[0] + 90, OXFORD[1] + 5),
            ("4 Bridge Street, Banbury, OX16 5AA", BANBURY[0] + 90, BANBURY[1] + 5),
            ("9 Market Place, Banbury, OX16 5AB", BANBURY[0], BANBURY[1] + 210),
            ("1 George Street, Oxford, OX1 2AA", OXFORD[0], OXFORD[1] + 310),
            *more_police,
        ],
        columns=["location_text", "easting_m", "northing_m"],
    )
    return build_gazetteer(pois, police)


def test_normalise_and_parse():
    assert normalise_place("outside Meadow Row") == "MEADOW ROW"
    assert normalise_place("nr THE CROWN") == "CROWN"
    assert normalise_place("Meadow Rw") == "MEADOW ROW"
    assert normalise_place("friends house") == "FRIENDS HOUSE"
    assert parse_police_location("13 Gladstone Crescent, Slough, SL2 7BU") == (
        None,
        "Gladstone Crescent",
        "Slough",
    )


def test_gazetteer_entries_know_their_towns():
    g = _gazetteer()
    e = g.entries
    crowns = e[(e["kind"] == "poi") & (e["key"] == "CROWN")].sort_values("town")
    assert crowns["town"].tolist() == ["BANBURY", "OXFORD"]
    (meadow,) = e[(e["kind"] == "street") & (e["key"] == "MEADOW ROW")].itertuples()
    assert meadow.town == "OXFORD" and meadow.support == 3
    assert meadow.easting_m == OXFORD[0] - 410  # median of the three records
    kebab = e[e["key"] == "KEBAB HOUSE"]
    assert kebab["town"].tolist() == ["BANBURY"]  # from the nearest street of its name


@pytest.mark.parametrize(
    ("text", "kind", "name", "score"),
    [
        ("outside Meadow Row", "street", "Meadow Row", 1.0),
        ("meadow rw", "street", "Meadow Row", 1.0),  # abbreviation expanded
        ("Tiger Tiger", "poi", "Tiger Tiger", 1.0),
        ("tiger tigr", "poi", "Tiger Tiger", None),  # a typo: fuzzy, below 1
        ("The Crown banbury", "poi", "The Crown", 1.0),  # the town resolves the name
    ],
)
def test_known_answers(text, kind, name, score):
    res = _gazetteer().geocode(pd.Series([text]))
    assert res.kind[0] == kind and res.match[0] == name
    if score is None:
        assert MATCH_THRESHOLD <= res.score[0] < 1.0
    else:
        assert res.score[0] == score
    if text == "The Crown banbury":
        assert res.easting_m[0] == BANBURY[0] + 100


def test_vague_and_unmatched_rows_are_kept_unlocated():
    texts = pd.Series(["friends house", "at home", "", "?", "N/K", "Zebra Crossing Lounge"])
    res = _gazetteer().geocode(texts)
    assert res.kind.isna().all() and res.match.isna().all() and res.easting_m.isna().all()
    assert res.score[:5].isna().all()  # not places: no score
    assert 0 <= res.score[5] < MATCH_THRESHOLD  # a place we do not know: its best score


def test_a_shared_name_goes_to_the_place_in_the_attendances_catchment():
    # Banbury's A&E (site B) is placed by its unambiguous matches; an ambiguous
    # "The Crown" attended there resolves to Banbury's Crown, scored 1/1 in its
    # catchment; at site A (Oxford) to Oxford's.
    texts = pd.Series(["Kebab House"] * 3 + ["The Crown"] + ["Tiger Tiger"] * 3 + ["The Crown"])
    groups = pd.Series(["B"] * 4 + ["A"] * 4)
    res = _gazetteer().geocode(texts, groups=groups)
    assert res.easting_m[3] == BANBURY[0] + 100 and res.score[3] == 1.0
    assert res.easting_m[7] == OXFORD[0] + 100
    # Without a catchment the choice is a guess among two: score 0.5.
    alone = _gazetteer().geocode(pd.Series(["The Crown"]))
    assert alone.score[0] == 0.5 and alone.kind[0] == "poi"


def test_geocode_frame_adds_the_contract_columns():
    df = pd.DataFrame(
        {
            "attendance_ref": ["A1", "A2"],
            "site_code": ["X", "X"],
            "location_type_code": ["02", "01"],
            "location_text": ["outside Meadow Row", "friends house"],
        }
    )
    out = _gazetteer().geocode_frame(df)
    assert out["geocode_kind"].tolist()[0] == "street" and pd.isna(out["geocode_kind"][1])
    assert 51.7 < out["latitude"][0] < 51.8 and math.isnan(out["latitude"][1])
    summary = geocode_summary(out)
    assert summary["geocode_match_rate"] == 1.0 and summary["geocode_rows_vague_or_blank"] == 1


def test_geocode_frame_keeps_text_columns_typed_when_nothing_matches(tmp_path):
    # a delivery with no match (the small world's voluntary referrals of 2024-05) is
    # written with the same Parquet types as one with matches: Spark reads the lake
    # table only when every delivery's file agrees
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vrdp.lake import write_parquet_atomic

    texts = {"some": ["outside Meadow Row", "friends house"], "none": ["friends house", ""]}
    for name, text in texts.items():
        df = pd.DataFrame({"location_text": text, "location_type_code": ["02", "01"]})
        out = write_parquet_atomic(_gazetteer().geocode_frame(df), tmp_path / f"{name}.parquet")
        schema = pq.read_schema(out)
        assert schema.field("geocode_kind").type == pa.large_string(), name
        assert schema.field("geocode_match").type == pa.large_string(), name


# --- the simulated world: match rate and accuracy against its truth -------------------


def _lake_table(world, source):
    agency, dataset = source.split(".")
    spec_glob = {"places": "*.csv", "police": "*.csv", "nhs": "*.csv"}[agency]
    frames = []
    for folder in sorted((world / "landing" / agency / dataset).iterdir()):
        r = load_delivery(
            sorted(folder.glob(spec_glob)),
            agency_contracts()[source],
            delivery=folder.name,
            validated_on=date(2026, 6, 1),
            area=THAMES_VALLEY_BOX,
        )
        frames.append(r.loaded)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def world_geocoded(small_world):
    pois = _lake_table(small_world, "places.pois")
    police = pd.concat(
        [_lake_table(small_world, s) for s in ("police.occurrences", "police.cad_incidents")]
    )
    g = build_gazetteer(pois, police)
    istv = _lake_table(small_world, "nhs.istv_assaults")
    out = pd.concat([g.geocode_frame(d) for _, d in istv.groupby("delivery", sort=True)])
    return out, small_world / "truth"


def test_world_match_rate_and_accuracy_against_truth(world_geocoded):
    out, truth = world_geocoded
    summary = geocode_summary(out)
    accuracy = geocode_accuracy(out, truth)
    # Measured on the small world (seed 7): match rate 0.92 of texts naming a place;
    # confident matches within 250 m of the true place 0.93, all matches 0.49.
    assert summary["geocode_match_rate"] >= 0.85
    assert accuracy["geocode_confident_within_250m"] >= 0.88
    assert accuracy["geocode_within_250m"] >= 0.4
    # Vague text is never located; every row is kept.
    vague = out["location_text"].map(normalise_place).isin({"AT HOME", "HOME", "FRIENDS HOUSE"})
    assert out.loc[vague, "geocode_kind"].isna().all()
    assert out["geocode_score"].dropna().between(0, 1).all()
    assert np.isfinite(out.loc[out["geocode_kind"].notna(), "easting_m"]).all()


def test_an_empty_lake_gives_an_empty_gazetteer_that_locates_nothing():
    pois = pd.DataFrame(columns=["poi_id", "name", "category", "street", "easting_m", "northing_m"])
    police = pd.DataFrame(columns=["location_text", "easting_m", "northing_m"])
    g = build_gazetteer(pois, police)
    assert g.summary["entries"] == 0
    res = g.geocode(pd.Series(["The Crown", "home"]))
    assert res.kind.isna().all() and res.score.tolist()[0] == 0.0


def test_more_records_of_known_streets_keep_the_vocabulary_a_new_street_changes_it():
    """make run geocodes loaded deliveries again only when the vocabulary changes."""
    from vrdp.ingest.gazetteer import vocabulary_digest

    base = _gazetteer().entries
    more = _gazetteer([("5 Meadow Row, Oxford, OX1 1AC", OXFORD[0] - 300, OXFORD[1] + 90)])
    assert not more.entries.equals(base)  # Meadow Row's median point moved
    assert vocabulary_digest(more.entries) == vocabulary_digest(base)
    new = _gazetteer([("8 Mill Lane, Oxford, OX1 9ZZ", OXFORD[0] + 900, OXFORD[1] - 900)])
    assert vocabulary_digest(new.entries) != vocabulary_digest(base)


def test_accuracy_against_a_truth_without_attendances_counts_none(tmp_path):
    """A world whose truth records no A&E attendance: nothing to measure, no error."""
    pd.DataFrame({"record_id": ["r1"], "event_id": ["e1"], "dataset": ["crimes"]}).to_parquet(
        tmp_path / "event_records.parquet"
    )
    pd.DataFrame({"event_id": ["e1"], "easting": [451300.0], "northing": [206200.0]}).to_parquet(
        tmp_path / "events.parquet"
    )
    located = pd.DataFrame(
        {
            "attendance_ref": ["r1"],
            "geocode_kind": ["street"],
            "geocode_score": [0.9],
            "easting_m": [451310.0],
            "northing_m": [206200.0],
        }
    )
    assert geocode_accuracy(located, tmp_path) == {"geocode_truth_rows": 0}


def test_places_of_one_name_on_streets_of_one_name_in_two_towns_keep_their_own_towns():
    """Each takes the town its naming records give near it, however many name the other;
    more records of the other town change neither (nor the vocabulary)."""
    from vrdp.ingest.gazetteer import vocabulary_digest

    pois = pd.DataFrame(
        [
            ("P1", "Mill View Shop", "shop", "Mill View", OXFORD[0] + 200, OXFORD[1]),
            ("P2", "Mill View Shop", "shop", "Mill View", BANBURY[0] + 200, BANBURY[1]),
        ],
        columns=["poi_id", "name", "category", "street", "easting_m", "northing_m"],
    )
    oxford = [("Mill View Shop, Mill View, Oxford", OXFORD[0] + 210, OXFORD[1])] * 2
    banbury = [("Mill View Shop, Mill View, Banbury", BANBURY[0] + 190, BANBURY[1])]
    columns = ["location_text", "easting_m", "northing_m"]

    def towns(police):
        e = build_gazetteer(pois, pd.DataFrame(police, columns=columns)).entries
        shops = e[e["kind"] == "poi"].sort_values("easting_m")
        return shops[["town", "support"]].values.tolist(), vocabulary_digest(e)

    # Banbury's shop is west of Oxford's: sorted by easting, Banbury first
    before, digest = towns(oxford + banbury)
    assert before == [["BANBURY", 2], ["OXFORD", 3]]  # support: its records + itself
    after, digest_after = towns(oxford + banbury * 3)  # Banbury now names it most
    assert after == [["BANBURY", 4], ["OXFORD", 3]]
    assert digest_after == digest
