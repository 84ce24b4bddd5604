"""The throwaway in-memory store (`complyd serve --store memory`): nothing is written to disk.

Owns naming an in-memory SQLite database that every connection of one engine shares, and
keeping it alive for the engine's life. It uses SQLite's `memdb` VFS rather than `:memory:`:
each `:memory:` connection has a database of its own, and sharing one through SQLite's shared
cache turns lock waits into immediate errors, while memdb databases lock like files do, so the
busy timeout applies. Must not know the tables.
"""

from __future__ import annotations

import sqlite3
import uuid

import sqlalchemy as sa

_PREFIX = "file:/complyd-memory-"
_VFS = "vfs=memdb"


def memory_url() -> str:
    """A new, empty in-memory database's SQLAlchemy URL, unique to this call."""
    return f"sqlite:///{_PREFIX}{uuid.uuid4().hex}?{_VFS}&uri=true"


def is_memory(url: str) -> bool:
    return url.startswith(f"sqlite:///{_PREFIX}") and _VFS in url


def keep_alive(engine: sa.Engine) -> None:
    """Hold one connection open until the engine is disposed.

    A memdb database is freed when its last connection closes, and the pool may close all of
    its own (after an error, or when idle overflow connections are dropped).
    """
    database = engine.url.database
    assert database is not None
    anchor = sqlite3.connect(f"{database}?{_VFS}", uri=True, check_same_thread=False)

    @sa.event.listens_for(engine, "engine_disposed")
    def _release(_engine: sa.Engine) -> None:
        anchor.close()
