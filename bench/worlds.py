"""The simulated worlds the benchmarks run on, generated when not given.

Benchmarks take a world folder (``--world``); when it does not hold a world of
the expected scale and seed, one is generated once into the benchmark cache
(``$VRDP_BENCH_CACHE``, default ``<tmp>/vrdp_bench_cache``) and reused by later
runs. Generation is never part of a timed figure.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

CACHE = Path(os.environ.get("VRDP_BENCH_CACHE", Path(tempfile.gettempdir()) / "vrdp_bench_cache"))

__all__ = ["CACHE", "ensure_world"]


def _holds(path: Path, scale: str, seed: int) -> bool:
    meta = path / "truth" / "world.json"
    if not meta.exists():
        return False
    recorded = json.loads(meta.read_text())
    return recorded.get("scale") == scale and recorded.get("seed") == seed


def ensure_world(path: Path | str | None, scale: str, seed: int = 7, log=print) -> Path:
    """``path`` if it holds the ``scale`` world of ``seed``, else the cached one (generated once).

    >>> ensure_world(None, "no-such-scale")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    KeyError: 'no-such-scale'
    """
    from synthetic.config import SCALES, WorldConfig
    from synthetic.world import generate

    if path is not None and _holds(Path(path), scale, seed):
        return Path(path)
    config = WorldConfig(seed=seed, scale=SCALES[scale])
    out = CACHE / f"w_{scale}-seed{seed}"
    if not _holds(out, scale, seed):
        log(f"{path or 'no world given'}: generating the {scale} world, seed {seed}, in {out}")
        generate(config, out, log=lambda *_: None)
    return out
