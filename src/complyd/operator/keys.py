"""`complyd keys list` and `complyd keys revoke`: read and edit a credentials file.

Owns showing a file's keys (never a secret) and removing one entry while keeping the rest of
the file as written (comments, order, other keys). A running server picks the change up on
SIGHUP. Must not print or log a secret.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import orjson
import tomlkit
from rich.table import Table

from complyd.config import ConfigError, load_credentials
from complyd.operator import render

CREDENTIALS_HELP = "The credentials file (TOML, [[keys]] entries)."


def credentials_option(f: Any) -> Any:
    return click.option(
        "--credentials",
        "credentials_file",
        required=True,
        envvar="COMPLYD_CREDENTIALS",
        type=click.Path(dir_okay=False, path_type=Path),
        help=CREDENTIALS_HELP,
    )(f)


def _load(path: Path) -> dict[str, Any]:
    try:
        return dict(load_credentials(path))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("list")
@credentials_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per key.")
def keys_list(credentials_file: Path, as_json: bool) -> None:
    """List the file's access keys: id, account, read-only, role (never the secrets)."""
    keys = _load(credentials_file).values()
    if as_json:
        for key in keys:
            row = {
                "AccessKeyId": key.access_key_id,
                "AccountId": key.account_id,
                "ReadOnly": key.read_only,
                "Role": key.role,
            }
            sys.stdout.buffer.write(orjson.dumps(row) + b"\n")
        return
    table = Table(title=f"Access keys in {credentials_file}")
    for name in ("Access key id", "Account", "Read-only", "Role"):
        table.add_column(name, overflow="fold")
    for key in keys:
        table.add_row(
            key.access_key_id, key.account_id, "yes" if key.read_only else "no", key.role or ""
        )
    render.console().print(table)


@click.command("revoke")
@credentials_option
@click.argument("access_key_id")
def keys_revoke(credentials_file: Path, access_key_id: str) -> None:
    """Remove ACCESS_KEY_ID's entry from the file; reload running servers with SIGHUP."""
    keys = _load(credentials_file)
    if access_key_id not in keys:
        raise click.ClickException(f"{credentials_file} has no access key {access_key_id}")
    if len(keys) == 1:
        raise click.ClickException(
            f"{access_key_id} is the only key in {credentials_file}; a server cannot run keyed "
            "with none. Create its replacement first (complyd keys create --append)."
        )
    document = tomlkit.parse(credentials_file.read_text(encoding="utf-8"))
    entries = document["keys"]
    kept = [e for e in entries if e.get("access_key_id") != access_key_id]
    entries.clear()
    entries.extend(kept)
    _replace(credentials_file, tomlkit.dumps(document))
    click.echo(
        f"revoked access key {access_key_id} in {credentials_file}; running servers stop "
        "accepting it on SIGHUP (systemctl reload complyd)"
    )


def _replace(path: Path, text: str) -> None:
    """Write `text` over `path` in one rename, keeping its mode: a server reloading at the
    same moment reads the old file or the new one, never half of it."""
    mode = path.stat().st_mode & 0o777
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


KEY_COMMANDS = (keys_list, keys_revoke)
