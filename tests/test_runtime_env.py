"""make run's processes start with the memory settings of config.runtime (a real re-exec)."""

import os
import subprocess
import sys

from config import runtime
from config.settings import REPO_ROOT

PROBE = """
import os, sys
from config import runtime
runtime.ensure([__file__])
from numpy._core.multiarray import _set_madvise_hugepage
print(os.getpid(), _set_madvise_hugepage(False), os.environ.get("GLIBC_TUNABLES", "-"))
"""


def _probe(tmp_path, **extra):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k not in runtime.MEMORY_ENV}
    env.pop("VRDP_MEMORY_TUNING", None)
    env.update(PYTHONPATH=str(REPO_ROOT), **extra)
    run = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=True
    )
    _pid, huge, tunables = run.stdout.split()
    return huge == "True", tunables


def test_a_command_restarts_with_numpy_and_glibc_settings(tmp_path):
    huge, tunables = _probe(tmp_path)
    assert not huge  # NumPy read NUMPY_MADVISE_HUGEPAGE=0 when it started
    assert tunables == runtime.MEMORY_ENV["GLIBC_TUNABLES"]


def test_the_settings_can_be_turned_off_and_own_tunables_are_kept(tmp_path):
    huge, tunables = _probe(tmp_path, VRDP_MEMORY_TUNING="0")
    assert huge and tunables == "-"
    huge, tunables = _probe(tmp_path, GLIBC_TUNABLES="glibc.malloc.arena_max=2")
    assert not huge and tunables == "glibc.malloc.arena_max=2"


FREED = """
import numpy as np
from config import runtime
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
arrays = [np.ones(2_000_000) for _ in range(50)]  # 800 MB in 16 MB blocks
peak = rss()
del arrays
freed = rss()
released = runtime.release_free_memory()
print(peak, freed, rss(), released)
"""


def test_memory_freed_under_the_settings_is_given_back_on_release(tmp_path):
    """Under the settings a freed array stays in the process (no mapping of its own,
    a trim threshold above it); release_free_memory returns it to the kernel."""
    script = tmp_path / "freed.py"
    script.write_text(FREED)
    env = {**os.environ, **runtime.MEMORY_ENV, "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=True
    )
    peak, freed, released_kib, released = run.stdout.split()
    mib = 1024
    assert int(peak) - int(freed) < 100 * mib  # kept: the settings' price
    assert released == "True" and int(freed) - int(released_kib) > 600 * mib
