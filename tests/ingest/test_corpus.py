"""The bad-input corpus, generated for every source from its contract.

Each case starts from clean rows of a real delivery of the source (the simulated
world's agency files; the shipped data.police.uk stop and search sample), plants
one fault the contract names (a NUL byte, ``inf`` in a number, an end before its
start, a runaway field, a re-sent row, a conflicting key, a time with a UTC
offset, columns in another order, gzip bytes under a plain name, a corrupt file)
and checks the outcome: rows loaded, quarantined and collapsed with their
reasons, or a rejection that names the file. Cases are built from the contract,
so a source added to the contract list gets them without a line here.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from support import THAMES_VALLEY_BOX

from config.settings import REPO_ROOT
from quality.contracts.agencies import agency_contracts
from quality.contracts.base import MAX_FIELD_CHARS, Contract
from quality.contracts.stop_search import stop_search_contract
from vrdp.errors import SourceFileError
from vrdp.ingest.contract import REASONS, load_file
from vrdp.ingest.stop_search import parse_stop_search_file

ON = date(2026, 1, 31)
N = 8
#: The row each case spoils (row_number 3).
AT = 2
STOP_SEARCH_SAMPLE = (
    REPO_ROOT
    / "public_data/police_uk/thames_valley/stop_and_search"
    / "2022-01-thames-valley-stop-and-search.sample40.csv"
)


@dataclass(frozen=True)
class Source:
    """A source under test: its contract and where its clean rows come from."""

    name: str
    contract: Contract
    #: "world" (the simulated world's first delivery) or a shipped file
    sample: str | Path = "world"

    def load(self, path: Path):
        """Loaded rows, quarantine, rows in and collapsed rows of one file."""
        if self.name == "police_uk.stop_searches":
            p = parse_stop_search_file(
                path, validated_on=ON, month="2022-01", force="thames-valley"
            )
            return p.loaded, p.quarantine, p.rows_in, p.collapsed
        r = load_file(path, self.contract, delivered_on=ON, area=THAMES_VALLEY_BOX)
        return r.loaded, r.quarantine, r.rows_in, r.collapsed


SOURCES = [Source(name, c) for name, c in agency_contracts().items()] + [
    Source("police_uk.stop_searches", stop_search_contract(), STOP_SEARCH_SAMPLE)
]


def _text_field(c: Contract):
    """A free-text field (no code list, no pattern, not a coordinate)."""
    return next(
        f
        for f in c.fields
        if f.type == "str" and not f.codes and not f.pattern and f.name not in (c.coordinates or ())
    )


def _cases(c: Contract) -> list[str]:
    """The cases a contract admits."""
    out = ["nul_byte", "field_too_large", "repeat_collapses", "columns_reordered", "plain_gzip"]
    out += ["corrupt_gzip", "missing_column"]
    if any(f.type in ("int", "float") for f in c.fields):
        out.append("non_finite")
    out += [f"order:{i}" for i in range(len(c.order_rules))]
    if c.key:
        out.append("conflicting_key")
    if any(f.type == "datetime" for f in c.fields):
        out += ["aware_time", "naive_time"]
    if any(f.pattern and f.type == "str" for f in c.fields):
        out.append("bad_format")
    return out


CASES = [
    pytest.param(s, case, id=f"{s.name}-{case}") for s in SOURCES for case in _cases(s.contract)
]


@pytest.fixture(scope="module")
def samples(small_world):
    """Clean rows (dicts of delivered values) and the format of each source."""
    out = {}
    for s in SOURCES:
        if s.sample == "world":
            agency, dataset = s.name.split(".")
            paths = sorted((small_world / "landing" / agency / dataset).glob("*/*"))
        else:
            paths = [Path(s.sample)]
        rows: list[dict] = []
        for path in paths:  # deliveries in order, until there are enough clean rows
            rows += _clean_rows(s, path)
            # distinct rows, so that only the planted repeat repeats
            rows = list({json.dumps(r, sort_keys=True, default=str): r for r in rows}.values())
            if len(rows) >= N:
                break
        key = s.contract.key
        if rows and key and len(rows) < N:
            # a small reference (the small world has two patrol teams): copies of its
            # clean rows under new keys, each still valid by the contract
            base = list(rows)
            for i in range(N - len(rows)):
                row = dict(base[i % len(base)])
                row[key] = f"{str(row[key])[:14]}-c{i}"
                rows.append(row)
        assert len(rows) >= N, s.name
        fmt = paths[0].suffix.lstrip(".")
        out[s.name] = (rows[:N], fmt)
    return out


def _clean_rows(s: Source, path: Path) -> list[dict]:
    good = set(s.load(path)[0]["row_number"])
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        return [r for i, r in enumerate(df.to_dict("records"), 1) if i in good]
    if path.suffix == ".jsonl":
        lines = path.read_text().splitlines()
        return [json.loads(x) for i, x in enumerate(lines, 1) if i in good]
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return [r for i, r in enumerate(df.to_dict("records"), 1) if i in good]


def _write(tmp_path: Path, fmt: str, rows: list[dict], columns: list[str] | None = None) -> Path:
    path = tmp_path / f"batch.{fmt}"
    columns = columns or list(rows[0])
    if fmt == "parquet":
        pd.DataFrame(rows)[columns].to_parquet(path, index=False)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
        path.write_text(buf.getvalue())
    return path


def _set_time(row: dict, name: str, when: pd.Timestamp, f_type: str, fmt: str) -> None:
    if fmt == "parquet":
        row[name] = when
    elif f_type == "date":
        row[name] = when.strftime("%Y-%m-%d")
    else:
        row[name] = when.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class Expect:
    """What a case must give: quarantined rows and reasons, collapsed rows, or a rejection."""

    quarantined: dict[int, str] | None = None
    collapsed: int = 0
    rows_in: int = N
    rejected: str | None = None


def _plant(case: str, s: Source, rows: list[dict], fmt: str, tmp_path: Path):
    """The spoilt file and what the contract must make of it."""
    c = s.contract
    rows = [dict(r) for r in rows]
    row = rows[AT]
    if case == "nul_byte":
        f = _text_field(c)
        row[f.name] = f"{row[f.name] or 'PC4005'}\x00"
        return _write(tmp_path, fmt, rows), Expect({AT + 1: "nul_byte"})
    if case == "field_too_large":
        row[_text_field(c).name] = "x" * (MAX_FIELD_CHARS + 1)
        return _write(tmp_path, fmt, rows), Expect({AT + 1: "field_too_large"})
    if case == "repeat_collapses":
        rows.append(dict(row))
        if c.keep_duplicate_rows:  # identical rows are separate records here
            return _write(tmp_path, fmt, rows), Expect({}, rows_in=N + 1)
        return _write(tmp_path, fmt, rows), Expect({}, collapsed=1, rows_in=N + 1)
    if case == "columns_reordered":
        return _write(tmp_path, fmt, rows, list(reversed(list(rows[0])))), Expect({})
    if case == "plain_gzip":
        path = _write(tmp_path, fmt, rows)
        path.write_bytes(gzip.compress(path.read_bytes()))
        if fmt == "parquet":  # Parquet compresses inside the format: refused as one file
            return path, Expect(rejected="not a readable Parquet file")
        return path, Expect({})
    if case == "corrupt_gzip":
        path = _write(tmp_path, fmt, rows)
        path.write_bytes(gzip.compress(path.read_bytes())[:40])
        return path, Expect(rejected="gzip" if fmt != "parquet" else "Parquet")
    if case == "missing_column":
        gone = c.fields[1].name
        if fmt == "jsonl":  # a JSON line without a key reads as an empty value
            for r in rows:
                r.pop(gone, None)
            expect = {i + 1: "missing_required" for i in range(N)} if c.fields[1].required else {}
            return _write(tmp_path, fmt, rows), Expect(expect)
        columns = [k for k in rows[0] if k != gone]
        return _write(tmp_path, fmt, rows, columns), Expect(rejected=f"missing column.*{gone}")
    if case == "non_finite":
        f = next(f for f in c.fields if f.type in ("int", "float"))
        row[f.name] = float("inf") if fmt == "parquet" else "inf"
        return _write(tmp_path, fmt, rows), Expect({AT + 1: "non_finite"})
    if case.startswith("order:"):
        rule = c.order_rules[int(case.split(":")[1])]
        start = pd.Timestamp(row[rule.earlier]) if row[rule.earlier] else pd.Timestamp("2024-06-01")
        _set_time(row, rule.earlier, start, c.field(rule.earlier).type, fmt)
        _set_time(row, rule.later, start - pd.Timedelta(days=365), c.field(rule.later).type, fmt)
        return _write(tmp_path, fmt, rows), Expect({AT + 1: "order_violation"})
    if case == "conflicting_key":
        rows[4][c.key] = rows[1][c.key]
        if rows[4] == rows[1]:  # a two-column reference: make the two versions conflict
            other = next(f for f in c.fields if f.name != c.key and f.type == "str")
            rows[4][other.name] = f"{rows[4][other.name]}X"
        return _write(tmp_path, fmt, rows), Expect({2: "duplicate_key", 5: "duplicate_key"})
    if case in ("aware_time", "naive_time"):
        # every time of the row at one instant, so order rules hold; 12:00 UTC in
        # July is 13:00 in London, a naive 12:00 is 12:00 in the declared zone
        for f in c.fields:
            if f.type == "datetime":
                if fmt == "parquet":
                    row[f.name] = pd.Timestamp("2025-07-01 12:00")
                else:
                    row[f.name] = "2025-07-01T12:00:00" + ("Z" if case == "aware_time" else "")
        if fmt == "parquet" and case == "aware_time":
            df = pd.DataFrame(rows)
            for f in c.fields:
                if f.type == "datetime":  # a timezone-aware UTC column, as a GPS export writes
                    df[f.name] = pd.to_datetime(df[f.name]).dt.tz_localize("UTC")
            path = tmp_path / "batch.parquet"
            df.to_parquet(path, index=False)
        else:
            path = _write(tmp_path, fmt, rows)
        return path, Expect({})
    if case == "bad_format":
        f = next(f for f in c.fields if f.pattern and f.type == "str")
        # a value the field's pattern refuses (a code-like one where the pattern is broad)
        row[f.name] = next(
            v for v in ("X99999999", "not a code!") if not re.fullmatch(f.pattern, v)
        )
        return _write(tmp_path, fmt, rows), Expect({AT + 1: "bad_format"})
    raise AssertionError(case)


@pytest.mark.parametrize(("source", "case"), CASES)
def test_corpus(tmp_path, samples, source, case):
    rows, fmt = samples[source.name]
    path, expect = _plant(case, source, rows, fmt, tmp_path)
    if expect.rejected:
        with pytest.raises(SourceFileError, match=expect.rejected) as err:
            source.load(path)
        assert str(path) in str(err.value)  # the rejection names the file
        return
    loaded, quarantine, rows_in, collapsed = source.load(path)
    assert rows_in == expect.rows_in
    assert rows_in == len(loaded) + len(quarantine) + collapsed
    assert collapsed == expect.collapsed
    got = dict(zip(quarantine["row_number"], quarantine["reason"], strict=True))
    assert got == expect.quarantined, quarantine[["row_number", "reason", "detail"]].to_string()
    assert set(got.values()) <= set(REASONS)
    if case == "repeat_collapses" and collapsed:
        by_row = loaded.set_index("row_number")["copies_in_file"]
        assert by_row[AT + 1] == 2 and (by_row.drop(AT + 1) == 1).all()
    if case.startswith("order:"):
        rule = source.contract.order_rules[int(case.split(":")[1])]
        assert rule.label in quarantine["detail"].iloc[0]  # the reason names the rule
    if case in ("aware_time", "naive_time"):
        expected = pd.Timestamp("2025-07-01 13:00" if case == "aware_time" else "2025-07-01 12:00")
        mine = loaded.set_index("row_number").loc[AT + 1]
        for f in source.contract.fields:
            if f.type == "datetime":
                assert mine[f.name] == expected, f.name
    if case == "conflicting_key":
        raw = quarantine.set_index("row_number")["raw_row"]
        assert raw[2] != raw[5]  # both versions kept, as delivered
    if case == "nul_byte":
        assert "\x00" not in "".join(loaded.select_dtypes("string").fillna("").stack())


# --- data.police.uk street crime: its own parser, the same rules ---------------------

STREET = REPO_ROOT / "public_data/police_uk/city_of_london/street"
STREET_NAME = "2025-01-city-of-london-street.csv"


@pytest.fixture(scope="module")
def street_rows():
    """Eight distinct located crimes (with a Crime ID) of a real City of London month."""
    from quality.contracts.police_uk import STREET_COLUMNS

    df = pd.read_csv(STREET / f"{STREET_NAME}.gz", dtype=str, keep_default_na=False)
    df = df[(df["Crime ID"] != "") & (df["Longitude"] != "")].drop_duplicates("Crime ID")
    return [dict(zip(STREET_COLUMNS, r, strict=True)) for r in df.head(N).to_numpy().tolist()]


STREET_CASES = {
    # case: (column, value or None, expected reason of row 3; None = loaded)
    "repeat_collapses": (None, None, None),
    "lsoa_not_a_code": ("LSOA code", "X99999999", "malformed_lsoa_code"),
    "million_character_location": ("Location", "x" * 1_000_000, "field_too_large"),
    "nul_byte": ("Location", "On or near Silk Street\x00", "nul_byte"),
    "infinite_longitude": ("Longitude", "inf", "coordinates_outside_uk"),
    "columns_reordered": (None, None, None),
    "plain_gzip": (None, None, None),
}


@pytest.mark.parametrize("case", STREET_CASES)
def test_street_corpus(tmp_path, street_rows, case):
    from vrdp.ingest.police_uk import parse_street_file

    column, value, reason = STREET_CASES[case]
    rows = [dict(r) for r in street_rows]
    if column:
        rows[AT][column] = value
    if case == "repeat_collapses":
        rows.append(dict(rows[AT]))
    columns = list(rows[0])
    if case == "columns_reordered":
        columns = list(reversed(columns))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    path = tmp_path / STREET_NAME
    data = buf.getvalue().encode()
    path.write_bytes(gzip.compress(data) if case == "plain_gzip" else data)
    parsed = parse_street_file(path)
    assert parsed.rows_in == len(rows)
    assert parsed.rows_in == len(parsed.loaded) + len(parsed.quarantine) + parsed.collapsed
    got = dict(zip(parsed.quarantine["row_number"], parsed.quarantine["reason"], strict=True))
    assert got == ({AT + 1: reason} if reason else {})
    if case == "repeat_collapses":
        assert parsed.collapsed == 1 and len(parsed.loaded) == N
        assert parsed.loaded.set_index("row_number").loc[AT + 1, "copies_in_file"] == 2
    if case == "columns_reordered":  # read by name: the same values as the file in order
        loaded = parsed.loaded.set_index("row_number")
        assert loaded["crime_id"].tolist() == [r["Crime ID"] for r in street_rows]
        assert loaded["longitude"].tolist() == [float(r["Longitude"]) for r in street_rows]
