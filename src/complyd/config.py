"""Settings: every default in one place. CLI flags and COMPLYD_* environment variables map onto it.

Owns defaults and the database URL rules; must not open connections or sockets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024


def default_db_path() -> Path:
    """`$XDG_DATA_HOME/complyd/complyd.db`, falling back to `~/.local/share/complyd/complyd.db`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "complyd" / "complyd.db"


def database_url(db: str | None) -> str:
    """Turn `--db` (a file path, `sqlite:///path` or `postgresql://...`) into an SQLAlchemy URL."""
    if not db:
        db = str(default_db_path())
    if db.startswith("postgresql://") or db.startswith("postgres://"):
        rest = db.split("://", 1)[1]
        return "postgresql+psycopg://" + rest
    if "://" in db:
        return db
    return "sqlite:///" + str(Path(db).expanduser().resolve())


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    # Fleets outside AWS name their nodes their own way; AWS accepts only i-/mi- ids.
    any_resource_id: bool = False
    item_size_limit: int = 1 * MIB
    total_size_limit: int = 5 * MIB
    max_custom_types: int = 10
    log_level: str = "info"

    @property
    def resolved_db_url(self) -> str:
        return database_url(self.db_url)
