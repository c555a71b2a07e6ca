"""What every benchmark records beside its figures, written once.

The machine it ran on, the load average before and after (the machine is
shared: a figure measured under load says so), the peak memory of the
process, and the JSON file under ``bench/results/``.

>>> with measured() as run:
...     pass
>>> sorted(run)  # doctest: +NORMALIZE_WHITESPACE
['cpus', 'load_average_after', 'load_average_before', 'machine', 'peak_rss_mb',
 'python', 'seconds']
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["RESULTS", "load_average", "machine", "measured", "peak_rss_mb", "write_result"]

RESULTS = Path(__file__).resolve().parent / "results"


def peak_rss_mb() -> float:
    """Peak resident set of the calling process (MB).

    ``VmHWM`` from ``/proc`` (``ru_maxrss`` survives ``exec``, so a spawned
    worker would report its parent's peak); ``ru_maxrss`` elsewhere.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }


@contextmanager
def measured() -> Iterator[dict]:
    """Measure a block: yields a dict filled in when the block ends.

    Keys: ``seconds`` (wall), ``load_average_before``/``_after``,
    ``peak_rss_mb`` of this process, and :func:`machine`'s.
    """
    run: dict = {}
    before, t0 = load_average(), time.perf_counter()
    try:
        yield run
    finally:
        run.update(
            seconds=round(time.perf_counter() - t0, 1),
            load_average_before=before,
            load_average_after=load_average(),
            peak_rss_mb=peak_rss_mb(),
            **machine(),
        )


def write_result(name_or_path: str | Path, figures: dict, *, sort_keys: bool = False) -> Path:
    """Write ``figures`` as JSON to ``bench/results/<name>.json`` (or the path given)."""
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = RESULTS / f"{name_or_path}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=str, sort_keys=sort_keys) + "\n")
    return path
