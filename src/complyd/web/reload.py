"""Reloading the credentials file on SIGHUP, with no restart and no dropped request.

Owns the signal handler: it reads the file again off the event loop and swaps the
authenticator's keys in one step, so in-flight requests finish, new keys work from the next
request, removed keys stop and their dashboard sessions end. A file that no longer loads is
logged and the keys in use are kept. Must not check signatures itself.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from complyd.config import ConfigError, load_credentials
from complyd.web.auth import Authenticator, KeyAuthenticator

log = logging.getLogger("complyd.credentials")


async def reload_credentials(authenticator: KeyAuthenticator, path: Path) -> None:
    try:
        keys = await asyncio.to_thread(load_credentials, path)
    except ConfigError as exc:
        log.error("credentials not reloaded, the keys in use stay: %s", exc)
        return
    before = authenticator.access_key_ids
    authenticator.replace(keys)
    added, removed = len(set(keys) - before), len(before - set(keys))
    log.info("reloaded %s: %d access keys (%d added, %d removed)", path, len(keys), added, removed)


@asynccontextmanager
async def reload_on_sighup(authenticator: Authenticator, path: Path | None) -> AsyncIterator[None]:
    """While the app runs, SIGHUP reloads `path` into `authenticator` (keyed mode), or is
    logged and ignored (open mode), instead of ending the process."""
    loop = asyncio.get_running_loop()
    if threading.current_thread() is not threading.main_thread():
        # Signals reach only the main thread (an in-process app of complyd.testing runs
        # elsewhere): there is nothing to install.
        yield
        return
    pending: set[asyncio.Task[None]] = set()

    def on_hangup() -> None:
        if path is None or not isinstance(authenticator, KeyAuthenticator):
            log.warning("SIGHUP: no --credentials file to reload (open mode)")
            return
        task = loop.create_task(reload_credentials(authenticator, path))
        pending.add(task)
        task.add_done_callback(pending.discard)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_hangup)
    except (NotImplementedError, RuntimeError, ValueError):
        yield  # a loop or platform without signal handlers: nothing to reload from
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        for task in list(pending):
            await task
