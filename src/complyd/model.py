"""Domain values shared by every layer: frozen dataclasses and enums, no behaviour beyond ordering.

Owns the vocabulary (tenant, item, summary, filter, page). Must not import any other complyd
module, perform I/O or know about JSON or SQL.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, NamedTuple, TypeVar

DEFAULT_ACCOUNT_ID = "000000000000"
MANAGED_INSTANCE = "ManagedInstance"
FLEET_TOTAL = "FleetTotal"
# Times complyd stores: year 1 to year 9999, in epoch milliseconds (fits a 64-bit column).
MIN_TIME_MS = -62_135_596_800_000
MAX_TIME_MS = 253_402_300_799_999


@dataclass(frozen=True, slots=True)
class Tenant:
    account_id: str
    region: str


class Severity(enum.Enum):
    """Item severities; `rank` orders them, CRITICAL highest."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFORMATIONAL = "INFORMATIONAL"
    UNSPECIFIED = "UNSPECIFIED"

    @property
    def rank(self) -> int:
        # Keyed by the value: an enum member hashes through a Python-level __hash__.
        return _SEVERITY_RANK[self._value_]

    @property
    def count_name(self) -> str:
        """The SeveritySummary member counting this severity, e.g. `CriticalCount`."""
        return self.value.capitalize() + "Count"


_SEVERITY_RANK = {
    "UNSPECIFIED": 0,
    "INFORMATIONAL": 1,
    "LOW": 2,
    "MEDIUM": 3,
    "HIGH": 4,
    "CRITICAL": 5,
}
_SEVERITY_INDEX = {s: i for i, s in enumerate(Severity)}


class Status(enum.Enum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"


class UploadType(enum.Enum):
    COMPLETE = "COMPLETE"
    PARTIAL = "PARTIAL"


class Operator(enum.Enum):
    EQUAL = "EQUAL"
    NOT_EQUAL = "NOT_EQUAL"
    BEGIN_WITH = "BEGIN_WITH"
    LESS_THAN = "LESS_THAN"
    GREATER_THAN = "GREATER_THAN"


@dataclass(frozen=True, slots=True)
class ExecutionSummary:
    execution_time_ms: int
    execution_id: str | None = None
    execution_type: str | None = None


NO_DETAILS: Mapping[str, str] = MappingProxyType({})


class ItemEntry(NamedTuple):
    """One item as a put sends it (a named tuple: a put of 10,000 items builds 10,000, and a
    tuple is built several times faster than a frozen dataclass)."""

    severity: Severity
    status: Status
    id: str | None = None
    title: str | None = None
    details: Mapping[str, str] = NO_DETAILS


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One item as the store keeps it; `item_key` orders items inside a (resource, type)."""

    resource_id: str
    compliance_type: str
    item_key: str
    entry: ItemEntry
    execution: ExecutionSummary
    size: int


@dataclass(frozen=True, slots=True)
class PutRequest:
    resource_id: str
    resource_type: str
    compliance_type: str
    execution: ExecutionSummary
    items: Sequence[ItemEntry]
    items_size: int
    item_content_hash: str | None = None
    upload_type: UploadType = UploadType.COMPLETE


@dataclass(frozen=True, slots=True)
class SeverityCounts:
    """Counts per severity, in Severity order."""

    counts: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0)

    @classmethod
    def of(cls, counts: Mapping[Severity, int]) -> SeverityCounts:
        c = [counts.get(s, 0) for s in Severity]
        return cls((c[0], c[1], c[2], c[3], c[4], c[5]))

    def get(self, severity: Severity) -> int:
        return self.counts[_SEVERITY_INDEX[severity]]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class ResourceSummary:
    """One row per (resource, compliance type), kept current by every put."""

    resource_id: str
    resource_type: str
    compliance_type: str
    status: Status
    overall_severity: Severity
    compliant: SeverityCounts
    non_compliant: SeverityCounts
    execution: ExecutionSummary
    content_hash: str | None
    patch_group: str | None
    total_size: int


# List pages as the store reads them: every column but the tenant's, in table order, with
# statuses and severities as their names and Details as JSON text. The API encodes these
# straight to the wire (no domain object per row); `storage.rows` turns them into the
# dataclasses above for everything else.
#   (resource_id, compliance_type, item_key, item_id, title, status, severity, details,
#    execution_time_ms, execution_id, execution_type, size)
ItemRecord = tuple[
    str, str, str, str | None, str | None, str, str, str, int, str | None, str | None, int
]
#   (resource_id, compliance_type, resource_type, status, overall_severity, the six compliant
#    counts then the six non-compliant counts in Severity order, execution_time_ms,
#    execution_id, execution_type, content_hash, patch_group, total_size)
SummaryRecord = tuple[Any, ...]
SUMMARY_COUNTS = slice(5, 17)

Rollup = tuple[Status, Severity]


@dataclass(frozen=True, slots=True)
class CountChange:
    """How one put moves the fleet counters: the (status, overall severity) of the
    (resource, type) row and of the resource as a whole, before and after (None: absent)."""

    type_before: Rollup | None
    type_after: Rollup | None
    resource_before: Rollup | None
    resource_after: Rollup | None


@dataclass(frozen=True, slots=True)
class SummaryChange:
    """A put's change to one (resource, type) summary, recorded in the same transaction.

    `status` None: the type was removed. `fleet_delta` moves the tenant's count of
    non-compliant resources (-1, 0 or 1), `type_delta` the compliance type's;
    `status_flipped` marks a state-change event.
    """

    status: Status | None
    overall_severity: Severity | None
    compliant: int
    non_compliant: int
    execution: ExecutionSummary | None
    fleet_delta: int
    status_flipped: bool
    type_delta: int = 0


@dataclass(frozen=True, slots=True)
class TypeSummary:
    """One ListComplianceSummaries row: resources counted per compliance type."""

    compliance_type: str
    compliant: SeverityCounts
    non_compliant: SeverityCounts


@dataclass(frozen=True, slots=True)
class Filter:
    key: str
    values: tuple[str, ...]
    operator: Operator = Operator.EQUAL


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A page of results; `last_key` is the keyset position to resume after (None: last page)."""

    rows: Sequence[T]
    last_key: tuple[str, ...] | None


class Field(enum.Enum):
    """A filterable attribute, in domain terms; the store maps each to a column."""

    COMPLIANCE_TYPE = "compliance_type"
    RESOURCE_ID = "resource_id"
    RESOURCE_TYPE = "resource_type"
    ITEM_ID = "item_id"
    TITLE = "title"
    STATUS = "status"
    SEVERITY = "severity"
    OVERALL_SEVERITY = "overall_severity"
    EXECUTION_ID = "execution_id"
    EXECUTION_TYPE = "execution_type"
    EXECUTION_TIME = "execution_time"
    PATCH_GROUP = "patch_group"
    DETAIL = "detail"


@dataclass(frozen=True, slots=True)
class Condition:
    """One parsed filter: `values` are strings, or epoch milliseconds for EXECUTION_TIME.

    `detail` names the Details attribute for Field.DETAIL.
    """

    field: Field
    operator: Operator
    values: tuple[str | int, ...]
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded change; `status` None means the type was removed from the resource."""

    id: int
    resource_id: str
    compliance_type: str
    recorded_ms: int
    status: Status | None
    overall_severity: Severity | None
    compliant: int
    non_compliant: int
    execution: ExecutionSummary | None


@dataclass(frozen=True, slots=True)
class PendingEvent:
    id: int
    tenant: Tenant
    resource_id: str
    compliance_type: str
    status: Status
    severity: Severity
    created_ms: int
    attempts: int


RowKey = tuple[str, str]  # (resource id, compliance type) of a summary row, whatever the sort


@dataclass(frozen=True, slots=True)
class BrowsePage:
    rows: list[ResourceSummary]
    more_before: bool
    more_after: bool

    @property
    def first_key(self) -> RowKey | None:
        return (self.rows[0].resource_id, self.rows[0].compliance_type) if self.rows else None

    @property
    def last_key(self) -> RowKey | None:
        return (self.rows[-1].resource_id, self.rows[-1].compliance_type) if self.rows else None
