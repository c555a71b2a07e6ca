"""The demo's data: the shipped data.police.uk months and the simulated world.

``make run`` lands these in the landing zone as if the force and its partners
had delivered them; each function is safe to repeat.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from config.settings import Settings

__all__ = [
    "DEMO_YEAR",
    "TRIAL_DESIGN_DATASETS",
    "demo_deliveries",
    "land_demo_data",
    "simulated_world",
    "world_to_generate",
    "land_world",
]

#: The patrol trial's published design, read by the patrol assets (not source assets).
TRIAL_DESIGN_DATASETS = [
    ("patrol", "trial_units", "trial_units.csv"),
    ("patrol", "trial_allocation", "trial_allocation.csv"),
]

#: The demo lands the 2025 releases. The demo force's shipped 2018-06 month is
#: kept for boundary-vintage tests (LSOA 2011 codes), not for the demo window.
DEMO_YEAR = "2025"


def demo_deliveries(s: Settings) -> list[Path]:
    """Shipped street-level files of the configured force(s) for the demo year.

    Empty for a force that ships nothing: its own files are dropped into the
    landing folder instead (see :func:`land_demo_data`).
    """
    files: list[Path] = []
    for force in s.police_uk_forces:
        folder = s.public_data / "police_uk" / force.replace("-", "_") / "street"
        files += sorted(folder.glob(f"{DEMO_YEAR}-*-{force}-street.csv.gz"))
    return files


def land_demo_data(s: Settings) -> list[Path]:
    """Land the shipped months of the configured force(s); return every file of theirs in landing.

    A month the user already dropped into ``landing/police_uk/street`` (plain or
    gzipped, data.police.uk's name) is kept as delivered and the shipped copy is
    not landed beside it; shipped files are copied only when missing or changed.

    Raises
    ------
    SystemExit
        When the force ships nothing and no file of it is in the landing folder;
        the message says where to put the files and how they are named.
    """
    from vrdp.ingest.police_uk import find_street_files
    from vrdp.lake import sha256_file

    landing = s.landing_dir / "police_uk" / "street"
    landing.mkdir(parents=True, exist_ok=True)
    for src in demo_deliveries(s):
        force = src.name[8:].removesuffix("-street.csv.gz")
        dropped = find_street_files(landing, force).get(src.name[:7])
        if dropped is not None and dropped.name != src.name:
            continue  # the user's own file for this month wins
        dest = landing / src.name
        if not dest.exists() or sha256_file(dest) != sha256_file(src):
            tmp = dest.with_name(f".{dest.name}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
    landed = sorted(p for f in s.police_uk_forces for p in find_street_files(landing, f).values())
    if not landed:
        raise SystemExit(
            f"no data.police.uk street-level files for {s.police_uk_force}: download the "
            f"force's months from data.police.uk/data and put them in {landing} as "
            f"YYYY-MM-<force>-street.csv (or .csv.gz), e.g. "
            f"2025-01-{s.police_uk_forces[0]}-street.csv"
        )
    return landed


def world_to_generate(s: Settings) -> bool:
    """Whether :func:`simulated_world` will generate the world (not there yet for this seed)."""
    import json

    if s.world_scale == "none":
        return False
    meta = s.world_dir / "truth" / "world.json"
    if meta.exists():
        recorded = json.loads(meta.read_text())
        return not (recorded.get("seed") == s.world_seed and recorded.get("scale") == s.world_scale)
    return True


def simulated_world(s: Settings, log=print) -> Path | None:
    """Generate the simulated world once per seed and scale; None when disabled."""
    if s.world_scale == "none":
        return None
    out = s.world_dir
    if not world_to_generate(s):
        return out
    from synthetic.config import SCALES, WorldConfig
    from synthetic.world import generate
    from vrdp.governance.permissions import owner_only

    log(f"generating the simulated world ({s.world_scale}, seed {s.world_seed}) in {out} ...")
    with owner_only():  # person-level deliveries and truth: owner-only from creation
        generate(
            WorldConfig(seed=s.world_seed, scale=SCALES[s.world_scale]), out, log=lambda *_: None
        )
    return out


def land_world(s: Settings, world: Path) -> int:
    """Copy the world's agency deliveries into the landing zone unless already identical.

    The world's data.police.uk street files are not landed: street crime comes from
    the real shipped releases, so the two never mix. Its stop and search files are
    landed (the shipped real data is only a 40-row sample), with a provenance file
    saying they are simulated.
    """
    from assets.sources.agencies import LANDING_SOURCES
    from vrdp.governance.permissions import copy_owner_only
    from vrdp.lake import sha256_file

    copied = 0
    datasets = [(spec.agency, spec.dataset, spec.file_glob) for spec in LANDING_SOURCES]
    datasets += TRIAL_DESIGN_DATASETS
    for agency, dataset, glob in datasets:
        src_root = world / "landing" / agency / dataset
        for src in sorted(src_root.glob(f"*/{glob}")):
            dest = s.landing_dir / agency / dataset / src.parent.name / src.name
            if dest.exists() and (_same_stat(src, dest) or sha256_file(dest) == sha256_file(src)):
                continue
            copy_owner_only(src, dest)  # agency deliveries hold people: 0600 on creation
            shutil.copystat(src, dest)  # the modification time: _same_stat next time
            os.chmod(dest, 0o600)  # copystat copied the source's mode bits too
            copied += 1
    return copied + _land_world_stop_search(s, world)


def _same_stat(src: Path, dest: Path) -> bool:
    """Same size and modification time: a file this module copied and nobody changed since.

    Saves hashing the whole world on every run; a file whose size or time differs
    is compared by content.
    """
    a, b = src.stat(), dest.stat()
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _land_world_stop_search(s: Settings, world: Path) -> int:
    """Land the world's data.police.uk stop and search files, marked as simulated."""
    import json

    from assets.sources.police_uk_stop_search import PROVENANCE_FILE
    from vrdp.lake import sha256_file

    src_root = world / "landing" / "police_uk" / "stop_and_search"
    landing = s.landing_dir / "police_uk" / "stop_and_search"
    files = sorted(src_root.glob(f"*-{s.police_uk_force}-stop-and-search.csv"))
    if not files:
        return 0
    landing.mkdir(parents=True, exist_ok=True)
    record = landing / PROVENANCE_FILE
    origin = json.loads(record.read_text()) if record.exists() else {}
    copied = 0
    for src in files:
        dest = landing / src.name
        origin[src.name] = f"simulated world ({world.name}), not real data"
        if dest.exists() and sha256_file(dest) == sha256_file(src):
            continue
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        copied += 1
    tmp = record.with_name(f".{record.name}.tmp")
    tmp.write_text(json.dumps(origin, indent=1, sort_keys=True))
    os.replace(tmp, record)
    return copied
