"""`complyd ingest`: its flags, the order of its steps, its summary and its exit status.

Owns reading every report and checking every request before the first is sent (a report that
cannot be mapped stops the command with nothing sent), then sending them in file order. Exit
status: 0 sent (or printed), 1 nothing sent or a put refused, 2 usage. Must not parse a report
format or build a request body itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from complyd.config import DEFAULT_REGION
from complyd.errors import ComplianceError
from complyd.model import DEFAULT_ACCOUNT_ID, Status
from complyd.operator import render
from complyd.operator.ingest import delivery, inspec, lynis, sarif, xccdf
from complyd.operator.ingest.puts import OPERATION, Put, Target, build
from complyd.operator.ingest.report import Report, ReportError
from complyd.operator.ingest.source import STDIN, Source
from complyd.wire.model import input_shape, string_constraints
from complyd.wire.shapes import validate

Reader = Callable[[Source], list[Report]]
FORMATS: dict[str, Reader] = {
    "xccdf": xccdf.parse,
    "inspec": inspec.parse,
    "sarif": sarif.parse,
    "lynis": lynis.parse,
}
DEFAULT_MAX_SIZE = 256 * 1024 * 1024


def _compliance_type(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    shape = input_shape(OPERATION).members["ComplianceType"]
    try:
        validate(shape, value)
    except ComplianceError:
        limits = string_constraints(shape.name)
        raise click.BadParameter(
            f"{value!r} is not a compliance type name (pattern {limits['pattern']}, at most "
            f"{limits['max']} characters)"
        ) from None
    if not value.startswith("Custom:"):
        raise click.BadParameter(f"{value!r}: reports go to a type of your own, Custom:NAME")
    return value


def _read(
    names: tuple[str, ...], reader: Reader, target: Target, max_size: int
) -> tuple[list[Put], list[str]]:
    """Every report read and mapped; the errors, one line each, of those that could not be."""
    puts: list[Put] = []
    errors: list[str] = []
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    err = render.console(stderr=True)
    # Off a terminal the bar would only leave a blank line behind.
    with Progress(
        *columns, TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal
    ) as progress:
        for name in names:
            source = Source(name, max_size)
            task = progress.add_task(f"reading {source.shown}", total=source.size())
            source.on_read = functools.partial(progress.advance, task)
            said = "the time it was read" if name == STDIN else "the file's modification time"
            try:
                with source:
                    reports = reader(source)
                puts += [build(r, target, source.modified(), said) for r in reports]
            except ReportError as error:
                errors.append(str(error))
            progress.remove_task(task)
    seen: dict[tuple[str, str], str] = {}
    for put in puts:
        if put.key in seen:
            rid, ctype = put.key
            errors.append(
                f"{put.source}: {ctype} for {rid} comes from {seen[put.key]} too, and one put "
                "would replace the other; ingest them apart or give a --compliance-type each"
            )
        seen.setdefault(put.key, put.source)
    return puts, errors


def describe(put: Put) -> list[str]:
    rid, ctype = put.key
    count = len(put.body["Items"])
    line = f"{put.source}: {ctype} for {rid}: {count} items"
    statuses = [f"{put.statuses[s.value]} {s.value}" for s in Status if put.statuses[s.value]]
    if statuses:
        line += f" ({', '.join(statuses)})"
    if put.skipped:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(put.skipped.items()))
        line += f"; skipped {reasons}"
    if not count:
        line += "; with no items the put removes this type from the node"
    return [line, *(f"  note: {note}" for note in put.notes)]


@click.command()
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(list(FORMATS)),
    help="The report format: XCCDF/ARF results, InSpec JSON, SARIF 2.1.0, lynis-report.dat.",
)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True)
)
@click.option("--resource-id", help="The node the reports are about [default: the report's].")
@click.option(
    "--compliance-type",
    callback=_compliance_type,
    help="Custom:NAME to put the items under [default: per format].",
)
@click.option(
    "--any-resource-id",
    is_flag=True,
    help="Send resource ids that are not managed-node ids (the server must accept them).",
)
@click.option("--endpoint-url", help="Send to this endpoint [default: AWS's own for the region].")
@click.option(
    "--region", help="AWS region [default: the AWS configuration's; us-east-1 with --db]."
)
@click.option("--profile", help="AWS profile for credentials and region.")
@click.option("--db", help="Apply to this store directly, no server (path or URL, as for serve).")
@click.option("--account", default=DEFAULT_ACCOUNT_ID, show_default=True, help="With --db.")
@click.option("--dry-run", is_flag=True, help="Print the requests as JSON lines; send nothing.")
@click.option(
    "--max-size",
    default=DEFAULT_MAX_SIZE,
    show_default=True,
    type=click.IntRange(1),
    envvar="COMPLYD_INGEST_MAX_SIZE",
    help="Largest report read, in bytes.",
)
def ingest(
    fmt: str,
    files: tuple[str, ...],
    resource_id: str | None,
    compliance_type: str | None,
    any_resource_id: bool,
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    db: str | None,
    account: str,
    dry_run: bool,
    max_size: int,
) -> None:
    """Turn scanner reports (FILE, or - for standard input) into PutComplianceItems calls.

    Every report is read and every request checked against the API's model before the first
    is sent; a report that cannot be mapped stops the command with nothing sent (exit 1).
    """
    if db and endpoint_url:
        raise click.UsageError(
            "--db applies to a store and --endpoint-url sends to a server; not both"
        )
    if files.count(STDIN) > 1:
        raise click.UsageError("standard input (-) can be read only once")
    target = Target(resource_id, compliance_type, any_resource_id)
    puts, errors = _read(files, FORMATS[fmt], target, max_size)
    if errors:
        for error in errors:
            click.echo(error, err=True)
        raise click.ClickException(f"nothing was sent: {len(errors)} problem(s) in the reports")
    for put in puts:
        for line in describe(put):
            click.echo(line, err=dry_run)
    try:
        if dry_run:
            delivery.print_puts(puts)
            click.echo(f"dry run: {len(puts)} puts printed, nothing sent", err=True)
        elif db:
            done = delivery.apply_to_store(
                puts,
                db,
                account=account,
                region=region or DEFAULT_REGION,
                any_resource_id=any_resource_id,
            )
            click.echo(
                f"applied {done.sent} puts to {done.where}; {done.unchanged} changed nothing "
                "(same ItemContentHash, or an older ExecutionTime than stored)"
            )
        else:
            done = delivery.send_to_endpoint(puts, endpoint_url, region=region, profile=profile)
            click.echo(f"sent {done.sent} puts to {done.where}")
    except delivery.DeliveryError as error:
        raise click.ClickException(str(error)) from None
