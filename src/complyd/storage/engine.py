"""Engines and schema migrations for SQLite and PostgreSQL.

Owns connection settings: SQLite in WAL mode with synchronous=FULL (an acknowledged write
survives a crash or power loss), a busy timeout, and `BEGIN IMMEDIATE` for writes so two
writers never deadlock upgrading a read lock; PostgreSQL with a connection pool. Also applies
the Alembic migrations, one replica at a time, and on PostgreSQL gathers planner statistics
for tables that hold rows but have none (at migration, and every minute while autovacuum is
off). Must not know the tables' meaning.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from complyd.storage.memory import is_memory, keep_alive

log = logging.getLogger("complyd.storage")

MIGRATIONS = Path(__file__).parent / "migrations"
WRITE_OPTION = "complyd_write"


POOL_SIZE_PARAMETER = "pool_size"
BACKSTOP_CHECKPOINT_PAGES = 16384  # 64 MiB of WAL at 4 KiB pages


def create_engine(url: str, pool_size: int = 8) -> sa.Engine:
    """An engine for `url`. A PostgreSQL URL may set `?pool_size=N` (complyd's own parameter,
    not sent to the server): N connections for work on threads (this engine's pool), beside the
    N the event loop opens for the API's reads and writes (storage.aio), 2N in all."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    parsed = sa.make_url(url)
    size = parsed.query.get(POOL_SIZE_PARAMETER)
    if size is not None:
        if isinstance(size, tuple) or not size.isdigit() or int(size) < 1:
            raise ValueError(f"{POOL_SIZE_PARAMETER} must be a positive integer, not {size!r}")
        pool_size = int(size)
        parsed = parsed.difference_update_query([POOL_SIZE_PARAMETER])
    return sa.create_engine(parsed, pool_size=pool_size, max_overflow=0, pool_pre_ping=True)


def _sqlite_engine(url: str) -> sa.Engine:
    path = sa.make_url(url).database
    memory = is_memory(url)
    if path and path != ":memory:" and not memory:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # SQLite connections cost a file handle, not a server process: let readers on many threads
    # (the dashboard's among them) open what they need.
    engine = sa.create_engine(url, pool_size=8, max_overflow=64)
    if memory:
        keep_alive(engine)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event, below, issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Checkpoints run on a thread of their own (storage.writer.Checkpointer): a commit
        # that also had to copy the WAL back into the database would hold the write lock,
        # and every put waiting on it, for as long. This is only the backstop.
        cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# Held for the migration's transaction; keyed by schema, so stores in other schemas of the
# same database do not wait for each other.
_MIGRATION_LOCK = sa.text(
    "SELECT pg_advisory_xact_lock(hashtextextended("
    "'complyd.migrate:' || coalesce(current_schema(), ''), 0))"
)


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is current).

    Safe when several replicas start at once on one database: on PostgreSQL the first takes an
    advisory lock and migrates in one transaction (DDL is transactional there), the others wait
    for it and then find the schema current. On SQLite the write lock (`BEGIN IMMEDIATE`) does
    the same.
    """
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection:
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(_MIGRATION_LOCK)
            command.upgrade(_alembic_config(connection), "head")
            if connection.dialect.name == "postgresql":
                analyze_unanalyzed(connection)


# The schema's tables that hold rows but have never been analyzed, by hand or by autovacuum.
_UNANALYZED = sa.text(
    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
    "AND last_analyze IS NULL AND last_autoanalyze IS NULL "
    "AND pg_relation_size(relid) > 0 ORDER BY relname"
)
ANALYZE_INTERVAL_S = 60.0
_autovacuum_said = False


def analyze_unanalyzed(connection: sa.Connection) -> list[str]:
    """ANALYZE the tables of the schema that hold rows but have no planner statistics; returns
    their names.

    Without statistics PostgreSQL's planner cannot tell a tenant-wide index from the primary
    key: a lookup of one resource's summary rows (every put makes one) can then scan all of a
    tenant's rows. Autovacuum gathers statistics within a minute of a load, but not while it is
    off: a store gathers them when it opens, and while autovacuum is off, every minute
    (`Analyzer`), for tables that fill up later. Any statistics will do for that lookup: the
    tenant's columns hold few distinct values, so the planner then prefers the primary key."""
    tables = [str(name) for name in connection.execute(_UNANALYZED).scalars()]
    for name in tables:
        connection.exec_driver_sql(f'ANALYZE "{name}"')
    return tables


def autovacuum_off(engine: sa.Engine) -> bool:
    """Whether PostgreSQL's autovacuum is off; says so once per process, since complyd's tables
    then keep their dead rows and their statistics go stale."""
    global _autovacuum_said
    with engine.connect() as connection:
        off = connection.exec_driver_sql("SHOW autovacuum").scalar() == "off"
    if off and not _autovacuum_said:
        _autovacuum_said = True
        log.warning(
            "PostgreSQL's autovacuum is off: complyd's tables are neither vacuumed nor "
            "re-analyzed as they change, so they keep dead rows and the planner's statistics "
            "go stale (complyd gathers them only for tables that have none). Turn it on "
            "(autovacuum = on), or run VACUUM ANALYZE on complyd's schema regularly."
        )
    return off


class Analyzer:
    """Runs `analyze_unanalyzed` every `interval` seconds on a thread of its own, for tables
    that fill up after the store opened while autovacuum is off."""

    def __init__(self, engine: sa.Engine, interval: float = ANALYZE_INTERVAL_S) -> None:
        self._engine = engine
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="complyd-analyze", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                with self._engine.begin() as connection:
                    tables = analyze_unanalyzed(connection)
            except Exception:  # noqa: BLE001 - the next round tries again
                log.warning("gathering planner statistics failed", exc_info=True)
                continue
            if tables:
                log.info("gathered planner statistics of %s", ", ".join(tables))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
