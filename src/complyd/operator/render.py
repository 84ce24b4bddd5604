"""Rendering for the operator commands: rich tables for people, JSON lines for scripts.

Owns how rows look on a terminal. JSON output reuses the wire encoders, so a line printed by
`--json` is the object the API returns for the same row. Must not read the store.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from complyd.clock import iso_seconds
from complyd.model import (
    MANAGED_INSTANCE,
    HistoryEntry,
    ResourceSummary,
    Severity,
    Status,
    StoredItem,
    TypeSummary,
)
from complyd.rollup import TenantRollup
from complyd.wire import codec

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFORMATIONAL: "blue",
    Severity.UNSPECIFIED: "dim",
}


# Piped output has no terminal width to fit; rich would assume 80 columns and cut cells.
PIPE_WIDTH = 200


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


iso = iso_seconds


def status_text(status: Status) -> str:
    style = "green" if status is Status.COMPLIANT else "bold red"
    return f"[{style}]{status.value}[/]"


def severity_text(severity: Severity) -> str:
    return f"[{SEVERITY_STYLE[severity]}]{severity.value}[/]"


def json_lines(objects: Iterable[dict[str, Any]]) -> None:
    """One JSON object per line on stdout, written as rows arrive."""
    out = sys.stdout.buffer
    for obj in objects:
        out.write(orjson.dumps(obj) + b"\n")
    out.flush()


def type_summaries_table(rows: Iterable[TypeSummary]) -> Table:
    table = Table(title="Compliance by type (resources)")
    table.add_column("Compliance type", overflow="fold")
    table.add_column("Compliant", justify="right", style="green")
    table.add_column("Non-compliant", justify="right", style="red")
    for s in Severity:
        table.add_column(s.value.capitalize(), justify="right")
    for row in rows:
        table.add_row(
            row.compliance_type,
            str(row.compliant.total),
            str(row.non_compliant.total),
            *(str(row.non_compliant.get(s)) for s in Severity),
        )
    table.caption = "Severity columns count non-compliant resources by overall severity."
    return table


def resource_summaries_table(rows: Iterable[ResourceSummary]) -> Table:
    table = Table(title="Resources")
    for name in ("Resource", "Compliance type"):
        table.add_column(name, overflow="fold")
    table.add_column("Status", overflow="fold")
    table.add_column("Severity", overflow="fold")
    table.add_column("Compliant", justify="right")
    table.add_column("Non-compliant", justify="right")
    table.add_column("Last execution", overflow="fold")
    for row in rows:
        table.add_row(
            row.resource_id,
            row.compliance_type,
            status_text(row.status),
            severity_text(row.overall_severity),
            str(row.compliant.total),
            str(row.non_compliant.total),
            iso(row.execution.execution_time_ms),
        )
    return table


def items_table(resource_id: str, rows: Iterable[StoredItem]) -> Table:
    table = Table(title=f"Compliance items of {resource_id}")
    table.add_column("Compliance type", overflow="fold")
    table.add_column("Id", overflow="fold")
    table.add_column("Title", overflow="fold")
    table.add_column("Status", overflow="fold")
    table.add_column("Severity", overflow="fold")
    table.add_column("Execution", overflow="fold")
    for item in rows:
        table.add_row(
            item.compliance_type,
            item.entry.id or "",
            item.entry.title or "",
            status_text(item.entry.status),
            severity_text(item.entry.severity),
            iso(item.execution.execution_time_ms),
        )
    return table


def encoded_type_summaries(rows: Iterable[TypeSummary]) -> Iterator[dict[str, Any]]:
    return (codec.encode_type_summary(r) for r in rows)


def encoded_resource_summaries(rows: Iterable[ResourceSummary]) -> Iterator[dict[str, Any]]:
    return (codec.encode_resource_summary(r) for r in rows)


def encoded_items(rows: Iterable[StoredItem]) -> Iterator[dict[str, Any]]:
    return (codec.encode_item(r, MANAGED_INSTANCE) for r in rows)


REMOVED = "REMOVED"


def encoded_history(entries: Iterable[HistoryEntry]) -> Iterator[dict[str, Any]]:
    """History entries in the API's vocabulary; a removed type has Status REMOVED."""
    for e in entries:
        out: dict[str, Any] = {
            "ResourceId": e.resource_id,
            "ComplianceType": e.compliance_type,
            "RecordedTime": e.recorded_ms / 1000,
            "Status": e.status.value if e.status else REMOVED,
            "CompliantCount": e.compliant,
            "NonCompliantCount": e.non_compliant,
        }
        if e.overall_severity is not None:
            out["OverallSeverity"] = e.overall_severity.value
        if e.execution is not None:
            out["ExecutionSummary"] = codec.encode_execution(e.execution)
        yield out


def history_table(resource_id: str, entries: Iterable[HistoryEntry]) -> Table:
    table = Table(title=f"Compliance history of {resource_id}")
    table.add_column("Recorded", overflow="fold")
    table.add_column("Compliance type", overflow="fold")
    table.add_column("Status", overflow="fold")
    table.add_column("Severity", overflow="fold")
    table.add_column("Compliant", justify="right")
    table.add_column("Non-compliant", justify="right")
    table.add_column("Execution", overflow="fold")
    for e in entries:
        table.add_row(
            iso(e.recorded_ms),
            e.compliance_type,
            status_text(e.status) if e.status else f"[dim]{REMOVED}[/]",
            severity_text(e.overall_severity) if e.overall_severity else "",
            str(e.compliant),
            str(e.non_compliant),
            iso(e.execution.execution_time_ms) if e.execution else "",
        )
    return table


def fleet_history_table(points: Iterable[tuple[int, int]]) -> Table:
    table = Table(title="Non-compliant resources over time")
    table.add_column("From", overflow="fold")
    table.add_column("Non-compliant at end", justify="right")
    for start_ms, count in points:
        table.add_row(iso(start_ms), str(count))
    return table


def encoded_rollups(rows: Iterable[TenantRollup]) -> Iterator[dict[str, Any]]:
    for r in rows:
        yield {
            "AccountId": r.tenant.account_id,
            "Region": r.tenant.region,
            "ResourceCount": r.resources,
            "NonCompliantCount": r.non_compliant,
            "ComplianceTypes": [
                {
                    "ComplianceType": t.compliance_type,
                    "ResourceCount": t.resources,
                    "NonCompliantCount": t.non_compliant,
                }
                for t in r.by_type
            ],
        }


def rollups_table(rows: Iterable[TenantRollup]) -> Table:
    table = Table(title="Tenants, largest first")
    table.add_column("Account", overflow="fold")
    table.add_column("Region", overflow="fold")
    table.add_column("Resources", justify="right")
    table.add_column("Non-compliant", justify="right", style="red")
    table.add_column("Non-compliant by type", overflow="fold")
    for r in rows:
        by_type = ", ".join(
            f"{t.compliance_type} {t.non_compliant}/{t.resources}" for t in r.by_type
        )
        table.add_row(
            r.tenant.account_id, r.tenant.region, str(r.resources), str(r.non_compliant), by_type
        )
    return table
