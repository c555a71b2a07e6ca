"""Prepare what Dagster needs before it loads definitions: the dbt manifest.

Run by ``make prepare`` (and so by ``make run``, ``make test`` and ``make ui``);
never at import. ``python -m orchestration.prepare``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from config.settings import REPO_ROOT, settings

__all__ = ["prepare_dbt_manifest", "main"]


def prepare_dbt_manifest() -> Path:
    """Run ``dbt parse`` and return the manifest's path.

    Raises
    ------
    RuntimeError
        If dbt fails; the message carries dbt's own output.
    """
    project = REPO_ROOT / "dbt_project"
    dbt = Path(sys.executable).parent / "dbt"
    cmd = [
        str(dbt) if dbt.exists() else "dbt",
        "parse",
        "--quiet",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
    ]
    env = {**os.environ, "VRDP_DATA_ROOT": str(settings().data_root)}
    done = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{done.stdout}\n{done.stderr}")
    manifest = project / "target" / "manifest.json"
    if not manifest.exists():
        raise RuntimeError(f"dbt parse did not write {manifest}")
    return manifest


def main() -> None:
    """Entry point: prepare the manifest and say where it is."""
    print(f"dbt manifest ready: {prepare_dbt_manifest()}")


if __name__ == "__main__":
    main()
