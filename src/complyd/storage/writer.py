"""Group commit: one writer thread applies concurrent writes in one transaction.

SQLite allows one writer at a time and each commit waits for the disk, so committing puts one
by one caps throughput at the disk's sync rate and makes writers wait on each other's locks.
Here every write job runs inside its own SAVEPOINT of a shared transaction: a job that fails is
rolled back alone, and every job's future resolves only after the whole transaction is durable,
so nothing is acknowledged before it is on disk. This serves writers on threads (operator
commands, seeding); `LoopCommitter` below serves the event loop. Must not contain compliance
rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")
Job = tuple[Callable[[sa.Connection], Any], "Future[Any]"]
MAX_BATCH = 256


def settle(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    """Resolve a batch's asyncio futures on their loop (one wake-up per batch, not per job)."""
    for future, ok, value in outcomes:
        if future.cancelled():
            continue  # the caller gave up waiting; the write itself stands
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class WriterLock:
    """An exclusive lock on a file beside the database, held for each write transaction.

    SQLite lets one process write at a time and makes the others poll for the lock, sleeping
    longer after each try; when several complyd processes (`serve --workers N`, an operator
    command) write one database, each waits here instead and is woken the moment the lock is
    free. Writers that do not take it still meet SQLite's own lock and busy timeout.

    The kernel's lock is not fair: a process that releases it and asks again at once beats one
    that has to be woken to take it, so a busy process could keep another waiting for as long
    as it has writes. A waiter therefore says so first, with a shared lock on a second file
    (`<path>-waiting`), and a process that finds anyone waiting lets them all have the lock
    before it asks for it again: under contention, processes take turns.
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._waiting_fd = os.open(f"{path}-waiting", os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Block until the lock is held, after every process already waiting for it."""
        # Each call releases the GIL while it waits.
        if self.others_waiting():
            # Granted once no process holds the shared lock: each one waiting has had its turn.
            fcntl.flock(self._waiting_fd, fcntl.LOCK_EX)
        fcntl.flock(self._waiting_fd, fcntl.LOCK_SH)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self._waiting_fd, fcntl.LOCK_UN)

    def try_acquire(self) -> bool:
        """Take the lock if it is free and no other process is waiting for it."""
        if self.others_waiting():
            return False
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def others_waiting(self) -> bool:
        try:
            fcntl.flock(self._waiting_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self._waiting_fd, fcntl.LOCK_UN)
        return False

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)
        os.close(self._waiting_fd)


class GroupCommitter:
    def __init__(
        self,
        connect: Callable[[], sa.Connection],
        max_batch: int = MAX_BATCH,
        lock: WriterLock | None = None,
    ) -> None:
        self._connect = connect
        self._max_batch = max_batch
        self._lock = lock if lock is not None else contextlib.nullcontext()
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="complyd-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[sa.Connection], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((job, future))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)
        if isinstance(self._lock, WriterLock):
            self._lock.close()

    def _run(self) -> None:
        conn = self._connect()
        try:
            stopping = False
            while not stopping:
                first = self._queue.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < self._max_batch:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stopping = True
                        break
                    batch.append(job)
                conn = self._commit(conn, batch)
        finally:
            conn.close()

    def _commit(self, conn: sa.Connection, batch: list[Job]) -> sa.Connection:
        outcomes: list[tuple[bool, Any]] = []
        running = [(fn, fut) for fn, fut in batch if fut.set_running_or_notify_cancel()]
        try:
            with self._lock, conn.begin():
                # Plain SQL savepoints: SQLAlchemy's nested transactions cost more per put than
                # the put's own statements.
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                for fn, _future in running:
                    cursor.execute("SAVEPOINT complyd_job")
                    try:
                        outcomes.append((True, fn(conn)))
                    except Exception as exc:  # noqa: BLE001 - handed to that job's caller
                        cursor.execute("ROLLBACK TO SAVEPOINT complyd_job")
                        outcomes.append((False, exc))
                    cursor.execute("RELEASE SAVEPOINT complyd_job")
        except Exception as exc:  # noqa: BLE001 - the commit failed: no job is acknowledged
            self._deliver(running, [(False, exc)] * len(running))
            conn.close()
            return self._connect()
        self._deliver(running, outcomes)
        return conn

    @staticmethod
    def _deliver(running: list[Job], outcomes: list[tuple[bool, Any]]) -> None:
        for (_fn, future), (ok, value) in zip(running, outcomes, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)


class InlineWriter:
    """Writes run at once on the caller's thread, one transaction each, one at a time.

    For a database that keeps nothing on disk (the in-memory store), where a commit costs no
    sync to share out: handing each write to a writer thread would cost more than the write.
    """

    def __init__(self, connect: Callable[[], sa.Connection]) -> None:
        self._conn = connect()
        self._lock = threading.Lock()

    def run(self, job: Callable[[sa.Connection], T]) -> T:
        # Jobs run their statements on the driver's cursor (storage.write), so the transaction
        # is the driver's too: SQLAlchemy's own begin and commit would cost more than the put.
        driver = self._conn.connection.driver_connection
        assert driver is not None
        with self._lock:
            driver.execute("BEGIN IMMEDIATE")
            try:
                result = job(self._conn)
            except BaseException:
                driver.execute("ROLLBACK")
                raise
            driver.execute("COMMIT")
            return result

    def submit(self, job: Callable[[sa.Connection], T]) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(self.run(job))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future

    def close(self) -> None:
        with self._lock:
            self._conn.close()


Applied = tuple["asyncio.Future[Any]", bool, Any]


class LoopCommitter:
    """Group commit for writers on one event loop, with the writes themselves on the loop.

    A write runs at once on the loop's thread, in its own savepoint of the open transaction:
    handing each write's statements to a writer thread would make every statement wait for
    the interpreter lock while the loop parses other requests. The transaction commits at the
    end of the loop's turn, so the writes of one turn share it; the COMMIT, which waits for the
    disk, runs on a thread while the loop goes on, and writes that arrive meanwhile start the
    next transaction as soon as it is durable. A write's caller is answered only then. When
    another process holds the writer lock, it is waited for on that thread too.
    """

    def __init__(self, connect: Callable[[], sa.Connection], lock: WriterLock | None) -> None:
        self._connect = connect
        self._conn: sa.Connection | None = None
        self._lock = lock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._open = False  # a transaction is open on the loop
        self._busy = False  # committing, or waiting for the lock, on the thread
        self._applied: list[Applied] = []
        self._waiting: list[tuple[Callable[[sa.Connection], Any], asyncio.Future[Any]]] = []
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="complyd-commit")

    def _driver(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn.connection.driver_connection

    async def write(self, job: Callable[[sa.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("a LoopCommitter serves the one event loop that first used it")
        future: asyncio.Future[T] = loop.create_future()
        self._waiting.append((job, future))
        self._drain()
        return await future

    def _drain(self) -> None:
        """Apply the waiting writes, in a transaction opened for them if none is."""
        if self._busy or not self._waiting:
            return
        if not self._open:
            if self._lock is not None and not self._lock.try_acquire():
                # Held, or wanted by another process first: wait for it (and them) on the thread.
                self._busy = True
                assert self._loop is not None
                waited = self._loop.run_in_executor(self._thread, self._lock.acquire)
                waited.add_done_callback(self._locked)
                return
            if not self._begin():
                return
        waiting, self._waiting = self._waiting, []
        for job, future in waiting:
            self._apply(job, future)

    def _locked(self, waited: asyncio.Future[None]) -> None:
        self._busy = False
        if waited.exception() is None and self._begin():
            self._drain()

    def _begin(self) -> bool:
        assert self._loop is not None
        try:
            self._driver().execute("BEGIN IMMEDIATE")
        except Exception as exc:  # noqa: BLE001 - every waiting write is told
            self._fail_waiting(exc)
            self._reconnect()
            return False
        self._open = True
        # At the end of this turn of the loop: the writes of the turn share the commit.
        self._loop.call_soon(self._commit)
        return True

    def _apply(self, job: Callable[[sa.Connection], Any], future: asyncio.Future[Any]) -> None:
        assert self._conn is not None
        cursor = self._driver().cursor()
        cursor.execute("SAVEPOINT complyd_job")
        try:
            self._applied.append((future, True, job(self._conn)))
        except Exception as exc:  # noqa: BLE001 - handed to that write's caller
            cursor.execute("ROLLBACK TO SAVEPOINT complyd_job")
            if not future.cancelled():
                future.set_exception(exc)  # it changed nothing: no need to wait for the commit
        cursor.execute("RELEASE SAVEPOINT complyd_job")

    def _commit(self) -> None:
        assert self._loop is not None
        self._open, self._busy = False, True
        batch, self._applied = self._applied, []
        committed = self._loop.run_in_executor(self._thread, self._driver().execute, "COMMIT")
        committed.add_done_callback(lambda done: self._committed(batch, done))

    def _committed(self, batch: list[Applied], done: asyncio.Future[Any]) -> None:
        self._busy = False
        if self._lock is not None:
            self._lock.release()
        failure = done.exception()
        if failure is not None:
            settle([(future, False, failure) for future, _ok, _value in batch])
            self._reconnect()
        else:
            settle(batch)
        self._drain()

    def _fail_waiting(self, exc: BaseException) -> None:
        waiting, self._waiting = self._waiting, []
        settle([(future, False, exc) for _job, future in waiting])
        if self._lock is not None:
            self._lock.release()

    def _reconnect(self) -> None:
        if self._conn is not None:
            self._conn.invalidate()
            self._conn = None

    def close(self) -> None:
        if self._open:
            self._driver().execute("COMMIT")
            settle(self._applied)
            self._applied, self._open = [], False
        self._thread.shutdown(wait=True)
        if self._conn is not None:
            self._conn.close()


class Checkpointer:
    """Copies SQLite's write-ahead log back into the database every `interval` seconds, on a
    thread of its own, so no commit waits for it. A passive checkpoint waits for no reader or
    writer: it copies what it can and the log is reused from its start once readers let go."""

    def __init__(self, connect: Callable[[], sa.Connection], interval: float = 0.25) -> None:
        self._connect = connect
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="complyd-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = self._connect()
        driver = conn.connection.driver_connection
        assert driver is not None
        try:
            while not self._stop.wait(self._interval):
                try:
                    driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except Exception:  # noqa: BLE001 - the next round tries again
                    continue
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
