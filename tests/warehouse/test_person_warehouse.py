"""Person warehouse end to end on the small simulated world (fixture in conftest.py)."""

import re

import dagster as dg
import pandas as pd
import pytest
from support import REPO, analyst_schemas
from warehouse_support import read_warehouse as _read

from assets.warehouse.linkage import PERSON_LINKS_KEY
from vrdp.linkage.metrics import pairwise_scores

MIN_PRECISION, MIN_RECALL = 0.95, 0.90


@pytest.fixture(scope="module")
def runs(warehouse):
    return warehouse


def _marts(root):
    tables = _read(
        root, "select table_name from information_schema.tables where table_schema = 'marts'"
    )["table_name"].tolist()
    return {t: _read(root, f"select * from marts.{t}") for t in tables}


def test_dim_persons_is_built_and_its_contract_holds(runs):
    dim = _read(runs["root"], "select * from marts.dim_persons")
    assert len(dim) > 100 and dim["person_key"].is_unique
    assert dim["person_key"].str.fullmatch(r"[0-9a-f]{64}").all()
    links = _read(runs["root"], "select * from linkage.person_record_links")
    assert dim["record_count"].sum() == len(links)
    assert (dim["agency_count"] >= 1).all()


PII_COLUMN = re.compile(r"(forename|surname|name$|dob|birth|nhs_number|pnc|postcode|address|upn)")
#: columns that name a place, not a person (a Clear-Hold-Build site is named for its
#: ward); their values are still scanned for people's names and addresses below
PLACE_NAME_COLUMNS = {"site_name"}
PATTERNS = {
    "nhs_number": re.compile(r"\b\d{10}\b"),
    "pnc_id": re.compile(r"\b\d{4}/\d{7}[A-Z]\b"),
    "postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"),
}


def _public_names():
    """Columns that hold public reference names (a ward named like a surname is no leak)."""
    wards = pd.read_csv(REPO / "dbt_project" / "seeds" / "ons_wards_2025.csv")
    national = REPO / "public_data" / "boundaries" / "england_wales" / "ew_lsoa21_bng.parquet"
    lsoas = pd.read_parquet(national, columns=["lsoa21nm"])
    return {
        "ward_name": set(wards["ward_name"]),
        "lad_name": set(wards["lad_name"]),
        "lsoa21_name": set(lsoas["lsoa21nm"]),  # ONS area names ("Oxford 008A")
    }


def _public_words():
    """Words of the public offence classification ("... young person"), not names."""
    codes = pd.read_csv(REPO / "dbt_project" / "seeds" / "home_office_offence_codes.csv")
    columns = ("offence_description", "offence_group", "offence_subgroup")
    text = pd.concat([codes[c] for c in columns])
    return set(text.str.upper().str.split(r"[^A-Z]+").explode())


def test_no_mart_column_or_value_holds_direct_identifiers(runs):
    ident = _read(runs["root"], "select * from restricted.identity.person_identifiers")
    assert len(ident) > 0  # the restricted schema holds them ...
    names = set(ident["surname"].dropna()) | set(ident["forename"].dropna())
    names = {n for n in names if len(n) > 2}
    addresses = set(ident["address_line"].dropna())
    dobs = ident[["person_key", "date_of_birth"]].dropna()
    public = _public_names()
    # plus the marts' own vocabulary (the needs pack's area types and its interval
    # method, "wilson"), which is no name
    words = _public_words() | {"WARD", "LSOA", "FORCE", "WILSON"}
    marts = _marts(runs["root"])
    assert {"fct_events", "dim_places", "bridge_person_events", "bridge_person_places"} <= set(
        marts
    )
    scanned = 0
    for table, df in marts.items():  # ... and the marts never do
        for col in df.columns:
            values = df[col].dropna()
            if col in public:  # only names from the public ward list
                assert set(values) <= public[col], (table, col)
                continue
            assert col in PLACE_NAME_COLUMNS or not PII_COLUMN.search(col), (table, col)
            if values.empty:
                continue
            if pd.api.types.is_string_dtype(values) or values.dtype == object:
                scanned += 1
                text = values.astype(str)
                for what, pattern in PATTERNS.items():
                    assert not text.str.contains(pattern).any(), (table, col, what)
                if text.str.fullmatch(r"[0-9a-f]{32,64}").all():
                    continue  # hex digests (keys): their letter runs (e.g. "deb") are no names
                tokens = set(text.str.upper().str.split(r"[^A-Z]+").explode()) - words
                assert not tokens & names, (table, col, sorted(tokens & names)[:5])
                assert not set(text.str.upper()) & addresses, (table, col, "address")
            if "person_key" in df and pd.api.types.is_datetime64_any_dtype(values):
                joined = df[["person_key", col]].merge(dobs, on="person_key")
                same = pd.to_datetime(joined[col]) == pd.to_datetime(joined["date_of_birth"])
                assert same.mean() < 0.01, (table, col, "date of birth")
    assert scanned > 20  # text columns were scanned, not skipped by dtype


def test_the_scan_would_catch_identifiers(runs):
    ident = _read(runs["root"], "select * from restricted.identity.person_identifiers")
    row = ident.dropna(subset=["surname", "postcode", "date_of_birth"]).iloc[0]
    assert PATTERNS["postcode"].search(row["postcode"])
    assert PII_COLUMN.search("surname") and PII_COLUMN.search("date_of_birth")
    nhs = ident["nhs_number"].dropna()
    assert nhs.empty or PATTERNS["nhs_number"].search(nhs.iloc[0])
    pnc = ident["pnc_id"].dropna()
    assert pnc.empty or PATTERNS["pnc_id"].search(pnc.iloc[0])


def test_person_keys_are_stable_when_a_delivery_arrives(runs):
    before = runs["first_links"][["record_uid", "person_key"]]
    after = _read(runs["root"], "select record_uid, person_key from linkage.person_record_links")
    both = before.merge(after, on="record_uid", suffixes=("_before", "_after"))
    assert len(both) == len(before)  # every earlier record is still linked
    kept = (both["person_key_before"] == both["person_key_after"]).mean()
    assert kept > 0.995, kept
    changes = _read(runs["root"], "select * from linkage.cluster_changes")
    assert set(changes["change"]) <= {"new", "merge", "split"}
    assert changes["run_id"].nunique() == 2


def test_linkage_precision_and_recall_against_truth(runs):
    truth = pd.read_parquet(runs["world"] / "truth" / "person_records.parquet")
    truth["record_uid"] = truth["agency"] + ":" + truth["dataset"] + ":" + truth["record_id"]
    links = _read(runs["root"], "select record_uid, person_key from linkage.person_record_links")
    m = links.merge(truth[["record_uid", "person_id"]], on="record_uid")
    assert len(m) == len(links)
    scores = pairwise_scores(m["person_key"], m["person_id"])
    print(f"linkage on {len(m)} records: {scores}; timings {runs['timings']}")
    assert scores["precision"] >= MIN_PRECISION and scores["recall"] >= MIN_RECALL, scores


def test_linkage_reports_bounded_comparisons(runs):
    record = (
        runs["instance"]
        .fetch_materializations(dg.AssetRecordsFilter(asset_key=PERSON_LINKS_KEY), limit=1)
        .records[0]
    )
    meta = record.asset_materialization.metadata
    assert meta["comparisons_per_record"].value < 200
    assert meta["model_trained_this_run"].value is False  # the second run reused the model


def _identifiers(root):
    """NHS numbers, PNC ids, CRNs and UPNs of the linked records (strong, unambiguous)."""
    ident = _read(
        root, "select nhs_number, pnc_id, crn, upn from restricted.identity.person_identifiers"
    )
    values = set()
    for col in ident.columns:
        values |= {v for v in ident[col].dropna().astype(str) if len(v) >= 6}
    return values


def test_identity_data_lives_in_its_own_owner_only_database(runs):
    from vrdp.governance.scan import duckdb_values

    root = runs["root"]
    restricted = root / "restricted" / "identity.duckdb"
    assert oct(restricted.stat().st_mode & 0o777) == "0o600"
    assert oct((root / "restricted").stat().st_mode & 0o777) == "0o700"
    assert "identity" not in analyst_schemas(root)
    values = _identifiers(root)
    assert len(values) > 50
    assert not (duckdb_values(root / "warehouse" / "vrdp.duckdb") & values)
    assert duckdb_values(restricted) & values


def test_no_file_holding_direct_identifiers_is_open_to_group_or_others(runs):
    from vrdp.governance.scan import files_holding

    root = runs["root"]
    holding = files_holding(root, _identifiers(root))
    rel = {str(p.relative_to(root)) for p in holding}
    # the walk finds identifiers where they are: landing, lake, restricted database
    assert "restricted/identity.duckdb" in rel
    assert any(r.startswith("landing/police/nominals/") for r in rel)
    assert any(r.startswith("lake/police/nominals/") for r in rel)
    open_files = sorted(str(p.relative_to(root)) for p in holding if p.stat().st_mode & 0o077)
    assert open_files == []
    assert (root / "warehouse" / "vrdp.duckdb") not in holding


def test_disparity_report_on_the_small_world_is_published_suppressed(runs, monkeypatch):
    import dagster as dg

    from assets.governance.disparity import disparity_report
    from config.resources import PlatformConfig
    from vrdp.governance.suppression import PARTNER_FACING, small_count_findings

    monkeypatch.setenv("VRDP_DATA_ROOT", str(runs["root"]))
    result = dg.materialize(
        [disparity_report],
        resources={"platform": PlatformConfig()},
        run_config={
            "ops": {"exports__disparity_report": {"config": {"cap_minutes_per_cell_shift": 30}}}
        },
    )
    assert result.success
    latest = runs["root"] / "exports" / "disparity_report" / "latest"
    by_decile = pd.read_csv(latest / "disparity_by_decile.csv")
    assert set(by_decile["decile_kind"]) == {"national_decile", "force_decile"}
    force = by_decile[(by_decile.decile_kind == "force_decile") & (by_decile.measure == "stops")]
    # shares are written with 6 decimals; a decile with few events is blanked
    assert len(force) == 10 and 0 < force["harm_share"].sum() <= 1 + 1e-4
    for name, cols in PARTNER_FACING["disparity_report"].items():
        assert small_count_findings(pd.read_csv(latest / name), cols) == [], name
    import json

    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["lawful_bases"]["sources"]
