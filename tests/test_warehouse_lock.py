"""The warehouse's reader-writer lock across real processes (config.locks).

DuckDB refuses a second process outright ("Could not set lock on file") when
one writes; the lock makes readers share the file and a writer wait for them.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import duckdb
import pytest

from config.locks import warehouse_lock
from config.resources import PlatformConfig

REPO = Path(__file__).resolve().parents[1]

READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from config.resources import PlatformConfig
    opened, release = Path(sys.argv[1]), Path(sys.argv[2])
    with PlatformConfig().warehouse(read_only=True) as con:
        assert con.execute("select count(*) from t").fetchone()[0] == 3
        opened.write_text("open")
        while not release.exists():
            time.sleep(0.02)
    """
)


@pytest.fixture
def lone_warehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("VRDP_DATA_ROOT", str(tmp_path))
    path = PlatformConfig().resolve().warehouse_path
    path.parent.mkdir(parents=True)
    con = duckdb.connect(str(path))
    con.execute("create table t as select * from range(3) r(i)")
    con.close()
    return path


def _reader(tmp_path):
    """A process holding the warehouse open to read until told to stop."""
    opened, release = tmp_path / "opened", tmp_path / "release"
    proc = subprocess.Popen(
        [sys.executable, "-c", READER, str(opened), str(release)],
        cwd=REPO,
        env={**__import__("os").environ, "PYTHONPATH": str(REPO)},
    )
    while not opened.exists():
        assert proc.poll() is None, "the reader process ended before opening the warehouse"
        threading.Event().wait(0.02)
    return proc, release


def _waiting_on(lock: Path) -> bool:
    """Whether some process waits for ``lock`` (Linux lists waiters in /proc/locks as ->)."""
    import os

    inode = os.stat(lock).st_ino
    lines = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and line.split()[-3].endswith(f":{inode}") for line in lines)


def _wait_until(condition, attempts: int = 500) -> None:
    for _ in range(attempts):
        if condition():
            return
        threading.Event().wait(0.02)
    raise AssertionError("the writer neither failed nor waited")


def test_readers_in_two_processes_share_the_warehouse_and_a_writer_waits_for_them(
    lone_warehouse, tmp_path
):
    platform = PlatformConfig()
    proc, release = _reader(tmp_path)
    try:
        # a second reader (this process) opens it while the other holds it
        with platform.warehouse(read_only=True) as con:
            assert con.execute("select count(*) from t").fetchone()[0] == 3
        # a writer waits for the reader instead of failing on DuckDB's own lock
        outcome = {}

        def write():
            try:
                with platform.warehouse(read_only=False) as con:
                    con.execute("insert into t values (3)")
            except Exception as exc:  # reported by the assertion below
                outcome["error"] = exc

        writer = threading.Thread(target=write)
        writer.start()
        # release the reader only once the writer has tried: failed, or is waiting
        _wait_until(lambda: "error" in outcome or _waiting_on(Path(f"{lone_warehouse}.lock")))
        release.write_text("go")
        writer.join(timeout=60)
        assert not writer.is_alive()
        assert "error" not in outcome, outcome.get("error")
    finally:
        release.write_text("go")
        proc.wait(timeout=60)
    assert proc.returncode == 0
    con = duckdb.connect(str(lone_warehouse), read_only=True)
    assert con.execute("select count(*) from t").fetchone()[0] == 4
    con.close()


def test_without_the_lock_duckdb_refuses_the_writer(lone_warehouse, tmp_path):
    """Why the lock exists: the same writer, not waiting, fails while a reader is open."""
    proc, release = _reader(tmp_path)
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(lone_warehouse))
    finally:
        release.write_text("go")
        proc.wait(timeout=60)


def test_an_exclusive_holder_keeps_readers_out_until_it_is_done(lone_warehouse):
    """A reader started while a writer holds the lock opens only after it ends."""
    import fcntl
    import os

    seen = {}
    with warehouse_lock(lone_warehouse, exclusive=True):
        fd = os.open(f"{lone_warehouse}.lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # a reader would have to wait
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(fd)

        def read():
            with PlatformConfig().warehouse(read_only=True) as con:
                seen["rows"] = con.execute("select count(*) from t").fetchone()[0]

        reader = threading.Thread(target=read)
        reader.start()
        con = duckdb.connect(str(lone_warehouse))  # the writer's own connection
        con.execute("insert into t values (3)")
        con.close()
        assert "rows" not in seen
    reader.join(timeout=60)
    assert seen == {"rows": 4}
