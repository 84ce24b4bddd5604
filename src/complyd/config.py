"""Settings: every default in one place. CLI flags and COMPLYD_* environment variables map onto it.

Owns defaults and the database URL rules; must not open connections or sockets.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
# The region a command or the dashboard uses when none is given, as the AWS CLI does.
DEFAULT_REGION = "us-east-1"
_ACCOUNT_ID = re.compile(r"\d{12}")
_ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
# What a key may do beyond its account's API calls: "admin" may reset the store
# (POST /_complyd/reset), "auditor" reads every tenant in the dashboard; no role (""): neither.
ROLES = ("admin", "auditor")
ADMIN_ROLE = "admin"


class ConfigError(Exception):
    """A setting or credentials file that cannot be used, with a message for the operator."""


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    account_id: str
    read_only: bool = False
    role: str = ""


def is_account_id(value: str) -> bool:
    return _ACCOUNT_ID.fullmatch(value) is not None


def load_credentials(path: Path) -> Mapping[str, AccessKey]:
    """Read a TOML file of `[[keys]]` (access_key_id, secret_access_key, account_id, read_only,
    role).

    Messages name the file and the entry, never a secret.
    """
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read credentials file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"credentials file {path} is not valid TOML: {exc}") from None
    entries = data.get("keys")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"credentials file {path} has no [[keys]] entries")
    keys: dict[str, AccessKey] = {}
    for n, entry in enumerate(entries, start=1):
        where = f"{path}, [[keys]] entry {n}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table")
        known = {"access_key_id", "secret_access_key", "account_id", "read_only", "role"}
        unknown = set(entry) - known
        if unknown:
            raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
        key_id, secret = entry.get("access_key_id"), entry.get("secret_access_key")
        account, read_only = entry.get("account_id"), entry.get("read_only", False)
        if not isinstance(key_id, str) or not _ACCESS_KEY_ID.fullmatch(key_id):
            raise ConfigError(f"{where}: access_key_id must be 16-128 characters A-Z and 0-9")
        if not isinstance(secret, str) or len(secret) < 16:
            raise ConfigError(f"{where} ({key_id}): secret_access_key must be 16+ characters")
        if not isinstance(account, str) or not _ACCOUNT_ID.fullmatch(account):
            raise ConfigError(f"{where} ({key_id}): account_id must be a 12-digit string")
        if not isinstance(read_only, bool):
            raise ConfigError(f"{where} ({key_id}): read_only must be true or false")
        role = entry.get("role", "")
        if not isinstance(role, str) or (role and role not in ROLES):
            allowed = " or ".join(f'"{r}"' for r in ROLES)
            raise ConfigError(f"{where} ({key_id}): role must be {allowed} (or left out)")
        if key_id in keys:
            raise ConfigError(f"{where}: access_key_id {key_id} appears twice")
        keys[key_id] = AccessKey(key_id, secret, account, read_only, role)
    return keys


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    port: int = 4590
    # Fleets outside AWS name their nodes their own way; AWS accepts only i-/mi- ids.
    any_resource_id: bool = False
    item_size_limit: int = 1 * MIB
    total_size_limit: int = 5 * MIB
    max_custom_types: int = 10
    log_level: str = "info"
    # Keys from --credentials; empty means open mode (no signature checks).
    credentials: Mapping[str, AccessKey] = field(default_factory=dict)
    # The file they came from, read again on SIGHUP.
    credentials_file: Path | None = None
    # Requests per second per access key (token bucket); 0 turns throttling off.
    rate_limit: float = 0.0
    rate_burst: int = 0
    # Largest request body; None means the item size limit plus 1 MiB of room.
    max_body_size: int | None = None
    # Days of compliance history kept; older changes are pruned in the background.
    history_days: float = 90.0
    # State-change events are POSTed to these URLs, signed with the secret (HMAC-SHA256).
    webhooks: tuple[str, ...] = ()
    webhook_secret: str = field(default="", repr=False)
    # A request's line and headers, and how many header fields it may carry (answered 431).
    max_header_size: int = 64 * 1024
    max_header_count: int = 100
    log_format: str = "text"
    # One line per request (operation, status, duration, request id, access key id).
    access_log: bool = True
    # Calls for other SSM operations are forwarded here (moto's server, LocalStack); "" answers
    # them UnknownOperationException. The timeout bounds waiting for the upstream's answer.
    upstream: str = ""
    upstream_timeout: float = 30.0

    @property
    def body_size_limit(self) -> int:
        if self.max_body_size is not None:
            return self.max_body_size
        return self.item_size_limit + MIB

    @property
    def burst(self) -> int:
        return self.rate_burst or max(1, int(self.rate_limit))

    @property
    def resolved_db_url(self) -> str:
        return database_url(self.db_url)
