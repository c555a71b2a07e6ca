"""Dagster's SQLite event log with its database connections kept open.

Dagster's :class:`~dagster._core.storage.event_log.sqlite.sqlite_event_log.SqliteEventLogStorage`
opens a new SQLAlchemy engine and SQLite connection for every read and write
and closes it after (``poolclass=NullPool``). A stored event opens up to six: its
run's shard, then the cross-run index for asset materializations and check
evaluations. In write-ahead-log mode, closing the last connection to a file
also checkpoints the log into the database. A make run stores about 7,400
events (a materialization, quarantine output and four check evaluations per
delivery), and measured with cProfile on 46 GPS deliveries (one run, 393
events) ``store_event`` took 4.8 s of the run's 15 s, most of it connecting and
closing.

:class:`PooledSqliteEventLogStorage` is the same storage (same files, same
tables, same write-ahead log, same lock around each transaction) with one
engine per shard kept, each holding its SQLite connection open between
transactions. The measured run stored the same events in 1.0 to
1.5 s (run 10 to 12 s instead of 14 to 15 s). Engines are kept for the index
and the few most recent run shards (:data:`MAX_ENGINES`); a run shard's engine
is disposed before its file is deleted. An engine created in another process
(after ``fork``) is never used: each process opens its own. Kept connections
commit with ``synchronous=NORMAL``, SQLite's advice for write-ahead-log mode: no
sync to disk per commit (each took about 5 ms on this machine's disk while other
work ran: about 7 s of a 30 s dbt step), only at checkpoints. An event survives
its process being killed; an operating system crash or power cut can lose the
last few, leaving a consistent database, and make run then redoes what they
recorded.

Connections are kept only in a process that sets ``VRDP_KEEP_EVENT_LOG_OPEN=1``
(make run sets it for itself and its workers). Elsewhere, for example the run
processes ``make ui`` launches, the storage behaves exactly as Dagster's: the UI
shows a run's events live by watching its shard's ``.db`` file, which a kept
connection would leave unchanged until a checkpoint. For the same reason a kept
run shard's connection is closed (checkpointing the file) as soon as its run
succeeds, fails or is cancelled, so a UI watching a make run's run sees it end.

``orchestration/dagster.yaml`` selects it with ``event_log_storage``; the run
and schedule storages stay Dagster's default SQLite ones. The module must be
importable where the instance is loaded: make run, its workers and the tests
run from the repository root, and ``make ui`` sets ``PYTHONPATH``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import DagsterEventType, Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from sqlalchemy import create_engine
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine

__all__ = ["KEEP_OPEN_ENV", "MAX_ENGINES", "PooledSqliteEventLogStorage", "default_base_dir"]

#: Engines kept open per process: the index and the most recent run shards.
MAX_ENGINES = 8

#: Set to ``1`` in a process (and the processes it spawns) to keep connections open.
KEEP_OPEN_ENV = "VRDP_KEEP_EVENT_LOG_OPEN"


def _synchronous_normal(dbapi_connection, _record) -> None:
    """No sync to disk at each commit, only at checkpoints (SQLite's advice for WAL mode).

    A committed event survives the process being killed; an operating system
    crash or power cut can lose the last ones (the database stays consistent).
    """
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


_RUN_ENDS = frozenset(
    {DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE, DagsterEventType.RUN_CANCELED}
)


def default_base_dir() -> str:
    """Dagster's default event log folder: ``$DAGSTER_HOME/history/runs``."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError(
            "PooledSqliteEventLogStorage without base_dir needs DAGSTER_HOME (the folder "
            "holding dagster.yaml)"
        )
    return os.path.join(home, "history", "runs", "")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log storage that keeps one open connection per shard (see the module)."""

    def __init__(self, base_dir: str | None = None, inst_data=None) -> None:
        # Set before the parent's constructor: creating the index shard connects.
        self._engines: OrderedDict[str, tuple[int, Engine]] = OrderedDict()
        super().__init__(base_dir or default_base_dir(), inst_data=inst_data)

    @classmethod
    def config_type(cls):
        """``base_dir`` is optional: Dagster's default folder under ``$DAGSTER_HOME``."""
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        """Build from ``dagster.yaml``'s ``event_log_storage.config``."""
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        """The engine of ``shard`` in this process, made on first use; least recent ones closed."""
        pid = os.getpid()
        kept = self._engines.get(shard)
        if kept is not None and kept[0] == pid:
            self._engines.move_to_end(shard)
            return kept[1]
        if kept is not None:  # inherited through fork: its connections are the parent's
            del self._engines[shard]
        engine = create_engine(
            self.conn_string_for_shard(shard),
            pool_size=1,
            max_overflow=2,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        sa_event.listen(engine, "connect", _synchronous_normal)
        self._engines[shard] = (pid, engine)
        while len(self._engines) > MAX_ENGINES:
            oldest = next(s for s in self._engines if s != INDEX_SHARD_NAME)
            self._dispose_engine(oldest)
        return engine

    def _dispose_engine(self, shard: str) -> None:
        pid, engine = self._engines.pop(shard, (None, None))
        if engine is not None and pid == os.getpid():
            engine.dispose()

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """A transaction on ``shard``'s kept connection (Dagster's own when not keeping)."""
        if os.environ.get(KEEP_OPEN_ENV) != "1":
            with super()._connect(shard) as conn:
                yield conn
            return
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def store_event(self, event) -> None:
        """Store as the parent does; a run's last event closes its shard's connection."""
        super().store_event(event)
        if event.is_dagster_event and event.dagster_event_type in _RUN_ENDS:
            with self._db_lock:
                self._dispose_engine(event.run_id)

    def wipe(self) -> None:
        """Close every kept connection, then wipe as the parent does."""
        with self._db_lock:
            for shard in list(self._engines):
                self._dispose_engine(shard)
        super().wipe()

    def dispose(self) -> None:
        """Close every kept connection (the instance is being disposed)."""
        with self._db_lock:
            for shard in list(self._engines):
                self._dispose_engine(shard)
        super().dispose()
