"""Owner-only files, made so when they are created (a umask), never by a later chmod.

A file created 0644 and tightened afterwards is readable in between, and a
crash between the two leaves it open; creating it under ``umask 077`` gives
``0600`` (files) and ``0700`` (folders) from the first byte. Everything that
writes direct identifiers under the data root goes through :func:`owner_only`:
the restricted identity database (:func:`ensure_restricted_db`), the dbt run
that fills it, landed person-level deliveries (:func:`copy_owner_only`) and the
simulated world. Lake Parquet is written through ``tempfile.mkstemp``, which
creates ``0600`` files whatever the umask (:func:`vrdp.lake.write_parquet_atomic`).

The umask is per process: :func:`owner_only` sets it for the duration of a
block and restores it, so call it where one step of a run writes (Dagster runs
each step in its own process; in-process test runs execute steps one at a time).
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "OWNER_ONLY_UMASK",
    "owner_only",
    "copy_owner_only",
    "ensure_restricted_db",
    "attach_restricted",
    "RESTRICTED_CATALOG",
    "open_to_others",
]

#: ``umask 077``: new files 0600, new folders 0700
OWNER_ONLY_UMASK = 0o077
#: the alias the restricted identity database is attached under (dbt profile too)
RESTRICTED_CATALOG = "restricted"


@contextmanager
def owner_only() -> Iterator[None]:
    """Create files and folders owner-only inside the block (``umask 077``).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d, owner_only():
    ...     p = Path(d) / "secret.txt"
    ...     _ = p.write_text("x")
    ...     oct(p.stat().st_mode & 0o777)
    '0o600'
    """
    old = os.umask(OWNER_ONLY_UMASK)
    try:
        yield
    finally:
        os.umask(old)


def copy_owner_only(src: Path, dest: Path) -> Path:
    """Copy ``src`` to ``dest`` atomically (hidden temporary name, then rename), owner-only.

    Missing folders are created 0700. Only the bytes are copied, never the
    source's permission bits.
    """
    dest = Path(dest)
    with owner_only():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        tmp.unlink(missing_ok=True)  # a left-over temporary keeps its old mode otherwise
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    return dest


def ensure_restricted_db(path: Path) -> Path:
    """Create the restricted DuckDB file (and its folder) owner-only if it is missing.

    DuckDB creates a database file with the process umask when it is first
    attached; creating it here first, under ``umask 077``, means dbt or a
    reader attaching it later opens an existing ``0600`` file.
    """
    import duckdb

    path = Path(path)
    with owner_only():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            duckdb.connect(str(path)).close()
    return path


def attach_restricted(con, path: Path, *, read_only: bool = True) -> None:
    """Attach the restricted identity database to ``con`` as ``restricted``.

    Tables are then ``restricted.identity.<table>`` and
    ``restricted.intermediate.<table>``. A writer creates the file owner-only
    when missing; a reader needs it to exist.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"{path}: the restricted identity database has not been built")
    if not read_only:
        ensure_restricted_db(path)
    mode = " (READ_ONLY)" if read_only else ""
    from vrdp.lake import sql_string

    with owner_only():  # a write-ahead log created by this connection stays owner-only
        con.execute(f"attach if not exists {sql_string(path)} as {RESTRICTED_CATALOG}{mode}")


def open_to_others(root: Path) -> list[Path]:
    """Files and folders under ``root`` that group or others may read, write or enter.

    Symbolic links are not followed (their own bits mean nothing on Linux).
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                continue
            if st.st_mode & 0o077:
                found.append(p)
    return sorted(found)
