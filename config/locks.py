"""The warehouse's reader-writer lock (no Dagster here: the dashboard takes it too)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["warehouse_lock", "open_warehouse"]


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

    fd = _lock_file(Path(f"{warehouse_path}.lock"), exclusive)
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        if fd is not None:
            os.close(fd)  # closing the file releases its lock


def _lock_file(lock: Path, exclusive: bool) -> int | None:
    """The lock file, open; None for a reader that may not create it.

    A reader opens an existing lock file read-only (the dashboard's user needs no
    write access to it). A reader that may not create it (a read-only data root)
    has nothing to wait for: no writer has ever taken it.
    """
    if not exclusive and lock.exists():
        return os.open(lock, os.O_RDONLY)
    lock.parent.mkdir(parents=True, exist_ok=True)
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if exclusive:
            raise
        return None


@contextmanager
def open_warehouse(path, *, read_only: bool = True):
    """A DuckDB connection to the warehouse file ``path`` under :func:`warehouse_lock`.

    Shared to read, exclusive to write, for as long as the connection is open;
    closed at the end of the block.
    """
    import duckdb

    with warehouse_lock(path, exclusive=not read_only):
        con = duckdb.connect(str(path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()
