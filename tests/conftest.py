"""Shared fixtures: every test gets its own data root, warehouse and Dagster instance."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_ignore_collect(collection_path, config):
    """Do not collect conftest files as doctest modules: folders' conftests are
    all named ``conftest`` and would clash in ``sys.modules`` (pytest still
    loads them as conftests; they hold no doctests)."""
    if collection_path.name == "conftest.py":
        return True
    return None


def pytest_configure(config):
    """A test-only pseudonym secret, so assets that derive keys can run in tests."""
    os.environ.setdefault("VRDP_PSEUDONYM_SECRET", "test-only-secret")


@pytest.fixture
def data_root(tmp_path, monkeypatch) -> Path:
    """A temporary VRDP_DATA_ROOT with the City of London force selected (fast)."""
    root = tmp_path / "data"
    monkeypatch.setenv("VRDP_DATA_ROOT", str(root))
    monkeypatch.setenv("VRDP_POLICE_UK_FORCE", "city-of-london")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # DuckDB and friends write under $HOME
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return root


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    """The ``small`` simulated world (seed 7), generated once per test session."""
    from synthetic.config import SCALES, WorldConfig
    from synthetic.world import generate

    out = tmp_path_factory.mktemp("world_small")
    generate(WorldConfig(seed=7, scale=SCALES["small"]), out, log=lambda *_: None)
    return out
