"""Group commit: one writer thread applies concurrent writes in one transaction.

SQLite allows one writer at a time and each commit waits for the disk, so committing puts one
by one caps throughput at the disk's sync rate and makes writers wait on each other's locks.
Here every write job runs inside its own SAVEPOINT of a shared transaction: a job that fails is
rolled back alone, and every job's future resolves only after the whole transaction is durable,
so nothing is acknowledged before it is on disk. Must not contain compliance rules.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")
Job = tuple[Callable[[sa.Connection], Any], "Future[Any]"]
MAX_BATCH = 256


class GroupCommitter:
    def __init__(self, connect: Callable[[], sa.Connection], max_batch: int = MAX_BATCH) -> None:
        self._connect = connect
        self._max_batch = max_batch
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
            with conn.begin():
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
            for _fn, future in running:
                future.set_exception(exc)
            conn.close()
            return self._connect()
        for (_fn, future), (ok, value) in zip(running, outcomes, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        return conn
