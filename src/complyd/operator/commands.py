"""The operator commands of `complyd`: summary, resources, items, import, export, history
and tenants.

Owns their flags and exit codes. Each opens the database named by --db, works as one
(account, region) through ComplianceService, reads by keyset pages and closes the store.
Bad input is reported as the API reports it (`InvalidFilter: ...`), with exit status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from complyd import history as history_queries
from complyd.config import DEFAULT_REGION, Settings, default_db_path
from complyd.model import DEFAULT_ACCOUNT_ID, FLEET_TOTAL, Filter, Operator, Severity, Tenant
from complyd.operator import render
from complyd.operator.export import Exporter
from complyd.operator.importer import import_lines, numbered_lines
from complyd.operator.opening import check_account, opened
from complyd.paging import all_rows

F = TypeVar("F", bound=Callable[..., Any])
# Rows per store read: large enough to amortise a query, small enough to stream.
PAGE_SIZE = 500
DB_HELP = (
    "Database: a file path or sqlite:///PATH (embedded SQLite store), or "
    "postgresql://USER@HOST:PORT/DBNAME. Default: " + str(default_db_path())
)


def db_option(f: F) -> F:
    """--db, as every command that opens the store takes it."""
    return click.option("--db", default=None, envvar="COMPLYD_DB", help=DB_HELP)(f)


def tenant_options(f: F) -> F:
    """--db, --account, --region, --json: the options every read command shares."""
    f = click.option("--json", "as_json", is_flag=True, help="Print JSON lines (API shapes).")(f)
    f = click.option("--region", default=DEFAULT_REGION, show_default=True)(f)
    f = account_option(f)
    return db_option(f)


def account_option(f: F) -> F:
    return click.option(
        "--account", default=DEFAULT_ACCOUNT_ID, show_default=True, callback=check_account
    )(f)


def equal(key: str, value: str | None) -> list[Filter]:
    return [] if value is None else [Filter(key, (value,), Operator.EQUAL)]


@click.command()
@tenant_options
def summary(db: str | None, account: str, region: str, as_json: bool) -> None:
    """Resources per compliance type, FleetTotal first (ListComplianceSummaries)."""
    tenant = Tenant(account, region)
    with opened(db) as service:
        rows = all_rows(
            lambda after: service.list_compliance_summaries(tenant, [], after, PAGE_SIZE)
        )
        if as_json:
            render.json_lines(render.encoded_type_summaries(rows))
        else:
            render.console().print(render.type_summaries_table(rows))


@click.command()
@tenant_options
@click.option("--type", "compliance_type", help="Only this compliance type.")
@click.option("--status", type=click.Choice(["COMPLIANT", "NON_COMPLIANT"], case_sensitive=False))
@click.option(
    "--severity",
    type=click.Choice([s.value for s in Severity], case_sensitive=False),
    help="Only rows of this overall severity.",
)
@click.option("--resource-id", help="Only resources whose id starts with this.")
def resources(
    db: str | None,
    account: str,
    region: str,
    as_json: bool,
    compliance_type: str | None,
    status: str | None,
    severity: str | None,
    resource_id: str | None,
) -> None:
    """One row per (resource, compliance type) (ListResourceComplianceSummaries)."""
    tenant = Tenant(account, region)
    filters = [
        *equal("ComplianceType", compliance_type),
        *equal("Status", status.upper() if status else None),
        *equal("OverallSeverity", severity.upper() if severity else None),
    ]
    if resource_id:
        filters.append(Filter("ResourceId", (resource_id,), Operator.BEGIN_WITH))
    with opened(db) as service:
        rows = all_rows(
            lambda after: service.list_resource_compliance_summaries(
                tenant, filters, after, PAGE_SIZE
            )
        )
        if as_json:
            render.json_lines(render.encoded_resource_summaries(rows))
        else:
            render.console().print(render.resource_summaries_table(rows))


@click.command()
@tenant_options
@click.argument("node")
@click.option("--any-resource-id", is_flag=True, help="NODE need not be a managed-node id.")
def items(
    db: str | None, account: str, region: str, as_json: bool, node: str, any_resource_id: bool
) -> None:
    """The compliance items of one node (ListComplianceItems)."""
    tenant = Tenant(account, region)
    with opened(db, Settings(any_resource_id=any_resource_id)) as service:
        rows = all_rows(
            lambda after: service.list_compliance_items(tenant, [node], None, [], after, PAGE_SIZE)
        )
        if as_json:
            render.json_lines(render.encoded_items(rows))
        else:
            render.console().print(render.items_table(node, rows))


@click.command("import")
@db_option
@account_option
@click.option("--region", default=DEFAULT_REGION, show_default=True)
@click.option("--any-resource-id", is_flag=True, help="Accept any ResourceId.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(
    db: str | None, account: str, region: str, any_resource_id: bool, as_json: bool, file: Path
) -> None:
    """Apply FILE: JSON lines, one PutComplianceItems request body per line.

    Each line is validated and applied exactly as the API would; rejected lines are listed
    with the API's error. Exit status 1 if any line was rejected.
    """
    import orjson

    tenant = Tenant(account, region)
    err = render.console(stderr=True)
    columns = (
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with (
        opened(db, Settings(any_resource_id=any_resource_id), create=True) as service,
        Progress(*columns, console=err, transient=True) as progress,
        open(file, "rb") as f,
    ):
        task = progress.add_task("import", total=file.stat().st_size)

        def read() -> Iterator[bytes]:
            for line in f:
                progress.advance(task, len(line))
                yield line

        report = import_lines(service, tenant, numbered_lines(read()))
    if as_json:
        rejected = [{"line": r.line, "code": r.code, "message": r.message} for r in report.rejected]
        body = {"accepted": report.accepted, "rejected": rejected}
        sys.stdout.buffer.write(orjson.dumps(body) + b"\n")
    else:
        for r in report.rejected:
            click.echo(f"line {r.line}: {r.code}: {r.message}", err=True)
        click.echo(f"{file}: {report.accepted} accepted, {len(report.rejected)} rejected")
    if report.rejected:
        sys.exit(1)


@click.command()
@db_option
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write (created; must be empty).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="json: Resource Data Sync layout, a file per node; csv: two files per tenant.",
)
@click.option("--page-size", default=PAGE_SIZE, type=click.IntRange(1), hidden=True)
def export(db: str | None, out: Path, fmt: str, page_size: int) -> None:
    """Write every tenant's compliance items and resource summaries under --out."""
    if out.exists() and any(out.iterdir()):
        raise click.UsageError(f"{out} is not empty; export into a new or empty directory.")
    columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        opened(db) as service,
        Progress(*columns, console=render.console(stderr=True), transient=True) as progress,
    ):
        fleet = service.fleet
        resources = sum(c.resources for c in fleet.counts() if c.compliance_type == FLEET_TOTAL)
        # Each resource is visited twice: once for its items, once for its summaries.
        task = progress.add_task("export", total=2 * resources)
        exporter = Exporter(
            service,
            out,
            fmt,
            page_size=page_size,
            on_resource=lambda: progress.advance(task),
        )
        report = exporter.run(fleet.tenants())
    click.echo(
        f"{out}: {report.tenants} tenants, {report.summaries} resource summaries, "
        f"{report.items} items in {report.files} files"
    )


@click.command()
@tenant_options
@click.argument("node", required=False)
@click.option(
    "--days",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Without NODE: how far back the fleet series goes.",
)
@click.option("--bucket", type=click.Choice(["day", "hour"]), default="day", show_default=True)
def history(
    db: str | None,
    account: str,
    region: str,
    as_json: bool,
    node: str | None,
    days: float,
    bucket: str,
) -> None:
    """NODE's recorded compliance changes, or without NODE the fleet's non-compliant count
    over time (one point per --bucket)."""
    tenant = Tenant(account, region)
    with opened(db) as service:
        if node is not None:
            entries = service.fleet.timeline(tenant, node)
            if as_json:
                render.json_lines(render.encoded_history(entries))
            else:
                render.console().print(render.history_table(node, entries))
            return
        bucket_ms = history_queries.DAY_MS if bucket == "day" else history_queries.DAY_MS // 24
        points = service.fleet.fleet_trend(tenant, days, bucket_ms)
        if as_json:
            render.json_lines({"Time": t / 1000, "NonCompliantCount": n} for t, n in points)
        else:
            render.console().print(render.fleet_history_table(points))


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per tenant.")
def tenants(db: str | None, as_json: bool) -> None:
    """The (account, region) pairs holding data, largest first: resources and non-compliant
    resources, over all types and per type."""
    with opened(db) as service:
        found = service.fleet.rollups()
    if as_json:
        render.json_lines(render.encoded_rollups(found))
    else:
        render.console().print(render.rollups_table(found))


COMMANDS = (summary, resources, items, import_, export, history, tenants)
