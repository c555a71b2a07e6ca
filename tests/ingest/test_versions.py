"""Keys and versions: re-sent records keep every version in the lake, one current row in staging.

For every agency source with a staging model, two deliveries of the simulated
world's rows go through the source asset's own function
(:func:`assets.sources.agencies.ingest_agency_delivery`): the second re-sends the
first record, amended. dbt (in-process, on a temporary warehouse) then builds the
agency staging models and the classification snapshot, once after each delivery.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from support import THAMES_VALLEY_BOX

from assets.sources.agencies import LANDING_SOURCES, ingest_agency_delivery
from config.settings import REPO_ROOT
from quality.contracts.agencies import agency_contracts, home_office_offence_codes
from vrdp.ingest.contract import load_file

DBT = REPO_ROOT / "dbt_project"
STAGING = DBT / "models" / "staging"
ON = date(2026, 1, 31)
FIRST, SECOND = "2025-01", "2025-02"
#: Rows per delivery: enough to show that the other records stay as they are.
N = 3
#: Staging models with one row per part of a record (a log's subjects), not per key.
PART_MODELS = {"stg_police__intelligence_subjects"}
MACRO = re.compile(
    r"vrdp\.latest_version\(source\('(\w+)', '(\w+)'\), '(\w+)'(?:, \[([^\]]*)\])?\)"
)


def _staged_sources() -> dict[str, list[Path]]:
    """``<agency>.<dataset>`` -> staging models that read it."""
    out: dict[str, list[Path]] = {}
    for path in sorted(STAGING.glob("*/*.sql")):
        for agency, dataset in re.findall(r"source\('(\w+)', '(\w+)'\)", path.read_text()):
            out.setdefault(f"{agency}.{dataset}", []).append(path)
    return out


KEYED = [s for s in LANDING_SOURCES if agency_contracts()[s.source].key]
STAGED = [s for s in KEYED if s.source in _staged_sources()]


def test_every_staging_model_of_a_keyed_source_shows_the_latest_version_by_its_contract():
    staged = _staged_sources()
    assert {s.source for s in STAGED} == set(staged) & {s.source for s in LANDING_SOURCES}
    for spec in STAGED:
        contract = agency_contracts()[spec.source]
        for path in staged[spec.source]:
            calls = MACRO.findall(path.read_text())
            assert len(calls) == 1, f"{path.name}: read {spec.source} through latest_version"
            agency, dataset, key, versions = calls[0]
            assert f"{agency}.{dataset}" == spec.source
            assert key == contract.key, path.name
            named = [v.strip().strip("'\"") for v in versions.split(",") if v.strip()]
            assert named == list(contract.version_order[1:]), path.name
    # the one macro replaced every hand-written "latest per key" window
    for path in STAGING.glob("*/*.sql"):
        assert "qualify" not in path.read_text(), path.name


def _clean_rows(world: Path, spec) -> tuple[list[dict], str]:
    contract = agency_contracts()[spec.source]
    path = sorted((world / "landing" / spec.agency / spec.dataset).glob("*/*"))[0]
    good = set(
        load_file(path, contract, delivered_on=ON, area=THAMES_VALLEY_BOX).loaded["row_number"]
    )
    if path.suffix == ".jsonl":
        lines = path.read_text().splitlines()
        return [json.loads(x) for i, x in enumerate(lines, 1) if i in good][:N], "jsonl"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return [r for i, r in enumerate(df.to_dict("records"), 1) if i in good][:N], "csv"


def _write(folder: Path, spec, delivery: str, rows: list[dict], fmt: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / spec.file_glob.replace("*", delivery)
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        path.write_text(buf.getvalue())
    return path


def _amend(spec, row: dict) -> dict:
    """The record re-sent with a change its contract allows (a reclassified occurrence)."""
    contract = agency_contracts()[spec.source]
    row = dict(row)
    if spec.source == "police.occurrences":
        codes = home_office_offence_codes()
        row["offence_code"] = next(c for c in codes if c != row["offence_code"])
        return row
    # the first optional field with a code list takes another code; else free text changes
    for f in contract.fields:
        if f.name == contract.key or f.required or f.type != "str" or f.pattern:
            continue
        if f.codes and len(f.codes) > 1:
            row[f.name] = next(c for c in f.codes if c != row[f.name])
            return row
    for f in contract.fields:
        plain = f.type == "str" and not f.codes and not f.pattern
        if (
            plain
            and f.name not in (contract.key, *(contract.coordinates or ()))
            and not isinstance(row[f.name], (dict, list))
        ):
            row[f.name] = "amended"
            return row
    # else a time a minute earlier (not one an order rule ties to another field)
    ruled = {n for r in contract.order_rules for n in (r.earlier, r.later)}
    for f in contract.fields:
        if f.type == "datetime" and f.name not in ruled and row[f.name]:
            when = pd.Timestamp(row[f.name]) - pd.Timedelta(minutes=1)
            row[f.name] = when.strftime("%Y-%m-%dT%H:%M:%S")
            return row
    raise AssertionError(f"no field of {spec.source} to amend")


def _dbt_build(root: Path, target: Path) -> None:
    # A dbt process of its own, as the warehouse asset runs it: in-process dbt keeps
    # the DuckDB file open, and the test reads it afterwards.
    from vrdp.governance.permissions import ensure_restricted_db

    # dbt attaches the owner-only restricted database; the warehouse asset creates it first
    ensure_restricted_db(root / "restricted" / "identity.duckdb")
    selection = [f"path:models/staging/{a}" for a in sorted({s.agency for s in STAGED})]
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--select",
            *selection,
            "snp_police__occurrence_classifications",
            "--project-dir",
            str(DBT),
            "--profiles-dir",
            str(DBT),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ],
        cwd=DBT,
        env={**os.environ, "VRDP_DATA_ROOT": str(root)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def versions(small_world, tmp_path_factory):
    """The warehouse after each of two deliveries, and what each re-sent record became."""
    from support import DEMO_WORLD_DISTRICTS

    from assets.sources.agencies import boundary_layers
    from config.resources import PlatformConfig

    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("versions") / "data"
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("HOME", str(root.parent / "home"))
    # the simulated world's force area, cut from the national pack
    mp.setenv("VRDP_FORCE_DISTRICTS", DEMO_WORLD_DISTRICTS)
    layers = boundary_layers(PlatformConfig())
    (root / "warehouse").mkdir(parents=True)
    samples = {s.source: _clean_rows(small_world, s) for s in STAGED}
    amended = {}
    states = []
    for delivery in (FIRST, SECOND):
        for spec in STAGED:
            rows, fmt = samples[spec.source]
            if delivery == SECOND:
                rows = [_amend(spec, rows[0])]
                amended[spec.source] = rows[0]
            folder = root / "landing" / spec.agency / spec.dataset / delivery
            ingest_agency_delivery(
                spec,
                [_write(folder, spec, delivery, rows, fmt)],
                delivery=delivery,
                lake_dir=root / "lake",
                validated_on=ON,
                layers=layers if spec.locate else None,
            )
        _dbt_build(root, root.parent / f"target-{delivery}")
        con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
        try:
            states.append(
                con.execute(
                    "select occurrence_ref, offence_code, dbt_valid_to is null as is_current"
                    " from snapshots.snp_police__occurrence_classifications"
                ).df()
            )
        finally:
            con.close()
    yield {"root": root, "samples": samples, "amended": amended, "snapshots": states}
    mp.undo()


def _query(root: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


@pytest.mark.parametrize("spec", STAGED, ids=lambda s: s.source)
def test_a_resent_amended_record_is_one_current_row_in_staging(versions, spec):
    root, contract = versions["root"], agency_contracts()[spec.source]
    key = contract.key
    ref = versions["amended"][spec.source][key]
    lake = pd.read_parquet(root / "lake" / spec.agency / spec.dataset)
    # the lake keeps both versions of the record
    assert sorted(lake.loc[lake[key] == ref, "delivery"]) == [FIRST, SECOND]
    for path in _staged_sources()[spec.source]:
        model = path.stem
        if model in PART_MODELS:
            continue  # one row per part of a record: checked below
        staged = _query(root, f"select * from staging.{model}")
        assert staged[key].is_unique, model
        assert set(staged[key]) == {r[key] for r in versions["samples"][spec.source][0]}
        (current,) = staged.loc[staged[key] == ref, "delivery"]
        assert current == SECOND, model
    if spec.source == "police.intelligence":
        subjects = _query(
            root, "select log_id, delivery from staging.stg_police__intelligence_subjects"
        )
        # the re-sent log's subjects come from its current version only
        of_ref = subjects.loc[subjects["log_id"] == ref, "delivery"]
        assert set(of_ref) <= {SECOND}
        assert set(subjects["delivery"]) <= {FIRST, SECOND}


def test_the_amended_values_are_current_and_the_history_is_kept(versions):
    root = versions["root"]
    amended = versions["amended"]["police.occurrences"]
    first = versions["samples"]["police.occurrences"][0][0]
    staged = _query(
        root,
        "select offence_code from staging.stg_police__occurrences"
        f" where occurrence_ref = '{amended['occurrence_ref']}'",
    )
    assert staged["offence_code"].tolist() == [amended["offence_code"]]
    before, after = versions["snapshots"]
    assert len(before) == N and before["is_current"].all()
    history = after[after["occurrence_ref"] == amended["occurrence_ref"]]
    assert sorted(map(tuple, history[["offence_code", "is_current"]].to_numpy())) == sorted(
        [(first["offence_code"], False), (amended["offence_code"], True)]
    )
    # the records that were not re-sent keep one version
    assert len(after) == N + 1
