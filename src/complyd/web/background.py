"""The server's background work: history retention and (when configured) event delivery.

Owns starting these tasks with the app and cancelling them before the store closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from complyd.config import Settings
from complyd.events import Deliverer
from complyd.history import prune_forever
from complyd.storage.base import History


@asynccontextmanager
async def background_tasks(history: History, settings: Settings) -> AsyncIterator[None]:
    jobs: list[Coroutine[Any, Any, None]] = [prune_forever(history, settings.history_days)]
    if settings.webhooks:
        deliverer = Deliverer(history, settings.webhooks, settings.webhook_secret)
        jobs.append(deliverer.run_forever())
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
