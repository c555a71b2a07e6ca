"""The contracts catch the faults planted in the simulated world, and only those."""

from datetime import date

import pandas as pd
import pytest
from support import THAMES_VALLEY_BOX

from quality.contracts.agencies import agency_contracts
from vrdp.ingest.contract import load_file


@pytest.fixture(scope="module")
def outcome(small_world):
    caught: dict[str, str] = {}
    totals = {}
    for source, contract in agency_contracts().items():
        agency, dataset = source.split(".")
        files = sorted((small_world / "landing" / agency / dataset).glob("*/*"))
        assert files, f"no landing files for {source}"
        rows_in = loaded = quarantined = collapsed = 0
        for f in files:
            rel = f.relative_to(small_world).as_posix()
            r = load_file(f, contract, delivered_on=date(2026, 1, 31), area=THAMES_VALLEY_BOX)
            rows_in += r.rows_in
            loaded += len(r.loaded)
            quarantined += len(r.quarantine)
            collapsed += r.collapsed
            # a row neither loaded nor quarantined was folded into an identical loaded row
            accounted = set(r.loaded["row_number"]) | set(r.quarantine["row_number"])
            for n in sorted(set(range(1, r.rows_in + 1)) - accounted):
                caught[f"{rel}#{n}"] = "collapsed"
            for n, reason in zip(r.quarantine["row_number"], r.quarantine["reason"], strict=True):
                caught[f"{rel}#{n}"] = reason
            if "coordinate_fault" in r.loaded:
                located = r.loaded["coordinate_fault"].isna()
                swapped = r.loaded["coordinate_fault"].eq("swapped_fixed").fillna(False)
                flagged = r.loaded[swapped | (located & ~r.loaded["in_area"])]
                for n, fault in zip(
                    flagged["row_number"], flagged["coordinate_fault"], strict=True
                ):
                    caught[f"{rel}#{n}"] = "flag:" + ("out_of_area" if pd.isna(fault) else fault)
        totals[source] = (rows_in, loaded, quarantined, collapsed)
    faults = pd.read_parquet(small_world / "truth" / "faults.parquet")
    faults["key"] = faults["file"] + "#" + (faults["row_index"] + 1).astype(str)
    faults["caught"] = faults["key"].map(caught)
    return faults, caught, totals


def test_rows_in_equal_loaded_plus_quarantined_plus_collapsed_for_every_source(outcome):
    _, _, totals = outcome
    for source, (rows_in, loaded, quarantined, collapsed) in totals.items():
        assert rows_in == loaded + quarantined + collapsed > 0, source


def test_every_detectable_planted_fault_is_caught(outcome):
    faults, _, _ = outcome
    contracts = agency_contracts()

    # Blanking a field that may legitimately be blank cannot be told from a true blank.
    def undetectable(f) -> bool:
        contract = contracts[f"{f['agency']}.{f['dataset']}"]
        if f["fault_kind"] != "missing_field" or f["column"] not in contract.names:
            return False  # e.g. "lat|lon": both coordinates blanked, caught as no location
        return not contract.field(f["column"]).required

    optional_blank = faults.apply(undetectable, axis=1)
    missed = faults[faults["caught"].isna() & ~optional_blank]
    assert missed.empty, missed[["file", "row_index", "fault_kind", "column"]].to_string()
    kinds = faults[~optional_blank].groupby("fault_kind")["caught"].agg(lambda s: set(s))
    # a re-sent row collapses into its first copy (or is quarantined with it when that is bad)
    assert kinds["duplicate_row"] <= {"collapsed", "duplicate_row"}
    assert "collapsed" in kinds["duplicate_row"]
    assert kinds["coords_swapped"] == {"flag:swapped_fixed"}
    assert kinds["stray_encoding"] <= {"bad_encoding", "unknown_code"}


def test_nothing_is_quarantined_or_flagged_that_was_not_planted(outcome):
    faults, caught, _ = outcome
    assert set(caught) - set(faults["key"]) == set()
