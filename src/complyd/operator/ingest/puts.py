"""From read reports to PutComplianceItems request bodies, checked before anything is sent.

Owns the steps every format shares: which node and type a report goes to, the execution time
when a report records none, cutting values that are merely too long (with a note), the
`ItemContentHash` digest, and the final check of each body with the wire's own model-driven
validation. Every limit is read from botocore's model (or the service, for item Ids); none is
retyped here. Must not send anything.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from complyd.errors import ComplianceError
from complyd.model import MANAGED_INSTANCE
from complyd.operator.ingest.report import Finding, Report, ReportError
from complyd.service import MANAGED_NODE_ID, MAX_ITEM_ID_BYTES
from complyd.wire import codec
from complyd.wire.model import input_shape

OPERATION = "PutComplianceItems"
ELLIPSIS = "…"
# An Id too long for the store keeps its start and a digest of the whole, so it stays unique.
ID_DIGEST_CHARS = 16
_ITEM_PATH = re.compile(r"'items\.(\d+)\.member")


@dataclass(frozen=True, slots=True)
class Limits:
    items: int
    title: int
    details_key: int
    details_value: int
    execution_type: int


@functools.cache
def limits() -> Limits:
    request = input_shape(OPERATION)
    items = request.members["Items"]
    entry = items.member
    details = entry.members["Details"]
    return Limits(
        items=items.metadata["max"],
        title=entry.members["Title"].metadata["max"],
        details_key=details.key.metadata["max"],
        details_value=details.value.metadata["max"],
        execution_type=request.members["ExecutionSummary"].members["ExecutionType"].metadata["max"],
    )


@dataclass(frozen=True, slots=True)
class Target:
    """Where reports go, as the operator said: None means "as the report says"."""

    resource_id: str | None = None
    compliance_type: str | None = None
    any_resource_id: bool = False


@dataclass
class Put:
    """One checked request: `body` is the PutComplianceItems body, ExecutionTime in epoch
    seconds (the `complyd import` line shape)."""

    source: str
    body: dict[str, Any]
    statuses: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return self.body["ResourceId"], self.body["ComplianceType"]


def cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + ELLIPSIS


def short_id(item_id: str) -> str:
    """`item_id` if the store can key it, else its start and a digest of all of it."""
    raw = item_id.encode()
    if len(raw) <= MAX_ITEM_ID_BYTES:
        return item_id
    digest = hashlib.sha256(raw).hexdigest()[:ID_DIGEST_CHARS]
    keep = MAX_ITEM_ID_BYTES - len(digest) - 1
    return raw[:keep].decode(errors="ignore") + "~" + digest


def resource_id_for(report: Report, target: Target) -> str:
    given = target.resource_id
    rid = given or report.resource_id
    if rid is None:
        raise ReportError(
            f"{report.source}: the report names no node ({report.resource_from} is missing); "
            "pass --resource-id"
        )
    if not target.any_resource_id and not MANAGED_NODE_ID.fullmatch(rid):
        said = f"--resource-id {rid!r}" if given else f"{report.resource_from} {rid!r}"
        raise ReportError(
            f"{report.source}: {said} is not a managed-node id (i-..., mi-...): pass "
            "--resource-id with the node's id, or --any-resource-id to send it as it is "
            "(a complyd server must then run with --any-resource-id; AWS takes only "
            "managed-node ids)"
        )
    return rid


def _item(finding: Finding, lim: Limits, counts: Counter[str]) -> dict[str, Any]:
    item: dict[str, Any] = {"Id": short_id(finding.id)}
    if item["Id"] != finding.id:
        counts["ids shortened to fit the store's key"] += 1
    if finding.title is not None:
        item["Title"] = cut(finding.title, lim.title)
        if item["Title"] != finding.title:
            counts[f"titles cut to {lim.title} characters"] += 1
    item["Severity"] = finding.severity.value
    item["Status"] = finding.status.value
    details = {}
    for key, value in finding.details.items():
        short_key, short_value = cut(key, lim.details_key), cut(value, lim.details_value)
        if short_value != value:
            counts[f"Details values cut to {lim.details_value} characters"] += 1
        if short_key != key:
            counts[f"Details keys cut to {lim.details_key} characters"] += 1
        details[short_key] = short_value
    if details:
        item["Details"] = details
    return item


def content_hash(items: list[dict[str, Any]]) -> str:
    """A digest of exactly the items sent: an unchanged report puts the same hash, which the
    server answers without writing anything."""
    return hashlib.sha256(orjson.dumps(items, option=orjson.OPT_SORT_KEYS)).hexdigest()


def build(report: Report, target: Target, fallback_time: datetime, fallback_said: str) -> Put:
    """The checked request for `report`; a ReportError names what cannot be mapped."""
    lim = limits()
    if len(report.findings) > lim.items:
        raise ReportError(
            f"{report.source}: maps to {len(report.findings):,} items, more than the "
            f"{lim.items:,} one PutComplianceItems call holds (Items); split the scan"
        )
    put = Put(source=report.source, body={}, skipped=report.skipped, notes=list(report.notes))
    when = report.execution_time
    if when is None:
        when = fallback_time
        put.notes.append(f"the report records no time; ExecutionTime is {fallback_said}")
    cuts: Counter[str] = Counter()
    items = sorted((_item(f, lim, cuts) for f in report.findings), key=lambda i: i["Id"])
    put.notes += [f"{n} {what}" for what, n in cuts.items()]
    put.statuses.update(i["Status"] for i in items)
    summary: dict[str, Any] = {"ExecutionTime": when.timestamp()}
    if report.execution_type:
        summary["ExecutionType"] = cut(report.execution_type, lim.execution_type)
    put.body = {
        "ResourceId": resource_id_for(report, target),
        "ResourceType": MANAGED_INSTANCE,
        "ComplianceType": target.compliance_type or report.compliance_type,
        "ExecutionSummary": summary,
        "Items": items,
        "ItemContentHash": content_hash(items),
        "UploadType": "COMPLETE",
    }
    check(put)
    return put


def check(put: Put) -> None:
    """The wire's validation of the body, exactly as a server would run it."""
    try:
        codec.decode_put(put.body)
    except ComplianceError as error:
        where = f"{put.source}: {put.body['ComplianceType']} for {put.body['ResourceId']}"
        # The message names `items.N.member...`; the item's Id is what the operator can find.
        at = _ITEM_PATH.search(error.message)
        if at is not None and int(at[1]) <= len(put.body["Items"]):
            where += f", item {put.body['Items'][int(at[1]) - 1].get('Id')!r}"
        raise ReportError(f"{where}: {error.code}: {error.message}") from None
