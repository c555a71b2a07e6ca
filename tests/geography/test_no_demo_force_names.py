"""No module of the platform names the demo force outside the demo's config.

A force is configuration (``VRDP_POLICE_UK_FORCE``, ``VRDP_FORCE_DISTRICTS``);
only ``config/demo.py`` names the demo force, its files and its box. The
simulated world (``synthetic/``), benchmarks and tests are demo inputs and
checks, not the platform, and may name it.
"""

import re

from support import REPO

PLATFORM = ("config", "quality", "vrdp", "exports", "assets", "serving", "sensors", "orchestration")
ALLOWED = {"config/demo.py"}
#: "Thames Valley", "thames-valley", "thames_valley", split over lines or not; and its box
NAME = re.compile(r"thames[\s_#-]*valley|\btvp\b|417_?000, *e_max", re.IGNORECASE)


def _modules():
    for package in PLATFORM:
        for path in sorted((REPO / package).rglob("*")):
            if path.suffix in {".py", ".sql", ".yml", ".yaml"} and "__pycache__" not in path.parts:
                yield path
    for path in sorted((REPO / "dbt_project" / "models").rglob("*.sql")):
        yield path


def test_only_the_demo_config_names_the_demo_force():
    offenders = []
    checked = 0
    for path in _modules():
        rel = path.relative_to(REPO).as_posix()
        checked += 1
        if rel in ALLOWED:
            continue
        for match in NAME.finditer(path.read_text(encoding="utf-8")):
            offenders.append(f"{rel}: {match.group(0)!r}")
    assert checked > 100
    assert not offenders, "\n".join(offenders)


def test_the_demo_config_does_name_it():
    """The check above can fail: the pattern finds the name where it is."""
    text = (REPO / "config" / "demo.py").read_text()
    assert NAME.search(text)
