"""Shared fixtures: every test gets its own data root, warehouse and Dagster instance."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PUBLIC = REPO / "public_data"
COL_STREET = PUBLIC / "police_uk" / "city_of_london" / "street"
TVP_STREET = PUBLIC / "police_uk" / "thames_valley" / "street"


@pytest.fixture
def data_root(tmp_path, monkeypatch) -> Path:
    """A temporary VRDP_DATA_ROOT with the City of London force selected (fast)."""
    root = tmp_path / "data"
    monkeypatch.setenv("VRDP_DATA_ROOT", str(root))
    monkeypatch.setenv("VRDP_POLICE_UK_FORCE", "city-of-london")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # DuckDB and friends write under $HOME
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return root


def land(data_root: Path, *files: Path) -> Path:
    """Copy files into the street-level landing folder and return the folder."""
    landing = data_root / "landing" / "police_uk" / "street"
    landing.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy(f, landing / f.name)
    return landing


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    """The ``small`` simulated world (seed 7), generated once per test session."""
    from synthetic.config import SCALES, WorldConfig
    from synthetic.world import generate

    out = tmp_path_factory.mktemp("world_small")
    generate(WorldConfig(seed=7, scale=SCALES["small"]), out, log=lambda *_: None)
    return out
