"""Export: every tenant's items and resource summaries as files, read page by page.

Owns the two layouts. `json` is Resource Data Sync's:
`AWS:ComplianceItem/accountid=<id>/region=<r>/resourcetype=ManagedInstanceInventory/<node>.json`
(and the same under `AWS:ComplianceSummary`), one JSON object per line: the API's ComplianceItem
or ResourceComplianceSummaryItem plus AccountId, Region and CaptureTime (when the export began).
`csv` writes `accountid=<id>/region=<r>/items.csv` and `summaries.csv`, one row per item or
(resource, type). Rows come from the service by keyset pages in resource order, so memory stays
flat at any fleet size and at most one file is open at a time.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import orjson

from complyd.clock import iso_millis, iso_seconds, now_ms
from complyd.model import MANAGED_INSTANCE, Severity, Tenant
from complyd.paging import all_rows
from complyd.service import ComplianceService
from complyd.wire import codec

ITEM_ROOT = "AWS:ComplianceItem"
SUMMARY_ROOT = "AWS:ComplianceSummary"
RESOURCE_TYPE_DIR = "resourcetype=ManagedInstanceInventory"
ITEM_COLUMNS = (
    "AccountId",
    "Region",
    "ResourceId",
    "ResourceType",
    "ComplianceType",
    "Id",
    "Title",
    "Status",
    "Severity",
    "ExecutionTime",
    "ExecutionId",
    "ExecutionType",
    "Details",
    "CaptureTime",
)
_COUNTS = tuple(f"{half}{s.count_name}" for half in ("Compliant", "NonCompliant") for s in Severity)
SUMMARY_COLUMNS = (
    "AccountId",
    "Region",
    "ResourceId",
    "ResourceType",
    "ComplianceType",
    "Status",
    "OverallSeverity",
    "CompliantCount",
    "NonCompliantCount",
    *_COUNTS,
    "ExecutionTime",
    "ExecutionId",
    "ExecutionType",
    "CaptureTime",
)


@dataclass
class ExportReport:
    tenants: int = 0
    items: int = 0
    summaries: int = 0
    files: int = 0


def safe_name(text: str) -> str:
    """A path segment from an id: anything but letters, digits, `.`, `_` and `-` is
    %-encoded, so ids accepted with --any-resource-id cannot climb out of the directory."""
    name = quote(text, safe="")
    return name if name not in (".", "..") else name.replace(".", "%2E")


T = TypeVar("T")


def iso(seconds: float) -> str:
    """Epoch seconds as ISO 8601 UTC, to the millisecond complyd keeps."""
    return iso_millis(round(seconds * 1000))


class Exporter:
    def __init__(
        self,
        service: ComplianceService,
        out: Path,
        fmt: str,
        *,
        page_size: int = 500,
        on_resource: Callable[[], None] = lambda: None,
    ) -> None:
        self.service = service
        self.out = out
        self.fmt = fmt
        self.page_size = page_size
        self.on_resource = on_resource
        self.capture_time = iso_seconds(now_ms())
        self.report = ExportReport()

    def run(self, tenants: list[Tenant]) -> ExportReport:
        for tenant in tenants:
            self.report.tenants += 1
            items = (self._item(tenant, obj) for obj in self._items(tenant))
            summaries = (self._summary(tenant, obj) for obj in self._summaries(tenant))
            if self.fmt == "csv":
                tenant_dir = self._tenant_dir(self.out, tenant)
                self.report.items += self._csv(tenant_dir / "items.csv", ITEM_COLUMNS, items)
                self.report.summaries += self._csv(
                    tenant_dir / "summaries.csv", SUMMARY_COLUMNS, summaries
                )
            else:
                item_dir = self._tenant_dir(self.out / ITEM_ROOT, tenant) / RESOURCE_TYPE_DIR
                summary_dir = self._tenant_dir(self.out / SUMMARY_ROOT, tenant) / RESOURCE_TYPE_DIR
                self.report.items += self._json_by_node(item_dir, items)
                self.report.summaries += self._json_by_node(summary_dir, summaries)
        return self.report

    def _items(self, tenant: Tenant) -> Iterator[dict[str, Any]]:
        rows = all_rows(
            lambda after: self.service.list_compliance_items(
                tenant, None, None, [], after, self.page_size
            )
        )
        return (codec.encode_item(r, MANAGED_INSTANCE) for r in rows)

    def _summaries(self, tenant: Tenant) -> Iterator[dict[str, Any]]:
        rows = all_rows(
            lambda after: self.service.list_resource_compliance_summaries(
                tenant, [], after, self.page_size
            )
        )
        return (codec.encode_resource_summary(r) for r in rows)

    def _tenant_dir(self, root: Path, tenant: Tenant) -> Path:
        return (
            root
            / f"accountid={safe_name(tenant.account_id)}"
            / f"region={safe_name(tenant.region)}"
        )

    def _item(self, tenant: Tenant, obj: dict[str, Any]) -> dict[str, Any]:
        if self.fmt != "csv":
            return {"AccountId": tenant.account_id, "Region": tenant.region, **obj,
                    "CaptureTime": self.capture_time}  # fmt: skip
        execution = obj["ExecutionSummary"]
        return {
            "AccountId": tenant.account_id,
            "Region": tenant.region,
            **{k: obj.get(k, "") for k in ITEM_COLUMNS[2:9]},
            "ExecutionTime": iso(execution["ExecutionTime"]),
            "ExecutionId": execution.get("ExecutionId", ""),
            "ExecutionType": execution.get("ExecutionType", ""),
            "Details": orjson.dumps(obj["Details"]).decode(),
            "CaptureTime": self.capture_time,
        }

    def _summary(self, tenant: Tenant, obj: dict[str, Any]) -> dict[str, Any]:
        if self.fmt != "csv":
            return {"AccountId": tenant.account_id, "Region": tenant.region, **obj,
                    "CaptureTime": self.capture_time}  # fmt: skip
        execution = obj["ExecutionSummary"]
        compliant, non = obj["CompliantSummary"], obj["NonCompliantSummary"]
        row = {
            "AccountId": tenant.account_id,
            "Region": tenant.region,
            **{k: obj[k] for k in SUMMARY_COLUMNS[2:7]},
            "CompliantCount": compliant["CompliantCount"],
            "NonCompliantCount": non["NonCompliantCount"],
            "ExecutionTime": iso(execution["ExecutionTime"]),
            "ExecutionId": execution.get("ExecutionId", ""),
            "ExecutionType": execution.get("ExecutionType", ""),
            "CaptureTime": self.capture_time,
        }
        for s in Severity:
            row["Compliant" + s.count_name] = compliant["SeveritySummary"][s.count_name]
            row["NonCompliant" + s.count_name] = non["SeveritySummary"][s.count_name]
        return row

    def _json_by_node(self, directory: Path, rows: Iterator[dict[str, Any]]) -> int:
        """One file per node; rows arrive in resource order, so each file is written once."""
        written, node, f = 0, None, None
        try:
            for row in rows:
                if row["ResourceId"] != node:
                    if f is None:
                        directory.mkdir(parents=True, exist_ok=True)
                    else:
                        f.close()
                    node = row["ResourceId"]
                    f = open(directory / (safe_name(node) + ".json"), "wb")
                    self.report.files += 1
                    self.on_resource()
                assert f is not None
                f.write(orjson.dumps(row) + b"\n")
                written += 1
        finally:
            if f is not None:
                f.close()
        return written

    def _csv(self, path: Path, columns: tuple[str, ...], rows: Iterator[dict[str, Any]]) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        written, last = 0, None
        with open(path, "w", newline="", encoding="utf-8") as f:
            self.report.files += 1
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                if row["ResourceId"] != last:
                    last = row["ResourceId"]
                    self.on_resource()
                writer.writerow(row)
                written += 1
        return written
