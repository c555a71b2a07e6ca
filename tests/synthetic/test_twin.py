"""The day stepper: deterministic, follows the tasking, plants a dose-response."""

import shutil

import h3
import numpy as np
import pandas as pd
import pytest

from synthetic.twin import dose_multiplier, step

DAY = "2026-01-05"


def _copy_world(world, dest):
    """The parts of a world the stepper reads (it writes into the copy)."""
    for rel in ("truth/world.json", "truth/events.parquet", "truth/trial_units.parquet",
                "truth/event_records.parquet"):  # fmt: skip
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(world / rel, dest / rel)
    for rel in ("landing/places/pois", "landing/police/occurrences",
                "landing/police/cad_incidents", "landing/nhs/istv_assaults"):  # fmt: skip
        shutil.copytree(world / rel, dest / rel)
    return dest


def _tasking(world, path, flip=False, day=DAY):
    units = pd.read_parquet(world / "truth" / "trial_units.parquet")
    arm = np.where(np.arange(len(units)) % 2 == int(flip), "patrol", "control")
    t = pd.DataFrame(
        {
            "hotspot_id": units["unit_id"],
            "h3_cell": units["h3_cell"],
            "date": day,
            "arm": arm,
            "tasked": arm == "patrol",
            "target_visits": np.where(arm == "patrol", 6, 0),
        }
    )
    t.to_parquet(path, index=False)
    return t


@pytest.fixture(scope="module")
def worlds(small_world, tmp_path_factory):
    root = tmp_path_factory.mktemp("twin")
    a = _copy_world(small_world, root / "a")
    b = _copy_world(small_world, root / "b")
    c = _copy_world(small_world, root / "c")
    ta = _tasking(small_world, root / "tasking_a.parquet")
    tc = _tasking(small_world, root / "tasking_c.parquet", flip=True)
    return {
        "a": (a, step(a, DAY, root / "tasking_a.parquet"), ta),
        "b": (b, step(b, DAY, root / "tasking_a.parquet"), ta),
        "c": (c, step(c, DAY, root / "tasking_c.parquet"), tc),
    }


def _files(world):
    return {
        "gps": world / "landing" / "patrol" / "gps" / DAY / "gps_pings.parquet",
        "activity": world / "landing" / "patrol" / "activity" / DAY / "activity.jsonl",
        "crimes": world / "landing" / "police" / "occurrences" / DAY / f"occurrences_{DAY}.csv",
        "calls": world / "landing" / "police" / "cad_incidents" / DAY / f"cad_incidents_{DAY}.csv",
        **{
            f"ae:{p.name}": p
            for p in sorted((world / "landing" / "nhs" / "istv_assaults" / DAY).glob("*.csv"))
        },
    }


def test_the_stepper_is_deterministic(worlds):
    (a, sa, _), (b, sb, _) = worlds["a"], worlds["b"]
    assert sa == {**sb, "tasking": sa["tasking"]}
    for name, path in _files(a).items():
        assert path.read_bytes() == _files(b)[name].read_bytes(), name
    assert sa["pings"] > 1000 and sa["crimes"] > 0 and sa["true_visits"] > 0


def test_a_tasking_change_changes_the_simulated_gps(worlds):
    (a, _, ta), (c, _, tc) = worlds["a"], worlds["c"]
    ga, gc = pd.read_parquet(_files(a)["gps"]), pd.read_parquet(_files(c)["gps"])
    assert not ga.equals(gc)

    def share_in(g, cells):
        got = [h3.latlng_to_cell(la, lo, 9) for la, lo in zip(g["lat"], g["lon"], strict=True)]
        return np.isin(got, list(cells)).mean()

    pa = set(ta.loc[ta["arm"] == "patrol", "h3_cell"])
    pc = set(tc.loc[tc["arm"] == "patrol", "h3_cell"])
    # officers spend their time in the cells they were tasked to, not the others
    assert share_in(ga, pa) > 3 * share_in(ga, pc)
    assert share_in(gc, pc) > 3 * share_in(gc, pa)
    # the activity log names the tasked hot spots only
    acts = pd.read_json(_files(a)["activity"], lines=True)
    visited = set(acts.loc[acts["event"] == "hotspot_arrive", "unit_id"])
    assert visited and visited <= set(ta.loc[ta["arm"] == "patrol", "hotspot_id"])


def test_the_planted_effect_follows_the_delivered_dose(worlds):
    a, summary, _ = worlds["a"]
    cells = pd.read_parquet(a / "truth" / "twin" / DAY / "cells.parquet")
    visits = pd.read_parquet(a / "truth" / "twin" / DAY / "visits.parquet")
    dosed = cells[cells["minutes"] > 0]
    assert len(dosed) and (dosed["multiplier"] < 1).all()
    assert (cells.loc[cells["minutes"] == 0, "multiplier"] == 1).all()
    assert np.isclose(visits["minutes"].sum(), summary["true_minutes"], atol=0.1)
    np.testing.assert_allclose(
        dosed["multiplier"], dose_multiplier(dosed["minutes"], dosed["prev_minutes"])
    )
    assert cells["displaced_in"].sum() > 0  # displacement to neighbouring cells
    occ = pd.read_csv(_files(a)["crimes"], dtype=str)
    assert occ["occurrence_ref"].is_unique and len(occ) == summary["crimes"]
    assert occ["committed_from"].str.startswith(DAY).all()


def test_calls_and_ae_assaults_follow_the_same_dose_response_with_truth_beside(worlds):
    from quality.contracts.agencies import agency_contracts
    from vrdp.ingest.deliveries import load_delivery

    a, summary, _ = worlds["a"]
    truth = a / "truth" / "twin" / DAY
    crimes = pd.read_parquet(truth / "cells.parquet").set_index("h3_cell")
    records = pd.read_parquet(truth / "records.parquet")
    for name, n in (("call_cells", summary["calls"]), ("ae_cells", summary["ae_assaults"])):
        cells = pd.read_parquet(truth / f"{name}.parquet")
        # the same minutes and multiplier as the crimes in every cell both streams hold
        both = cells.merge(crimes.reset_index(), on="h3_cell", suffixes=("", "_crime"))
        np.testing.assert_allclose(both["minutes"], both["minutes_crime"])
        np.testing.assert_allclose(both["multiplier"], both["multiplier_crime"])
        dosed = cells[cells["minutes"] > 0]
        assert len(dosed) and (dosed["expected"] < dosed["base_rate"] + dosed["displaced_in"]).all()
        assert cells["count"].sum() == n
    assert summary["calls"] > 0
    assert records.groupby("dataset").size().to_dict() == {
        k: v
        for k, v in (("cad_incidents", summary["calls"]), ("istv_assaults", summary["ae_assaults"]),
                     ("occurrences", summary["crimes"]))
        if v
    }  # fmt: skip
    # the deliveries pass their contracts: every row loads, none is quarantined
    contracts = agency_contracts()
    files = _files(a)
    res = load_delivery([files["calls"]], contracts["police.cad_incidents"], delivery=DAY,
                        validated_on=pd.Timestamp("2026-02-01").date())  # fmt: skip
    assert len(res.loaded) == summary["calls"] and not len(res.quarantine)
    ae = [p for k, p in files.items() if k.startswith("ae:")]
    if ae:
        res = load_delivery(ae, contracts["nhs.istv_assaults"], delivery=DAY,
                            validated_on=pd.Timestamp("2026-02-01").date())  # fmt: skip
        assert len(res.loaded) == summary["ae_assaults"] and not len(res.quarantine)


def test_a_tasking_for_another_day_is_refused(worlds, tmp_path):
    a, _, _ = worlds["a"]
    t = pd.read_parquet(a.parent / "tasking_a.parquet")
    t.assign(date="2026-01-09").to_parquet(tmp_path / "t.parquet")
    with pytest.raises(SystemExit, match="no tasking for 2026-01-05"):
        step(a, DAY, tmp_path / "t.parquet")


def test_a_lived_day_is_reported_and_make_run_does_not_step_it_again(worlds, tmp_path):
    """A day happens once: a second make run on the same world neither re-tasks nor
    re-steps it (a re-published tasking would carry what the platform learnt since)."""
    from types import SimpleNamespace

    from orchestration.twin_days import first_twin_day, step_twin_days
    from synthetic.twin import stepped

    a, sa, _ = worlds["a"]
    assert stepped(a, DAY) == sa
    assert stepped(a, "2026-01-06") is None

    day = first_twin_day(a)
    world = _copy_world(a, tmp_path / "w")
    _tasking(a, tmp_path / "t.parquet", day=day)
    lived = step(world, day, tmp_path / "t.parquet")
    files = {p: p.stat().st_mtime_ns for p in (world / "landing").rglob(f"*{day}*") if p.is_file()}
    assert files, "the stepped day wrote no deliveries"

    def must_not_run(*args, **kwargs):
        raise AssertionError(f"a lived day was re-run: {args} {kwargs}")

    said = []
    out = step_twin_days(SimpleNamespace(twin_days=1), world, must_not_run, must_not_run,
                         log=said.append)  # fmt: skip
    assert out == [{k: v for k, v in lived.items() if k != "planted"} | {"stepped_now": False}]
    assert said == [f"twin day {day}: already happened, not stepped again"]
    assert {p: p.stat().st_mtime_ns for p in files} == files


def test_the_days_deliveries_and_truth_are_owner_only(worlds):
    """Calls carry addresses and GPS carries officers: created 0600 (folders 0700)."""
    a, _, _ = worlds["a"]
    made = [*_files(a).values(), *(a / "truth" / "twin" / DAY).iterdir()]
    assert made
    for path in made:
        assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))
    assert (a / "truth" / "twin" / DAY).stat().st_mode & 0o077 == 0


def test_occurrence_refs_keep_the_contracts_twelve_digits_past_a_thousand_a_day():
    """The large world's twin days have more than a thousand crimes a day; a three-digit
    counter made 13-digit references, the contract quarantined half the day and its
    load failed (seen in a large make run)."""
    import re

    import pandas as pd

    from quality.contracts.agencies import agency_contracts
    from synthetic.twin import occurrence_refs

    contract = agency_contracts()["police.occurrences"]
    (field,) = [f for f in contract.fields if f.name == "occurrence_ref"]
    refs = occurrence_refs(pd.Timestamp("2026-01-01"), 1500)
    assert len(set(refs)) == 1500
    assert all(re.fullmatch(field.pattern, r) for r in refs)
