"""The lawful-basis and retention registers: complete, enforced, published."""

import shutil

import dagster as dg
import pandas as pd
import pytest
import yaml

from assets.governance.transparency import transparency_page
from assets.sources.agencies import LANDING_SOURCES, agency_source_assets
from config.resources import PlatformConfig
from vrdp.governance.register import (
    GOVERNANCE_DIR,
    RegisterError,
    bases_for,
    load_register,
    render_html,
)

POLICE_UK_SOURCES = ["police_uk.street_crimes", "police_uk.stop_searches"]


def test_every_source_the_platform_loads_has_a_lawful_basis_and_retention_rule():
    reg = load_register()
    loaded = [s.source for s in LANDING_SOURCES] + POLICE_UK_SOURCES
    assert sorted(set(loaded) - set(reg.sources)) == []
    for name, entry in reg.sources.items():
        assert entry.retention in reg.rules, name
        assert entry.roles and entry.dsa and entry.condition, name
    # person-level partner data: the Serious Violence Duty's exclusions are recorded
    for name in ("social_care.cin_referrals", "nhs.safeguarding"):
        assert "EXCLUDED" in reg.sources[name].sharing and reg.sources[name].restricted
    assert reg.sources["police.nominals"].basis.startswith("DPA 2018 Part 3")
    # every derived table and output has a retention rule too
    for table, rule in reg.derived.items():
        assert rule in reg.rules, table
    assert set(reg.outputs) <= {k.removeprefix("exports.") for k in reg.derived}


def test_a_register_entry_without_a_field_or_rule_is_refused(tmp_path):
    shutil.copytree(GOVERNANCE_DIR, tmp_path / "g")
    doc = yaml.safe_load((tmp_path / "g" / "lawful_basis.yaml").read_text())
    doc["sources"]["police.nominals"]["retention"] = "forever"
    (tmp_path / "g" / "lawful_basis.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(RegisterError, match=r"police\.nominals.*'forever'"):
        load_register(tmp_path / "g")


def test_a_source_with_no_entry_is_refused_by_its_asset(data_root, tmp_path, monkeypatch):
    shutil.copytree(GOVERNANCE_DIR, tmp_path / "g")
    doc = yaml.safe_load((tmp_path / "g" / "lawful_basis.yaml").read_text())
    del doc["sources"]["probation.cases"]
    for used in doc["outputs"].values():
        if "probation.cases" in used:
            used.remove("probation.cases")
    (tmp_path / "g" / "lawful_basis.yaml").write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("VRDP_GOVERNANCE_DIR", str(tmp_path / "g"))
    folder = data_root / "landing" / "probation" / "cases" / "2024-01"
    folder.mkdir(parents=True)
    (folder / "probation_cases_2024-01.csv").write_text("event_id\nE1\n")
    (asset,) = [
        a
        for a in agency_source_assets()
        if getattr(a, "op", None) and a.op.name == "probation_cases_source"
    ]
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("probation_cases_deliveries", ["2024-01"])
    result = dg.materialize(
        [asset],
        partition_key="2024-01",
        instance=instance,
        resources={"platform": PlatformConfig()},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.user_failure_data.description
    assert "'probation.cases' has no entry in the lawful-basis register" in message
    assert not (data_root / "lake" / "probation").exists()  # nothing loaded


def test_transparency_page_lists_every_source_with_its_basis(data_root):
    result = dg.materialize([transparency_page], resources={"platform": PlatformConfig()})
    assert result.success
    page = (data_root / "exports" / "transparency" / "latest" / "index.html").read_text()
    reg = load_register()
    for name, entry in reg.sources.items():
        assert f"<td>{name}</td>" in page
        assert entry.dsa.split(" ")[0] in page
    md = (data_root / "exports" / "transparency" / "latest" / "transparency.md").read_text()
    assert md.count("\n| ") >= len(reg.sources) and "<script" not in render_html(reg)


def test_person_exports_and_api_snapshots_carry_the_bases_of_their_sources(tmp_path):
    from exports.persons import publish_safeguarding_view
    from serving.api.persons import PersonSnapshot

    ident = pd.DataFrame(
        {"person_key": ["k"], "record_uid": ["police:nominals:N1"], "seen_on": [pd.Timestamp(0)]}
    )
    bases = bases_for(load_register(), "persons_safeguarding")
    published = publish_safeguarding_view(tmp_path, ident, lawful_bases=bases)
    assert published.manifest["lawful_bases"] == bases
    snap = PersonSnapshot.load(published.path)
    sources = [b["source"] for b in snap.lawful_bases["sources"]]
    assert "nhs.safeguarding" in sources and snap.lawful_bases["register_version"] >= 1
