"""The Store on SQLAlchemy Core: one implementation for SQLite and PostgreSQL.

Owns running writes (SQLite through one group-committing writer thread, PostgreSQL on a worker
pool; the transaction's own work is in `write`) and the server state (token key); every read
is `storage.reads`'. Must not contain compliance rules.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

from complyd.model import (
    BrowsePage,
    Condition,
    ItemRecord,
    Page,
    ResourceSummary,
    RowKey,
    StoredItem,
    SummaryRecord,
    Tenant,
    TypeSummary,
)
from complyd.storage.aio import LoopPostgres
from complyd.storage.base import ComplianceCount, WriteTransaction
from complyd.storage.browse import summaries_page
from complyd.storage.changelog import SqlHistory
from complyd.storage.engine import (
    WRITE_OPTION,
    Analyzer,
    autovacuum_off,
    create_engine,
    migrate,
)
from complyd.storage.memory import is_memory
from complyd.storage.reads import SqlReads
from complyd.storage.rows import item_from_record, summary_from_record
from complyd.storage.schema import server_state
from complyd.storage.write import SqlWriteTransaction
from complyd.storage.writer import (
    Checkpointer,
    GroupCommitter,
    InlineWriter,
    LoopCommitter,
    WriterLock,
)

T = TypeVar("T")
TOKEN_KEY = "token_key"


class SqlStore:
    """The Store on SQL: schedules writes and hands reads to `SqlReads`.

    SQLite writes from the event loop run on it and commit on a thread (`LoopCommitter`);
    writes from other threads go through one group-committing writer thread; on the in-memory
    store they run inline. Every SQLite writer holds the writer lock beside the database, so
    worker processes take turns. PostgreSQL reads and writes from the event loop run on it
    (`LoopPostgres`), other threads' on worker pools; each write is its own transaction,
    serialised per (resource, type) by a transaction-scoped advisory lock. While PostgreSQL's
    autovacuum is off, an `Analyzer` thread gathers statistics for tables that fill up."""

    def __init__(
        self,
        url: str,
        *,
        apply_migrations: bool = True,
        pool_size: int = 8,
        inline_writes: bool | None = None,
    ) -> None:
        """`inline_writes` runs each write at once on the caller's thread instead of through
        the group-committing writer (SQLite only; the default for the in-memory store, where
        commits cost nothing to share)."""
        self.engine = create_engine(url, pool_size=pool_size)
        if apply_migrations:
            migrate(self.engine)
        self._token_key: bytes | None = None
        path = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        on_disk = path and path != ":memory:" and not is_memory(url)
        self._lock_path = f"{path}-writer" if on_disk else None
        self.history = SqlHistory(self.engine, self._writer_lock())
        self._committer: GroupCommitter | None = None
        self._executor: ThreadPoolExecutor | None = None
        # As many read and write workers as pooled connections (the URL may set the pool's
        # size), so the two together never wait on the pool for long.
        workers = self.engine.pool.size() if isinstance(self.engine.pool, QueuePool) else 8
        # Reads on threads keep at most half of PostgreSQL's pooled connections between calls,
        # so writes on threads always find one (that pool has no overflow: the event loop's
        # own connections are the other half of the bound, see engine.create_engine).
        postgres = self.engine.dialect.name == "postgresql"
        self.reads = SqlReads(self.engine, keep=max(1, workers // 2) if postgres else workers)
        self.local_reads = self.engine.dialect.name == "sqlite"
        self._readers = ThreadPoolExecutor(workers, thread_name_prefix="complyd-read")
        self._inline: InlineWriter | None = None
        self._loop_committer: LoopCommitter | None = None
        self._checkpointer: Checkpointer | None = None
        self._analyzer: Analyzer | None = None
        self._on_loop: LoopPostgres | None = None
        if inline_writes is None:
            inline_writes = is_memory(url)
        if self.engine.dialect.name == "sqlite" and inline_writes:
            self._inline = InlineWriter(self._write_connection)
        elif self.engine.dialect.name == "sqlite":
            # Writes from an event loop (the API) run on it; other threads' through a writer
            # thread. Each holds the writer lock for its transactions, so they take turns.
            self._loop_committer = LoopCommitter(self._write_connection, self._writer_lock())
            self._committer = GroupCommitter(self._write_connection, lock=self._writer_lock())
            if self._lock_path is not None:
                self._checkpointer = Checkpointer(self.engine.connect)
        else:
            # Other threads' writes; the event loop's reads and writes run on it (LoopPostgres).
            self._executor = ThreadPoolExecutor(workers, thread_name_prefix="complyd-write")
            self._on_loop = LoopPostgres(self.engine, workers)
            if autovacuum_off(self.engine):
                self._analyzer = Analyzer(self.engine)

    def _writer_lock(self) -> WriterLock | None:
        return WriterLock(self._lock_path) if self._lock_path is not None else None

    def _write_connection(self) -> sa.Connection:
        return self.engine.connect().execution_options(**{WRITE_OPTION: True})

    def submit_write(self, job: Callable[[WriteTransaction], T]) -> Future[T]:
        if self._inline is not None:
            return self._inline.submit(lambda conn: job(SqlWriteTransaction.on(conn)))
        if self._committer is not None:
            return self._committer.submit(lambda conn: job(SqlWriteTransaction.on(conn)))
        assert self._executor is not None
        return self._executor.submit(self._write_now, job)

    async def write(self, job: Callable[[WriteTransaction], T]) -> T:
        if self._inline is not None:
            return self._inline.run(lambda conn: job(SqlWriteTransaction.on(conn)))
        if self._loop_committer is not None:
            return await self._loop_committer.write(lambda conn: job(SqlWriteTransaction.on(conn)))
        if self._on_loop is not None and self._on_loop.usable():
            dialect = self.engine.dialect
            return await self._on_loop.write(
                lambda cursor: job(SqlWriteTransaction(dialect, cursor))
            )
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._write_now, job)

    def _write_now(self, job: Callable[[WriteTransaction], T]) -> T:
        with self._write_connection() as conn, conn.begin():
            return job(SqlWriteTransaction.on(conn))

    # -- reads (storage.reads) -----------------------------------------------------------

    async def run_read(self, read: Callable[[], T], bounded: bool) -> T:
        # A bounded read of an embedded database costs less than the hand-off to a thread.
        if bounded and self.local_reads:
            return read()
        if self._on_loop is not None and self._on_loop.usable():
            return await self._on_loop.read(read)
        return await asyncio.get_running_loop().run_in_executor(self._readers, read)

    def item_records(
        self,
        tenant: Tenant,
        resource_id: str | None,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[ItemRecord]:
        return self.reads.item_records(tenant, resource_id, conditions, after, limit)

    def summary_records(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[SummaryRecord]:
        return self.reads.summary_records(tenant, conditions, after, limit)

    def list_items(
        self,
        tenant: Tenant,
        resource_id: str | None,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[StoredItem]:
        page = self.reads.item_records(tenant, resource_id, conditions, after, limit)
        return Page([item_from_record(r) for r in page.rows], page.last_key)

    def list_resource_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[ResourceSummary]:
        page = self.reads.summary_records(tenant, conditions, after, limit)
        return Page([summary_from_record(r) for r in page.rows], page.last_key)

    def browse_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        sort: str,
        descending: bool,
        after: RowKey | None,
        before: RowKey | None,
        limit: int,
    ) -> BrowsePage:
        return summaries_page(
            self.engine, tenant, conditions, sort, descending, after, before, limit
        )

    def list_type_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: str | None,
        limit: int,
        fleet: bool = False,
    ) -> Page[TypeSummary]:
        return self.reads.type_summaries(tenant, conditions, after, limit, fleet)

    def counters_cover(self, conditions: Sequence[Condition]) -> bool:
        return self.reads.counters_cover(conditions)

    def fleet_total(self, tenant: Tenant, conditions: Sequence[Condition]) -> TypeSummary:
        return self.reads.fleet_total(tenant, conditions)

    def counts(self) -> list[ComplianceCount]:
        return self.reads.counts()

    def tenants(self) -> list[Tenant]:
        return self.reads.tenants()

    def token_key(self) -> bytes:
        if self._token_key is None:
            self._token_key = self._load_or_create_state(TOKEN_KEY, lambda: secrets.token_bytes(32))
        return self._token_key

    def _load_or_create_state(self, name: str, make: Any) -> bytes:
        query = sa.select(server_state.c.value).where(server_state.c.name == name)
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            with conn.begin():
                value = conn.execute(query).scalar()
                if value is None:
                    try:
                        with conn.begin_nested():
                            conn.execute(sa.insert(server_state).values(name=name, value=make()))
                    except sa.exc.IntegrityError:
                        pass  # another replica created it first
                    value = conn.execute(query).scalar_one()
        return bytes(value)

    def ping(self) -> None:
        self.reads.ping()

    def close(self) -> None:
        if self._on_loop is not None:
            self._on_loop.close()
        if self._inline is not None:
            self._inline.close()
        if self._loop_committer is not None:
            self._loop_committer.close()
        if self._checkpointer is not None:
            self._checkpointer.close()
        if self._analyzer is not None:
            self._analyzer.close()
        if self._committer is not None:
            self._committer.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.reads.close()
        self.engine.dispose()
