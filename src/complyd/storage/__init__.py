"""Persistence: the Store protocol (`storage.base`) and its SQLAlchemy Core implementation.

What the rest of complyd may use of this package is here and in `storage.base`: opening a
store, naming an in-memory one, migrating a database. Everything else in it is the
implementation's own (an import-linter contract).
"""

from __future__ import annotations

from complyd.storage.base import Store


def open_store(url: str, *, apply_migrations: bool = True) -> Store:
    """The store on `url` (an SQLAlchemy URL: SQLite file, in-memory, or PostgreSQL)."""
    from complyd.storage.sql import SqlStore

    return SqlStore(url, apply_migrations=apply_migrations)


def memory_url() -> str:
    """A new, empty in-memory database: what `--store memory` and complyd.testing use."""
    from complyd.storage.memory import memory_url as new

    return new()


def migrate_database(url: str) -> tuple[str | None, str]:
    """Create or upgrade the schema on `url`; (revision before, revision now)."""
    from complyd.storage.engine import create_engine, current_revision, head_revision, migrate

    engine = create_engine(url)
    try:
        before = current_revision(engine)
        migrate(engine)
        return before, head_revision()
    finally:
        engine.dispose()
