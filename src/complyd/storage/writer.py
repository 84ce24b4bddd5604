"""Group commit: one writer thread applies concurrent writes in one transaction.

SQLite allows one writer at a time and each commit waits for the disk, so committing puts one
by one caps throughput at the disk's sync rate and makes writers wait on each other's locks.
Here every write job runs inside its own SAVEPOINT of a shared transaction: a job that fails is
rolled back alone, and every job's future resolves only after the whole transaction is durable,
so nothing is acknowledged before it is on disk. Callers on an event loop get an asyncio future,
and a batch wakes each loop once. Must not contain compliance rules.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")
# A job, and where its outcome goes: a concurrent Future, or an asyncio future of that loop.
Job = tuple[
    Callable[[sa.Connection], Any],
    "Future[Any] | asyncio.Future[Any]",
    "asyncio.AbstractEventLoop | None",
]
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


class GroupCommitter:
    def __init__(self, connect: Callable[[], sa.Connection], max_batch: int = MAX_BATCH) -> None:
        self._connect = connect
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="complyd-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[sa.Connection], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((job, future, None))
        return future

    def submit_async(self, job: Callable[[sa.Connection], T]) -> asyncio.Future[T]:
        """submit, for a caller on an event loop: the future is that loop's."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((job, future, loop))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

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
        running = [
            job
            for job in batch
            if job[2] is not None or job[1].set_running_or_notify_cancel()  # type: ignore[union-attr]
        ]
        try:
            with conn.begin():
                # Plain SQL savepoints: SQLAlchemy's nested transactions cost more per put than
                # the put's own statements.
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                for fn, _future, _loop in running:
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
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for (_fn, future, loop), (ok, value) in zip(running, outcomes, strict=True):
            if loop is not None:
                by_loop.setdefault(loop, []).append((future, ok, value))  # type: ignore[arg-type]
            elif ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(settle, settled)
            except RuntimeError:
                pass  # that loop has closed: nobody is waiting any more


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
