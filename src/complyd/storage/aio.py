"""PostgreSQL on the event loop: psycopg's async connections under the store's synchronous code.

Owns the connections a store opens on its event loop (at most `size`, shared by reads, which
run in autocommit, and writes, which run in a transaction each), and the bridge that lets the
store's one body of statement code (`SqlWriteTransaction`, `SqlReads`) run on them unchanged:
`read(fn)` and `write(fn)` run `fn` in a greenlet (SQLAlchemy's `greenlet_spawn`), where each
`execute`, `fetchall` or COPY of a `BridgedCursor` waits for the loop (`await_only`) instead
of blocking a thread. A put or a list page so costs no thread hand-off and no GIL wait per
statement, and the COMMIT's flush to disk is awaited while the loop serves other requests.
Must not know the tables' meaning.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from greenlet import getcurrent
from psycopg import pq
from sqlalchemy.util import await_only, greenlet_spawn

T = TypeVar("T")
log = logging.getLogger("complyd.storage")

Connect = Callable[[], Awaitable[psycopg.AsyncConnection[Any]]]


class BridgedCursor:
    """An async psycopg cursor behind the DB-API's synchronous calls, for code run by
    `LoopPostgres.read` or `write`."""

    __slots__ = ("_cursor", "_pipeline", "_raw")

    def __init__(
        self,
        cursor: psycopg.AsyncCursor[Any],
        pipeline: Pipeline | None,
        raw: Callable[[], psycopg.AsyncCursor[Any]],
    ) -> None:
        """`raw` gives the connection's cursor for `$n` placeholders."""
        self._cursor = cursor
        self._pipeline = pipeline
        self._raw = raw

    def execute(self, sql: Any, params: Any = None) -> BridgedCursor:
        await_only(self._cursor.execute(sql, params))
        return self

    def executemany(self, sql: Any, params_seq: Sequence[Any]) -> None:
        await_only(self._cursor.executemany(sql, params_seq))

    def raw(self) -> BridgedCursor:
        """A cursor on the same connection (and pipeline) for statements in PostgreSQL's own
        `$n` placeholders, which psycopg sends as they are."""
        return BridgedCursor(self._raw(), self._pipeline, self._raw)

    def fetchall(self) -> list[Any]:
        rows: list[Any] = await_only(self._cursor.fetchall())
        return rows

    def fetchone(self) -> Any:
        return await_only(self._cursor.fetchone())

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def copy_rows(self, statement: Any, rows: Sequence[Sequence[Any]]) -> None:
        """COPY `rows` in, the whole stream in one wait (after leaving pipeline mode, which
        COPY cannot run in)."""
        if self._pipeline is not None:
            await_only(self._pipeline.leave())
        await_only(_copy(self._cursor, statement, rows))


def raw_cursor(cursor: Any) -> Any:
    """A cursor on `cursor`'s connection (a psycopg one, or a `BridgedCursor`) that takes
    statements in `$n` placeholders: psycopg parses no `%s` placeholders in them (it caches
    that parsing only for statements of at most 50 parameters)."""
    if isinstance(cursor, BridgedCursor):
        return cursor.raw()
    return psycopg.RawCursor(cursor.connection)


class Pipeline:
    """A connection's pipeline mode, entered for a transaction and left once: at its end, or
    earlier for a statement that cannot be pipelined."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._mode = conn.pipeline()
        self._active = False

    async def enter(self) -> None:
        await self._mode.__aenter__()
        self._active = True

    async def leave(self, exc: BaseException | None = None) -> None:
        """Send what is queued, wait for its results and leave (raising the first error of a
        queued statement, unless `exc` is already on its way)."""
        if self._active:
            self._active = False
            await self._mode.__aexit__(
                type(exc) if exc else None, exc, exc.__traceback__ if exc else None
            )


async def _copy(cursor: psycopg.AsyncCursor[Any], statement: Any, rows: Sequence[Any]) -> None:
    async with cursor.copy(statement) as copy:
        for row in rows:
            await copy.write_row(row)


class BridgedConnection:
    """An async psycopg connection in autocommit, through one cursor, behind
    `conn.fetch(sql, params)`."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: psycopg.AsyncCursor[Any]) -> None:
        self._cursor = cursor

    def fetch(self, sql: Any, params: Any = None) -> list[Any]:
        """The statement's rows: executed and fetched in one wait for the loop, in binary
        format (the same Python values; integers and strings need no parsing from text, a
        quarter of the instructions of a page of 50 resource summaries)."""
        rows: list[Any] = await_only(_fetch(self._cursor, sql, params))
        return rows


async def _fetch(cursor: psycopg.AsyncCursor[Any], sql: Any, params: Any) -> list[Any]:
    await cursor.execute(sql, params, binary=True)
    return await cursor.fetchall()


# The connection each running read's greenlet reads on (see bound_connection).
_bound: dict[Any, BridgedConnection] = {}


def bound_connection() -> BridgedConnection | None:
    """The loop connection the code running now reads on, or None outside `LoopPostgres.read`."""
    return _bound.get(getcurrent()) if _bound else None


def _run_bound(conn: BridgedConnection, fn: Callable[[], T]) -> T:
    me = getcurrent()
    _bound[me] = conn
    try:
        return fn()
    finally:
        del _bound[me]


def _reusable(conn: psycopg.AsyncConnection[Any]) -> bool:
    return not conn.closed and conn.info.transaction_status == pq.TransactionStatus.IDLE


def _close_now(conn: psycopg.AsyncConnection[Any]) -> None:
    """Close without awaiting (from synchronous code, or once its loop is gone)."""
    if not conn.closed:
        conn.pgconn.finish()


class LoopConnections:
    """Connections opened on one event loop, at most `size` in use at once; idle ones are
    kept (last in, first out) for the next caller."""

    def __init__(self, connect: Connect, size: int) -> None:
        self._connect = connect
        self._size = size
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots: asyncio.Semaphore | None = None
        # One cursor per connection, kept with it: a new cursor per statement costs about a
        # fifth of a read's round trip (its adapters and loaders are set up anew).
        self._cursors: weakref.WeakKeyDictionary[
            psycopg.AsyncConnection[Any], psycopg.AsyncCursor[Any]
        ] = weakref.WeakKeyDictionary()
        self._raw_cursors: weakref.WeakKeyDictionary[
            psycopg.AsyncConnection[Any], psycopg.AsyncCursor[Any]
        ] = weakref.WeakKeyDictionary()

    def cursor(self, conn: psycopg.AsyncConnection[Any]) -> psycopg.AsyncCursor[Any]:
        """The cursor kept with `conn` (one of this pool's, in use by the caller)."""
        cursor = self._cursors.get(conn)
        if cursor is None:
            cursor = self._cursors[conn] = conn.cursor()
        return cursor

    def raw_cursor(self, conn: psycopg.AsyncConnection[Any]) -> psycopg.AsyncCursor[Any]:
        """The cursor for `$n` placeholders kept with `conn`."""
        cursor = self._raw_cursors.get(conn)
        if cursor is None:
            cursor = self._raw_cursors[conn] = psycopg.AsyncRawCursor(conn)
        return cursor

    @asynccontextmanager
    async def connection(self, fresh: bool = False) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for this task; with `fresh`, a new one, and the idle ones dropped
        (one has just failed: the server may have closed them all)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        async with self._slots:
            if fresh:
                self.close()
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                yield conn
            finally:
                if _reusable(conn):
                    self._idle.append(conn)
                else:
                    _close_now(conn)  # broken, mid-statement (a cancelled task) or failed

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            _close_now(conn)


class LoopPostgres:
    """A PostgreSQL store's reads and writes on the event loop that first used it.

    Another loop running at the same time (a second thread's) is not served here: `usable()`
    says so, and the store runs that caller's work on its threads instead."""

    def __init__(self, engine: sa.Engine, size: int) -> None:
        cargs, cparams = engine.dialect.create_connect_args(engine.url)

        async def connect() -> psycopg.AsyncConnection[Any]:
            return await psycopg.AsyncConnection.connect(*cargs, **cparams)

        self._connect: Connect = connect
        self._size = size
        self._connections = LoopConnections(connect, size)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def usable(self) -> bool:
        """Whether the running loop is this one's (binding it on first use, or when the loop
        it was bound to has ended)."""
        if self._closed:
            return False
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return True
        if self._loop is None or self._loop.is_closed():
            self._connections.close()  # opened on a loop that has ended
            self._connections = LoopConnections(self._connect, self._size)
            self._loop = loop
            return True
        return False

    async def read(self, fn: Callable[[], T]) -> T:
        """`fn()`, its statements read on a loop connection in autocommit. A connection that
        proves dead (the server restarted) is replaced, and the read tried once more."""
        for attempt in (1, 2):
            async with self._connections.connection(fresh=attempt > 1) as conn:
                try:
                    if not conn.autocommit:
                        await conn.set_autocommit(True)  # one statement, one snapshot
                    cursor = self._connections.cursor(conn)
                    return await greenlet_spawn(_run_bound, BridgedConnection(cursor), fn)
                except psycopg.OperationalError:
                    if attempt > 1 or not conn.broken:
                        raise
                    log.warning("a PostgreSQL read connection was lost; reading again")
        raise AssertionError("unreachable")

    async def write(self, fn: Callable[[BridgedCursor], T]) -> T:
        """`fn(cursor)` in one transaction, committed before this returns; rolled back when it
        raises. A connection found dead before the COMMIT was sent (so nothing was written)
        is replaced, and the transaction run once more."""
        for attempt in (1, 2):
            async with self._connections.connection(fresh=attempt > 1) as conn:
                committing = False
                # Pipelined: statements whose results nobody reads go out without waiting for
                # them, so BEGIN and the first read share a round trip, and the writes share
                # the COMMIT's.
                pipeline = Pipeline(conn)
                try:
                    if conn.autocommit:
                        await conn.set_autocommit(False)
                    await pipeline.enter()
                    cursor = BridgedCursor(
                        self._connections.cursor(conn),
                        pipeline,
                        lambda: self._connections.raw_cursor(conn),
                    )
                    result = await greenlet_spawn(fn, cursor)
                    committing = True
                    await conn.commit()
                    await pipeline.leave()
                    return result
                except psycopg.OperationalError as exc:
                    await pipeline.leave(exc)
                    if attempt == 1 and conn.broken and not committing:
                        log.warning("a PostgreSQL write connection was lost; writing again")
                        continue
                    await _rollback(conn)
                    raise
                except BaseException as exc:
                    await pipeline.leave(exc)
                    await _rollback(conn)
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._closed = True
        self._connections.close()


async def _rollback(conn: psycopg.AsyncConnection[Any]) -> None:
    if conn.closed or conn.broken:
        return
    try:
        await conn.rollback()
    except psycopg.Error:
        _close_now(conn)
