"""Fresh PostgreSQL schemas for tests that run real servers: one schema per server or store.

A schema is named in the `--db` URL through libpq's `options=-csearch_path=...`, so every
connection a server opens sees only its own tables; dropping the schema removes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import sqlalchemy as sa

from complyd.config import database_url


def schema_url(base: str, schema: str) -> str:
    """`base` (as given to `--db`) with `schema` as its connections' search path."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


class Schemas:
    """Creates schemas on one database and drops them all on `drop_all()`."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._admin = sa.create_engine(database_url(base), pool_size=1)
        self._made: list[str] = []

    def new(self, prefix: str = "t") -> str:
        """A new empty schema; returns the `--db` URL whose connections use it."""
        schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self._admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        self._made.append(schema)
        return schema_url(self.base, schema)

    def drop_all(self) -> None:
        with self._admin.begin() as conn:
            for schema in self._made:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        self._made.clear()
        self._admin.dispose()


@contextmanager
def schemas(base: str) -> Iterator[Schemas]:
    made = Schemas(base)
    try:
        yield made
    finally:
        made.drop_all()
