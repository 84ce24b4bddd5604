"""Running a coroutine from a test: on a loop of a thread of its own, since the test's thread
may run one already (a browser test's, left by an earlier test)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """The coroutine's result, run to completion on a new event loop of a new thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, main).result()
