"""How make run's processes ask the kernel for memory.

Two settings, both documented by their projects and read when a process starts:

* ``NUMPY_MADVISE_HUGEPAGE=0``: NumPy asks the kernel for transparent huge pages
  (``madvise``) on every array of 4 MB or more. Where the kernel then compacts
  memory synchronously to find a huge page (``/sys/kernel/mm/transparent_hugepage/defrag``
  set to ``madvise``, as on the two-core machine this platform is measured on),
  a step that allocates many large arrays spends more time in the kernel than in
  Python: the patrol visits of the large world (4 million pings) took 12.5 s, of
  which 8.8 s were system time, and 5.8-6.8 s without the advice.
* ``GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=...``: glibc
  gives every block over 32 MB its own mapping, returned to the kernel when freed
  and faulted in page by page when the next array asks for as much; a pipeline of
  large frames does that all the time. With no mappings and a high trim threshold
  the memory a freed array held is reused. The same visits step: 4.5-5.1 s (0.5-0.9 s
  system time). The price is that a process keeps the memory it freed, up to
  its own peak, until it ends or calls :func:`release_free_memory`: make run's
  processes run many Dagster runs one after another, two or three at a time,
  and each gives back what it freed after every run
  (:func:`orchestration.jobs.run_stage`), so that one process's past peak does
  not sit beside another's present one.

:func:`ensure` re-executes the current command with the settings when they are
not in its environment (``VRDP_MEMORY_TUNING=0`` turns this off; a
``GLIBC_TUNABLES`` already set is left as it is); the processes it starts (make
run's workers, dbt) inherit them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["MEMORY_ENV", "memory_env", "ensure", "release_free_memory"]

#: The settings, as environment variables.
MEMORY_ENV = {
    "NUMPY_MADVISE_HUGEPAGE": "0",
    "GLIBC_TUNABLES": "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296",
}
_SWITCH = "VRDP_MEMORY_TUNING"  # named in config.settings.ENV_VARS


def memory_env(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with :data:`MEMORY_ENV` added where it sets none of its own.

    >>> memory_env({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})["GLIBC_TUNABLES"]
    'glibc.malloc.arena_max=2'
    >>> memory_env({})["NUMPY_MADVISE_HUGEPAGE"]
    '0'
    >>> memory_env({"VRDP_MEMORY_TUNING": "0"}).get("NUMPY_MADVISE_HUGEPAGE")
    """
    env = dict(environ)
    if env.get(_SWITCH, "1") != "0":
        for name, value in MEMORY_ENV.items():
            env.setdefault(name, value)
    return env


def ensure(argv: list[str]) -> None:
    """Re-execute ``python <argv>`` with :func:`memory_env` unless it is already in place.

    Call it first thing in a command's ``__main__`` (the settings are read when
    the interpreter and NumPy start). ``argv`` is what follows the interpreter,
    e.g. ``["-m", "orchestration.main", *sys.argv[1:]]``. Returns only when
    nothing needs changing.
    """
    env = memory_env(os.environ)
    if all(os.environ.get(k) == v for k, v in env.items() if k in MEMORY_ENV):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *argv], env)


def release_free_memory() -> bool:
    """Give the kernel back the memory this process has freed; whether any was.

    glibc's ``malloc_trim(0)``: every free page of every arena is returned
    (``MADV_DONTNEED``), whatever the trim threshold. Cheap (a walk over the
    free chunks) and harmless to call often. False where the C library has no
    ``malloc_trim`` (not glibc).

    >>> isinstance(release_free_memory(), bool)
    True
    """
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))
