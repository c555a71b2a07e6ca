"""The warehouse's reader-writer lock (no Dagster here: the dashboard takes it too)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["warehouse_lock"]


@contextmanager
def warehouse_lock(warehouse_path, *, exclusive: bool) -> Iterator[None]:
    """Hold the warehouse's reader-writer lock: shared to read, exclusive to write.

    DuckDB lets one process open a database file to write, or any number to
    read, never both: a second process fails at once ("Could not set lock on
    file"). Everything that opens the warehouse (and the restricted identity
    database it attaches) takes this lock first, so readers in several processes
    share it, a writer (dbt, person linkage, the retention purge) waits until
    they are done and has the files alone, and a reader waits for a writer.
    It is an advisory ``flock`` (POSIX: Linux, macOS) on ``<warehouse>.lock``
    beside the file, held until the block ends and released by the kernel if
    the process dies (no stale lock). A lock is per open file, so two threads
    of one process wait for each other as two processes do; a block must not
    take the exclusive lock while the same thread holds the shared one (it
    would wait for itself).

    >>> import tempfile, pathlib
    >>> w = pathlib.Path(tempfile.mkdtemp()) / "w.duckdb"
    >>> with warehouse_lock(w, exclusive=False), warehouse_lock(w, exclusive=False):
    ...     "two readers at once"
    'two readers at once'
    """
    import fcntl
    from pathlib import Path

    lock = Path(f"{warehouse_path}.lock")
    if exclusive or not lock.exists():
        lock.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            if exclusive:
                raise
            # a reader that may not create the lock file (a read-only data root): no
            # writer has ever taken it, so there is nothing to wait for
            yield
            return
    else:  # a reader needs no write access to the lock file (e.g. the dashboard's user)
        fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing the file releases its lock
