"""Opening the store for a command: one clean line and exit status 1 when it cannot be opened.

Owns turning an unreachable, unreadable or mistyped database into a message that names it
(without its password), and the `--account` check every command shares. Must not read or
render compliance data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import sqlalchemy as sa

from complyd.config import Settings, database_url, is_account_id
from complyd.errors import ComplianceError
from complyd.service import ComplianceService
from complyd.storage import open_store


def shown(url: str) -> str:
    """A database URL without its password."""
    return sa.make_url(url).render_as_string(hide_password=True)


@contextmanager
def store_errors(url: str) -> Iterator[None]:
    """Turn a store that cannot be opened (or fails mid-command) into one line naming it."""
    try:
        yield
    except (sa.exc.SQLAlchemyError, OSError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        first = reason[0] if reason else type(exc).__name__
        raise click.ClickException(f"cannot open the store {shown(url)}: {first}") from None


@contextmanager
def opened(
    db: str | None, settings: Settings | None = None, *, create: bool = False
) -> Iterator[ComplianceService]:
    """The service on --db. Only `import` creates a database: a mistyped path given to a read
    command is an error, not a new empty store."""
    url = database_url(db)
    parsed = sa.make_url(url)
    if not create and parsed.get_backend_name() == "sqlite" and parsed.database:
        if not Path(parsed.database).exists():
            raise click.ClickException(f"no database at {parsed.database} (see --db)")
    with store_errors(url):
        store = open_store(url)
        try:
            yield ComplianceService(store, settings or Settings())
        except ComplianceError as error:
            raise click.ClickException(f"{error.code}: {error.message}") from None
        finally:
            store.close()


def check_account(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback: account ids are 12 digits, as AWS's are."""
    if value is not None and not is_account_id(value):
        raise click.BadParameter(f"{value!r} is not a 12-digit account id", param=param)
    return value
