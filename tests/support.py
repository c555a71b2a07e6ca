"""Paths and helpers shared by tests (import as ``support``; tests/ is on pythonpath)."""

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PUBLIC = REPO / "public_data"
COL_STREET = PUBLIC / "police_uk" / "city_of_london" / "street"
TVP_STREET = PUBLIC / "police_uk" / "thames_valley" / "street"


def land(data_root: Path, *files: Path) -> Path:
    """Copy files into the street-level landing folder and return the folder."""
    landing = data_root / "landing" / "police_uk" / "street"
    landing.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy(f, landing / f.name)
    return landing
