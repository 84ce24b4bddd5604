"""The writer lock that complyd processes sharing one SQLite database take turns on."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from complyd.storage.writer import WriterLock


def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_waiting_writer_has_the_lock_before_the_one_that_released_it_takes_it_again(
    tmp_path: Path,
) -> None:
    # Two locks on one file behave as two processes do: each is its own open file.
    first, second = WriterLock(str(tmp_path / "db-writer")), WriterLock(str(tmp_path / "db-writer"))
    turns: list[str] = []
    first.acquire()

    def waiter() -> None:
        second.acquire()
        turns.append("second")
        time.sleep(0.05)
        second.release()

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    wait_until(first.others_waiting)
    first.release()
    assert not first.try_acquire()  # not taken back from under the waiter
    first.acquire()
    turns.append("first")
    first.release()
    thread.join()
    assert turns == ["second", "first"]
    assert not first.others_waiting()
    assert first.try_acquire()
    first.release()
    first.close()
    second.close()


def test_with_no_one_waiting_the_lock_is_taken_at_once_and_excludes_others(
    tmp_path: Path,
) -> None:
    first, second = WriterLock(str(tmp_path / "db-writer")), WriterLock(str(tmp_path / "db-writer"))
    assert not first.others_waiting()
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    with second:
        assert not first.try_acquire()
    assert first.try_acquire()
    first.release()
    first.close()
    second.close()
