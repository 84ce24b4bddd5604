"""AWS's own producers of compliance data, replayed through boto3 as they call the API.

Two uploaders write most compliance data in AWS, and neither may need changing to work against
complyd:

- the AWS-RunPatchBaseline payload: per scan it hashes the patch list (MD5, base64); when the
  hash equals the one it last uploaded successfully it sends `Items: []`, else the full list;
  always `UploadType=PARTIAL`, `ComplianceType: Patch`, with the hash. On
  InvalidItemContentException or ItemContentMismatchException it sends the full list once more,
  and after a success it remembers the hash.
- the SSM Agent's association uploader: `COMPLETE` puts of type Association with empty
  ExecutionId and ExecutionType strings, one item per association (Id = association id,
  Severity UNSPECIFIED, Details DocumentName/DocumentVersion), and `Items: []` with the previous
  hash when nothing changed.

After every step the node's items, its summary rows and ListComplianceSummaries must agree
(re-derived by tests/api/reference.py from the items alone).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from .harness import new_instance_id
from .reference import (
    at,
    entry,
    fleet_summaries,
    list_compliance_summaries,
    list_items,
    list_resource_summaries,
    project_fleet_row,
    project_resource_row,
    put,
    resource_row,
)

RESEND_ERRORS = ("InvalidItemContentException", "ItemContentMismatchException")
PATCH_ONLY = {"Key": "ComplianceType", "Values": ["Patch"]}


@dataclass(frozen=True)
class Patch:
    kb: str
    title: str
    state: str  # Installed, Missing, Failed, NotApplicable, InstalledOther, ...
    severity: str = "Important"
    classification: str = "SecurityUpdates"

    def item(self, baseline: str, group: str) -> dict[str, Any]:
        missing = self.state in ("Missing", "Failed")
        return entry(
            self.kb,
            "HIGH" if missing else "UNSPECIFIED",
            "NON_COMPLIANT" if missing else "COMPLIANT",
            title=self.title,
            details={
                "Classification": self.classification,
                "PatchSeverity": self.severity,
                "PatchState": self.state,
                "PatchBaselineId": baseline,
                "PatchGroup": group,
                "InstalledTime": "" if missing else "2024-01-01T00:00:00Z",
            },
        )


@dataclass
class PatchPayload:
    """The patch upload of AWS-RunPatchBaseline, as it behaves on one node."""

    ssm: Any
    instance_id: str
    baseline: str = "pb-0123456789abcdef0"
    group: str = "web"
    cached_hash: str | None = None
    sent: list[int] = field(default_factory=list)  # items sent per put, for the checks

    def scan(self, patches: Sequence[Patch], when: datetime, command_id: str) -> None:
        items = [p.item(self.baseline, self.group) for p in patches]
        digest = hashlib.md5(json.dumps(items, sort_keys=True).encode()).digest()
        content_hash = base64.b64encode(digest).decode()
        unchanged = content_hash == self.cached_hash
        try:
            self._upload([] if unchanged else items, content_hash, when, command_id)
        except ClientError as error:
            if error.response["Error"]["Code"] not in RESEND_ERRORS:
                raise
            self._upload(items, content_hash, when, command_id)
        self.cached_hash = content_hash

    def _upload(
        self, items: list[dict[str, Any]], content_hash: str, when: datetime, command_id: str
    ) -> None:
        self.sent.append(len(items))
        put(
            self.ssm,
            self.instance_id,
            "Patch",
            items,
            when=when,
            execution_id=command_id,
            execution_type="Command",
            upload_type="PARTIAL",
            content_hash=content_hash,
        )


@dataclass
class AssociationUploader:
    """The SSM Agent's association compliance upload, as it behaves on one node."""

    ssm: Any
    instance_id: str
    last_hash: str | None = None

    def report(self, statuses: dict[str, str], when: datetime) -> None:
        items = [
            entry(
                association_id,
                "UNSPECIFIED",
                status,
                title=f"association {association_id}",
                details={"DocumentName": "AWS-RunShellScript", "DocumentVersion": "1"},
            )
            for association_id, status in sorted(statuses.items())
        ]
        content_hash = hashlib.sha256(json.dumps(items).encode()).hexdigest()
        self.ssm.put_compliance_items(
            ResourceId=self.instance_id,
            ResourceType="ManagedInstance",
            ComplianceType="Association",
            ExecutionSummary={"ExecutionTime": when, "ExecutionId": "", "ExecutionType": ""},
            Items=[] if content_hash == self.last_hash else items,
            ItemContentHash=content_hash,
            UploadType="COMPLETE",
        )
        self.last_hash = content_hash


def patches_of(ssm: Any, rid: str) -> list[tuple[str, str, str]]:
    got = list_items(ssm, rid, [PATCH_ONLY])
    return [(it["Id"], it["Status"], it["Details"]["PatchState"]) for it in got]


def others_of(ssm: Any, rid: str) -> list[dict[str, Any]]:
    return list_items(ssm, rid, [{**PATCH_ONLY, "Type": "NOT_EQUAL"}])


def assert_summaries_agree_with_items(ssm: Any) -> None:
    """Every summary row and the fleet summary are what the tenant's items make them."""
    items = list_items(ssm)
    by_row: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for it in items:
        by_row.setdefault((it["ResourceId"], it["ComplianceType"]), []).append(it)
    expected_rows = [resource_row(rid, ctype, its) for (rid, ctype), its in sorted(by_row.items())]
    rows = list_resource_summaries(ssm)
    assert [project_resource_row(r) for r in rows] == expected_rows
    expected_fleet = fleet_summaries(expected_rows)
    assert [project_fleet_row(r) for r in list_compliance_summaries(ssm)] == expected_fleet


SCAN_1 = [
    Patch("KB5001", "2024-01 Cumulative Update", "Installed"),
    Patch("KB5002", "Servicing Stack Update", "Missing"),
    Patch("KB5003", "Defender definitions", "Installed", "Moderate", "DefinitionUpdates"),
]
SCAN_2 = [
    Patch("KB5001", "2024-01 Cumulative Update", "Installed"),
    Patch("KB5002", "Servicing Stack Update", "Installed"),
    Patch("KB5004", "2024-02 Cumulative Update", "Failed", "Critical"),
]


def test_patch_payload_scans_stay_in_sync(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:Antivirus", [entry("engine", "HIGH", "NON_COMPLIANT")])
    AssociationUploader(ssm, rid).report({"assoc-1": "COMPLIANT"}, at(0))
    others = others_of(ssm, rid)
    payload = PatchPayload(ssm, rid)

    payload.scan(SCAN_1, at(60), "cmd-1")
    assert patches_of(ssm, rid) == [
        ("KB5001", "COMPLIANT", "Installed"),
        ("KB5002", "NON_COMPLIANT", "Missing"),
        ("KB5003", "COMPLIANT", "Installed"),
    ]
    assert others_of(ssm, rid) == others
    assert_summaries_agree_with_items(ssm)

    # The same patches again: the payload sends only the hash, and the server keeps the list.
    first = list_items(ssm, rid, [PATCH_ONLY])
    payload.scan(SCAN_1, at(120), "cmd-2")
    assert payload.sent == [3, 0]
    assert list_items(ssm, rid, [PATCH_ONLY]) == first
    assert others_of(ssm, rid) == others
    assert_summaries_agree_with_items(ssm)

    # A new scan replaces the Patch items exactly: KB5003 is gone.
    payload.scan(SCAN_2, at(180), "cmd-3")
    assert payload.sent == [3, 0, 3]
    assert patches_of(ssm, rid) == [
        ("KB5001", "COMPLIANT", "Installed"),
        ("KB5002", "COMPLIANT", "Installed"),
        ("KB5004", "NON_COMPLIANT", "Failed"),
    ]
    [row] = list_resource_summaries(ssm, [{"Key": "ResourceId", "Values": [rid]}, PATCH_ONLY])
    assert row["ExecutionSummary"]["ExecutionId"] == "cmd-3"
    assert (row["Status"], row["OverallSeverity"]) == ("NON_COMPLIANT", "HIGH")
    assert others_of(ssm, rid) == others
    assert_summaries_agree_with_items(ssm)


def test_a_node_whose_cached_hash_the_server_never_saw_resends_its_full_list(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Custom:Antivirus", [entry("engine")])
    # The node uploaded SCAN_1 to another endpoint before (or the server lost it): its cache
    # says in sync, the server holds no Patch items.
    earlier = PatchPayload(ssm, new_instance_id())
    earlier.scan(SCAN_1, at(0), "cmd-0")
    payload = PatchPayload(ssm, rid, cached_hash=earlier.cached_hash)

    payload.scan(SCAN_1, at(60), "cmd-1")
    assert payload.sent == [0, 3]  # the hash alone was refused, then the list was sent
    assert [p[0] for p in patches_of(ssm, rid)] == ["KB5001", "KB5002", "KB5003"]
    assert [it["Id"] for it in others_of(ssm, rid)] == ["engine"]
    assert_summaries_agree_with_items(ssm)

    # Now in sync: the next unchanged scan is hash-only again and keeps the list.
    payload.scan(SCAN_1, at(120), "cmd-2")
    assert payload.sent == [0, 3, 0]
    assert [p[0] for p in patches_of(ssm, rid)] == ["KB5001", "KB5002", "KB5003"]
    assert_summaries_agree_with_items(ssm)


def test_a_changed_hash_with_the_server_holding_an_older_list_is_replaced(ssm: Any) -> None:
    """The server holds SCAN_1, the node's cache says SCAN_2 (a lost acknowledgement)."""
    rid = new_instance_id()
    PatchPayload(ssm, rid).scan(SCAN_1, at(0), "cmd-1")
    ahead = PatchPayload(ssm, new_instance_id())
    ahead.scan(SCAN_2, at(0), "cmd-x")
    payload = PatchPayload(ssm, rid, cached_hash=ahead.cached_hash)
    payload.scan(SCAN_2, at(60), "cmd-2")
    assert payload.sent == [0, 3]
    assert [p[0] for p in patches_of(ssm, rid)] == ["KB5001", "KB5002", "KB5004"]
    assert_summaries_agree_with_items(ssm)


def test_association_uploader_keeps_items_on_hash_only_puts(ssm: Any) -> None:
    rid = new_instance_id()
    put(ssm, rid, "Patch", [entry("KB1", "HIGH", "NON_COMPLIANT")])
    agent = AssociationUploader(ssm, rid)

    agent.report({"a-111": "COMPLIANT", "a-222": "NON_COMPLIANT"}, at(0))
    first = list_items(ssm, rid, [{"Key": "ComplianceType", "Values": ["Association"]}])
    assert [(it["Id"], it["Status"], it["Severity"]) for it in first] == [
        ("a-111", "COMPLIANT", "UNSPECIFIED"),
        ("a-222", "NON_COMPLIANT", "UNSPECIFIED"),
    ]
    assert first[0]["Details"] == {"DocumentName": "AWS-RunShellScript", "DocumentVersion": "1"}
    # Empty ExecutionId / ExecutionType strings are dropped, not returned.
    assert set(first[0]["ExecutionSummary"]) == {"ExecutionTime"}
    assert_summaries_agree_with_items(ssm)

    # Nothing changed: Items [] with the previous hash keeps every item.
    agent.report({"a-111": "COMPLIANT", "a-222": "NON_COMPLIANT"}, at(1800))
    assert list_items(ssm, rid, [{"Key": "ComplianceType", "Values": ["Association"]}]) == first
    assert_summaries_agree_with_items(ssm)

    # A status changes: the full list goes up and replaces the type.
    agent.report({"a-111": "COMPLIANT", "a-222": "COMPLIANT"}, at(3600))
    now = list_items(ssm, rid, [{"Key": "ComplianceType", "Values": ["Association"]}])
    assert [(it["Id"], it["Status"]) for it in now] == [
        ("a-111", "COMPLIANT"),
        ("a-222", "COMPLIANT"),
    ]
    [row] = list_resource_summaries(
        ssm,
        [
            {"Key": "ResourceId", "Values": [rid]},
            {"Key": "ComplianceType", "Values": ["Association"]},
        ],
    )
    assert row["Status"] == "COMPLIANT"
    assert [it["Id"] for it in list_items(ssm, rid, [PATCH_ONLY])] == ["KB1"]
    assert_summaries_agree_with_items(ssm)
