"""The purge removes expired rows everywhere, bytes included, and honours legal holds."""

from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import pytest

from vrdp.governance.legal_hold import HoldError, release_hold, set_hold, verify_holds
from vrdp.governance.permissions import attach_restricted, copy_owner_only
from vrdp.governance.purge import purge_data_root
from vrdp.governance.register import load_register
from vrdp.governance.scan import files_holding, files_with_bytes
from vrdp.lake import write_parquet_atomic

TODAY = date(2026, 12, 3)  # nhs.safeguarding keeps 365 days: before 2025-12-03 expires
OLD = {"referral_id": "SGR-OLD-1", "nhs_number": "9990001111", "surname": "Purgeable"}
HELD = {"referral_id": "SGR-HELD-2", "nhs_number": "9990002222", "surname": "Heldback"}
NEW = {"referral_id": "SGR-NEW-3", "nhs_number": "9990003333", "surname": "Recentone"}
ROWS = [(OLD, "2024-02-01"), (HELD, "2024-03-01"), (NEW, "2026-10-01")]


def _frame():
    return pd.DataFrame(
        [{**p, "forename": "Alex", "referral_date": d, "dob": "2010-01-01"} for p, d in ROWS]
    )


def _uid(p):
    return f"nhs:safeguarding_referrals:{p['referral_id']}"


def _data_root(root, tmp_path):
    """Landing CSV, lake Parquet, quarantine, restricted DB, warehouse, snapshot, export."""
    df = _frame()
    src = tmp_path / "delivered.csv"
    df.to_csv(src, index=False)
    copy_owner_only(src, root / "landing/nhs/safeguarding/2024-03/safeguarding_2024-03.csv")
    write_parquet_atomic(df, root / "lake/nhs/safeguarding/2024-03/part-0.parquet")
    quarantined = pd.DataFrame({"raw_row": [f"x,{OLD['surname']},bad"], "reason": ["bad_type"]})
    write_parquet_atomic(
        quarantined, root / "lake/quarantine/nhs_safeguarding/2024-03/part-0.parquet"
    )
    ident = df.assign(record_uid=[_uid(p) for p, _ in ROWS], person_key=["k1", "k2", "k3"])
    (root / "warehouse").mkdir(parents=True)
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"))
    attach_restricted(con, root / "restricted" / "identity.duckdb", read_only=False)
    con.register("ident", ident)
    con.execute("create schema restricted.identity")
    con.execute("create table restricted.identity.person_identifiers as select * from ident")
    con.execute("create schema marts")
    con.execute("create table marts.persons_seen as select record_uid, person_key from ident")
    con.close()
    snap = duckdb.connect(str(root / "warehouse" / "marts_v1_5.duckdb"))
    snap.register("ident", ident)
    snap.execute("create table uids as select record_uid, surname from ident")
    snap.close()
    from exports.persons import publish_safeguarding_view

    return publish_safeguarding_view(
        root / "exports",
        ident[["person_key", "record_uid", "surname", "nhs_number", "referral_date"]]
        .rename(columns={"referral_date": "seen_on"})
        .assign(seen_on=lambda d: pd.to_datetime(d["seen_on"])),
    )


def _values(p):
    return [p["nhs_number"], p["surname"], p["referral_id"], _uid(p)]


def test_purge_removes_expired_values_everywhere_bytes_included_and_keeps_held(tmp_path):
    root = tmp_path / "data"
    _data_root(root, tmp_path)
    holds = root / "governance" / "legal_holds.jsonl"
    hold = set_hold(
        holds, "nhs.safeguarding", [HELD["referral_id"]], "IOPC inquiry 7", user="a.dpo"
    )
    before = files_holding(root, _values(OLD))
    assert {str(p.relative_to(root)).split("/")[0] for p in before} == {
        "landing",
        "lake",
        "restricted",
        "warehouse",
        "exports",
    }
    assert len(before) == 7, [str(p.relative_to(root)) for p in sorted(before)]
    # the byte search sees values stored uncompressed, DuckDB files included
    raw = {str(p.relative_to(root)) for p in files_with_bytes(root, [OLD["surname"]])}
    assert {"restricted/identity.duckdb", "warehouse/marts_v1_5.duckdb"} <= raw

    report = purge_data_root(
        root, load_register(), TODAY, holds, keys={"nhs.safeguarding": "referral_id"}
    )

    assert files_holding(root, _values(OLD)) == {}
    assert files_with_bytes(root, _values(OLD)) == {}  # nothing left in free blocks or WAL
    for kept in (HELD, NEW):  # the held row and the recent row are still everywhere
        where = {p.relative_to(root).parts[0] for p in files_holding(root, [kept["nhs_number"]])}
        assert {"landing", "lake", "restricted"} <= where
    counts = report.as_dict()
    assert counts["rows_purged"] == {
        "landing:nhs.safeguarding": 1,
        "lake:nhs.safeguarding": 1,
        "quarantine:nhs.safeguarding": 1,
    }
    assert counts["rows_held"]["lake:nhs.safeguarding"] == 1
    assert counts["duckdb_files_compacted"] == 3 and counts["export_versions_deleted"] == 1
    assert OLD["referral_id"] not in str(counts)  # counts only
    restricted = root / "restricted" / "identity.duckdb"
    assert oct(restricted.stat().st_mode & 0o777) == "0o600"  # compaction kept it closed

    # released by someone else, the held row goes on the next purge
    with pytest.raises(HoldError, match="different user"):
        release_hold(holds, hold, user="a.dpo")
    release_hold(holds, hold, user="b.legal")
    purge_data_root(root, load_register(), TODAY, holds, keys={"nhs.safeguarding": "referral_id"})
    left = files_with_bytes(root, _values(HELD))
    # only the hold's own audit log still names the record it covered
    assert {str(p.relative_to(root)): v for p, v in left.items()} == {
        "governance/legal_holds.jsonl": {HELD["referral_id"]}
    }
    assert files_holding(root, [NEW["nhs_number"]])
    assert verify_holds(holds) == []


def test_purge_asset_logs_counts_only_and_is_scheduled(data_root, tmp_path):
    from assets.governance import governance_defs
    from assets.governance.purge import purge_expired
    from config.resources import PlatformConfig

    _data_root(data_root, tmp_path)
    result = dg.materialize(
        [purge_expired],
        resources={"platform": PlatformConfig()},
        run_config={"ops": {"governance__retention_purge": {"config": {"today": "2026-12-03"}}}},
    )
    assert result.success
    meta = result.asset_materializations_for_node("governance__retention_purge")[0].metadata
    assert meta["rows_purged"].value == 5  # landing 2, lake 2, quarantine 1 (no hold here)
    log = (data_root / "governance" / "purge_log.jsonl").read_text()
    assert "SGR-" not in log and "Purgeable" not in log and '"rows_purged"' in log
    assert files_with_bytes(data_root, _values(OLD)) == {}
    (schedule,) = governance_defs().schedules
    assert schedule.cron_schedule == "30 1 * * *"


def test_make_run_and_the_nightly_refresh_never_purge():
    from assets.automation import DOWNSTREAM_SELECTION
    from assets.governance.purge import PURGE_KEY
    from orchestration.definitions import build_defs

    graph = build_defs().resolve_asset_graph()
    selected = DOWNSTREAM_SELECTION.resolve(graph)
    assert PURGE_KEY not in selected
    assert dg.AssetKey(["exports", "disparity_report"]) in selected
