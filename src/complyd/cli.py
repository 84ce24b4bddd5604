"""The `complyd` command: `serve` runs the API server, `migrate` prepares a database.

Owns turning flags and COMPLYD_* environment variables into Settings. Must not contain
compliance rules.
"""

from __future__ import annotations

import logging

import click

from complyd import __version__
from complyd.config import MIB, Settings, database_url, default_db_path

DB_HELP = (
    "Database: a file path or sqlite:///PATH (embedded SQLite store), or "
    "postgresql://USER@HOST:PORT/DBNAME. Default: " + str(default_db_path())
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="complyd")
def main() -> None:
    """complyd: the AWS Systems Manager Compliance API, served locally or for your own fleet."""


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="COMPLYD_HOST",
    help="Address to listen on.",
)
@click.option(
    "--port",
    default=4590,
    show_default=True,
    type=click.IntRange(0, 65535),
    envvar="COMPLYD_PORT",
    help="Port to listen on.",
)
@click.option("--db", default=None, envvar="COMPLYD_DB", help=DB_HELP)
@click.option(
    "--any-resource-id",
    is_flag=True,
    envvar="COMPLYD_ANY_RESOURCE_ID",
    help="Accept any ResourceId, not only managed-node ids (i-..., mi-...).",
)
@click.option(
    "--item-size-limit",
    default=1 * MIB,
    show_default=True,
    type=click.IntRange(1),
    envvar="COMPLYD_ITEM_SIZE_LIMIT",
    help="Largest serialized Items of one put, in bytes.",
)
@click.option(
    "--total-size-limit",
    default=5 * MIB,
    show_default=True,
    type=click.IntRange(1),
    envvar="COMPLYD_TOTAL_SIZE_LIMIT",
    help="Largest compliance data one resource may hold, in bytes.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    envvar="COMPLYD_LOG_LEVEL",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def serve(
    host: str,
    port: int,
    db: str | None,
    any_resource_id: bool,
    item_size_limit: int,
    total_size_limit: int,
    log_level: str,
) -> None:
    """Serve the four SSM compliance operations over AWS JSON 1.1."""
    import uvicorn

    from complyd.web.app import create_app

    settings = Settings(
        db_url=db or "",
        host=host,
        port=port,
        any_resource_id=any_resource_id,
        item_size_limit=item_size_limit,
        total_size_limit=total_size_limit,
        log_level=log_level,
    )
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    app = create_app(settings)
    click.echo(f"complyd {__version__}: store {_shown(settings.resolved_db_url)}", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=log_level == "debug")


@main.command()
@click.option("--db", default=None, envvar="COMPLYD_DB", help=DB_HELP)
def migrate(db: str | None) -> None:
    """Create or upgrade the database schema to the newest version."""
    from complyd.storage.engine import create_engine, current_revision, head_revision
    from complyd.storage.engine import migrate as apply

    url = database_url(db)
    engine = create_engine(url)
    try:
        before = current_revision(engine)
        apply(engine)
        click.echo(f"{_shown(url)}: schema {before or 'empty'} -> {head_revision()}")
    finally:
        engine.dispose()


def _shown(url: str) -> str:
    """A database URL without its password."""
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)
