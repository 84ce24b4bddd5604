"""The `complyd` command: `serve` runs the API server, `migrate` prepares a database.

Owns turning flags and COMPLYD_* environment variables into Settings. Must not contain
compliance rules.
"""

from __future__ import annotations

import gc
import logging
import secrets
import string
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from complyd import __version__
from complyd.config import (
    DEFAULT_REGION,
    ConfigError,
    Settings,
    database_url,
    is_loopback,
    load_credentials,
)
from complyd.logs import FORMATS
from complyd.logs import configure as configure_logs
from complyd.model import DEFAULT_ACCOUNT_ID, Tenant
from complyd.operator.commands import COMMANDS as OPERATOR_COMMANDS
from complyd.operator.commands import db_option
from complyd.operator.ingest.command import ingest
from complyd.operator.keys import KEY_COMMANDS
from complyd.operator.opening import shown as _shown
from complyd.operator.opening import store_errors

# Every default is Settings' own: one place says what complyd does when not told.
DEFAULTS = Settings()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="complyd")
def main() -> None:
    """complyd: the AWS Systems Manager Compliance API, served locally or for your own fleet."""


@main.command()
@click.option(
    "--host",
    default=DEFAULTS.host,
    show_default=True,
    envvar="COMPLYD_HOST",
    help="Address to listen on.",
)
@click.option(
    "--port",
    default=DEFAULTS.port,
    show_default=True,
    type=click.IntRange(0, 65535),
    envvar="COMPLYD_PORT",
    help="Port to listen on.",
)
@db_option
@click.option(
    "--any-resource-id",
    is_flag=True,
    envvar="COMPLYD_ANY_RESOURCE_ID",
    help="Accept any ResourceId, not only managed-node ids (i-..., mi-...).",
)
@click.option(
    "--item-size-limit",
    default=DEFAULTS.item_size_limit,
    show_default=True,
    type=click.IntRange(1),
    envvar="COMPLYD_ITEM_SIZE_LIMIT",
    help="Largest serialized Items of one put, in bytes.",
)
@click.option(
    "--total-size-limit",
    default=DEFAULTS.total_size_limit,
    show_default=True,
    type=click.IntRange(1),
    envvar="COMPLYD_TOTAL_SIZE_LIMIT",
    help="Largest compliance data one resource may hold, in bytes.",
)
@click.option(
    "--credentials",
    "credentials_file",
    default=None,
    envvar="COMPLYD_CREDENTIALS",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file of [[keys]]; with keys, every request must be signed (SigV4).",
)
@click.option(
    "--insecure-open",
    is_flag=True,
    envvar="COMPLYD_INSECURE_OPEN",
    help="Allow open mode (no keys) on a non-loopback address.",
)
@click.option(
    "--rate-limit",
    default=DEFAULTS.rate_limit,
    show_default=True,
    type=click.FloatRange(0),
    envvar="COMPLYD_RATE_LIMIT",
    help="Requests per second per access key; 0 means unlimited.",
)
@click.option(
    "--rate-burst",
    default=DEFAULTS.rate_burst,
    type=click.IntRange(0),
    envvar="COMPLYD_RATE_BURST",
    help="Requests a key may send at once before the rate applies [default: the rate].",
)
@click.option(
    "--max-body-size",
    default=None,
    type=click.IntRange(1),
    envvar="COMPLYD_MAX_BODY_SIZE",
    help="Largest request body in bytes [default: --item-size-limit + 1 MiB].",
)
@click.option(
    "--history-days",
    default=DEFAULTS.history_days,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    envvar="COMPLYD_HISTORY_DAYS",
    help="Days of compliance history to keep; older changes are pruned in the background.",
)
@click.option(
    "--webhook",
    "webhooks",
    multiple=True,
    envvar="COMPLYD_WEBHOOKS",
    help="POST compliance state-change events to this http(s) URL (repeatable).",
)
@click.option(
    "--webhook-secret",
    default=DEFAULTS.webhook_secret,
    envvar="COMPLYD_WEBHOOK_SECRET",
    help="Key for the events' HMAC-SHA256 signature header (required with --webhook).",
)
@click.option(
    "--max-header-size",
    default=DEFAULTS.max_header_size,
    show_default=True,
    type=click.IntRange(1024),
    envvar="COMPLYD_MAX_HEADER_SIZE",
    help="Largest request line plus headers, in bytes; larger requests are answered 431.",
)
@click.option(
    "--max-header-count",
    default=DEFAULTS.max_header_count,
    show_default=True,
    type=click.IntRange(1),
    envvar="COMPLYD_MAX_HEADER_COUNT",
    help="Most header fields one request may carry; more are answered 431.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="COMPLYD_WORKERS",
    help="Worker processes serving the one port; more than 1 uses more cores (not with "
    "--store memory).",
)
@click.option(
    "--log-level",
    default=DEFAULTS.log_level,
    show_default=True,
    envvar="COMPLYD_LOG_LEVEL",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--log-format",
    default=DEFAULTS.log_format,
    show_default=True,
    envvar="COMPLYD_LOG_FORMAT",
    type=click.Choice(FORMATS),
    help="text lines, or one JSON object per line.",
)
@click.option(
    "--access-log/--no-access-log",
    default=DEFAULTS.access_log,
    show_default=True,
    envvar="COMPLYD_ACCESS_LOG",
    help="Log every request at info level: operation, status, duration, request id and "
    "access key id.",
)
@click.option(
    "--store",
    default="db",
    show_default=True,
    type=click.Choice(["db", "memory"]),
    envvar="COMPLYD_STORE",
    help="db: the database --db names; memory: a throwaway in-memory store that keeps nothing.",
)
@click.option(
    "--upstream",
    default=DEFAULTS.upstream,
    envvar="COMPLYD_UPSTREAM",
    help="Forward every other SSM call to this http(s) endpoint (moto's server, LocalStack).",
)
@click.option(
    "--upstream-timeout",
    default=DEFAULTS.upstream_timeout,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    envvar="COMPLYD_UPSTREAM_TIMEOUT",
    help="Seconds to wait for the upstream's answer before answering UpstreamTimeoutException.",
)
@click.option(
    "--seed",
    "seed_file",
    default=None,
    envvar="COMPLYD_SEED",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply this file (JSON lines of PutComplianceItems bodies) before serving.",
)
@click.option(
    "--seed-account",
    default=DEFAULT_ACCOUNT_ID,
    show_default=True,
    envvar="COMPLYD_SEED_ACCOUNT",
    help="The account --seed writes to.",
)
@click.option(
    "--seed-region",
    default=DEFAULT_REGION,
    show_default=True,
    envvar="COMPLYD_SEED_REGION",
    help="The region --seed writes to.",
)
def serve(
    host: str,
    port: int,
    db: str | None,
    any_resource_id: bool,
    item_size_limit: int,
    total_size_limit: int,
    credentials_file: Path | None,
    insecure_open: bool,
    rate_limit: float,
    rate_burst: int,
    max_body_size: int | None,
    history_days: float,
    webhooks: tuple[str, ...],
    webhook_secret: str,
    max_header_size: int,
    max_header_count: int,
    workers: int,
    log_level: str,
    log_format: str,
    access_log: bool,
    store: str,
    upstream: str,
    upstream_timeout: float,
    seed_file: Path | None,
    seed_account: str,
    seed_region: str,
) -> None:
    """Serve the four SSM compliance operations over AWS JSON 1.1."""
    import uvicorn

    from complyd.operator.seed import SeedError, seed
    from complyd.service import ComplianceService
    from complyd.storage import memory_url, open_store
    from complyd.storage.base import Store
    from complyd.web.app import Complyd, create_app
    from complyd.web.protocol import PROTOCOL, Limits, configure_limits
    from complyd.web.workers import APP as WORKER_APP
    from complyd.web.workers import to_environment

    if store == "memory":
        if db:
            raise click.UsageError("--store memory keeps nothing on disk: drop --db (COMPLYD_DB).")
        if workers > 1:
            raise click.UsageError(
                "--store memory lives in one process: with --workers each worker would have a "
                "store of its own. Use one worker, or a database (--db)."
            )
        db = memory_url()
    parts = urlsplit(upstream)
    if upstream and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise click.BadParameter(f"{upstream!r} is not an http(s) URL", param_hint="--upstream")
    if not (len(seed_account) == 12 and seed_account.isdigit()):
        raise click.BadParameter("must be 12 digits", param_hint="--seed-account")

    try:
        credentials = load_credentials(credentials_file) if credentials_file else {}
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if not credentials and not is_loopback(host) and not insecure_open:
        raise click.UsageError(
            f"refusing to serve {host} in open mode: without --credentials anyone who can reach "
            "this address can read and write every account's data. Configure keys with "
            "--credentials FILE (see `complyd keys create`), bind 127.0.0.1, or pass "
            "--insecure-open if this network is trusted."
        )
    for url in webhooks:
        if not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--webhook")
    if webhooks and not webhook_secret:
        raise click.UsageError("--webhook needs --webhook-secret to sign the events it sends.")
    settings = Settings(
        db_url=db or "",
        host=host,
        port=port,
        any_resource_id=any_resource_id,
        item_size_limit=item_size_limit,
        total_size_limit=total_size_limit,
        log_level=log_level,
        credentials=credentials,
        credentials_file=credentials_file,
        rate_limit=rate_limit,
        rate_burst=rate_burst,
        max_body_size=max_body_size,
        history_days=history_days,
        webhooks=webhooks,
        webhook_secret=webhook_secret,
        max_header_size=max_header_size,
        max_header_count=max_header_count,
        log_format=log_format,
        access_log=access_log,
        upstream=upstream,
        upstream_timeout=upstream_timeout,
    )
    configure_logs(log_level, log_format)
    # httpx logs every forwarded request at info; the access log already has them.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app: Complyd | None = None
    prepared: Store | None = None
    with store_errors(settings.resolved_db_url):
        if workers == 1:
            app = create_app(settings, open_store(settings.resolved_db_url))
            service = app.service
        else:
            # This process only prepares the database (migrations, the token key, the seed);
            # each worker opens it again.
            prepared = open_store(settings.resolved_db_url)
            prepared.token_key()
            service = ComplianceService(prepared, settings)
    seeded = ""
    if seed_file is not None:
        try:
            puts = seed(service, seed_file, Tenant(seed_account, seed_region))
        except SeedError as exc:
            raise click.ClickException(str(exc)) from None
        seeded = f"; {puts} puts seeded from {seed_file}"
    # The event loop and the writer thread hand work to each other thousands of times a
    # second; CPython's default 5 ms GIL slice would make each hand-off wait a whole slice.
    sys.setswitchinterval(0.0005)
    settle_heap()
    mode = f"{len(credentials)} access keys" if credentials else "open mode, signatures unchecked"
    shown = _shown(settings.resolved_db_url) if store == "db" else "in-memory store, nothing kept"
    forwarding = f"; other SSM calls go to {upstream}" if upstream else ""
    logging.getLogger("complyd").info(
        "complyd %s: %s; %s%s%s", __version__, shown, mode, forwarding, seeded
    )
    configure_limits(Limits(head_bytes=max_header_size, headers=max_header_count))
    served: Complyd | str = app if app is not None else WORKER_APP
    if prepared is not None:
        prepared.close()
        to_environment(settings)
    uvicorn.run(
        served,
        factory=prepared is not None,
        workers=workers if prepared is not None else None,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,  # configure_logs routes uvicorn's loggers through complyd's handler
        access_log=False,  # complyd's own access log knows the operation and request id
        http=PROTOCOL,
    )


def settle_heap() -> None:
    """Leave what start-up loaded (botocore's model, SQLAlchemy, the app) out of the garbage
    collector's full passes: they would otherwise walk every one of those objects again and
    again, stalling requests for tens of milliseconds each time."""
    gc.collect()
    gc.freeze()


@main.command()
@db_option
def migrate(db: str | None) -> None:
    """Create or upgrade the database schema to the newest version."""
    from complyd.storage import migrate_database

    url = database_url(db)
    with store_errors(url):
        before, now = migrate_database(url)
    click.echo(f"{_shown(url)}: schema {before or 'empty'} -> {now}")


@main.group()
def keys() -> None:
    """Manage access keys for --credentials files."""


@keys.command("create")
@click.option("--account-id", required=True, help="The 12-digit account the key belongs to.")
@click.option("--read-only", is_flag=True, help="The key may list but not put.")
@click.option(
    "--append",
    "append_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the key to this credentials file (created mode 0600 if missing).",
)
def keys_create(account_id: str, read_only: bool, append_to: Path | None) -> None:
    """Create a new access key pair and print it as a [[keys]] TOML entry."""
    if not (len(account_id) == 12 and account_id.isdigit()):
        raise click.BadParameter("must be 12 digits", param_hint="--account-id")
    alphabet = string.ascii_uppercase + string.digits
    key_id = "CK" + "".join(secrets.choice(alphabet) for _ in range(18))
    secret = secrets.token_urlsafe(30)
    entry = (
        "[[keys]]\n"
        f'access_key_id = "{key_id}"\n'
        f'secret_access_key = "{secret}"\n'
        f'account_id = "{account_id}"\n'
        f"read_only = {'true' if read_only else 'false'}\n"
    )
    if append_to is None:
        click.echo(entry, nl=False)
        return
    existed = append_to.exists()
    with open(append_to, "a", encoding="utf-8") as f:
        f.write(("\n" if existed else "") + entry)
    if not existed:
        append_to.chmod(0o600)
    click.echo(f"added access key {key_id} (account {account_id}) to {append_to}")


for _command in OPERATOR_COMMANDS:
    main.add_command(_command)
main.add_command(ingest)
for _command in KEY_COMMANDS:
    keys.add_command(_command)


def _show_envvars(command: click.Command) -> None:
    """Every option's COMPLYD_* variable appears in its --help."""
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar:
            param.show_envvar = True
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _show_envvars(sub)


_show_envvars(main)
