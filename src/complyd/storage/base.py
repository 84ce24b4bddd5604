"""The Store protocol: the handful of operations the service needs, in domain terms.

Owns the seam between rules and persistence; one contract test suite runs against every
implementation. Must not contain compliance rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol, TypeVar

from complyd.model import (
    BrowsePage,
    Condition,
    CountChange,
    HistoryEntry,
    ItemRecord,
    Page,
    PendingEvent,
    ResourceSummary,
    RowKey,
    Severity,
    Status,
    StoredItem,
    SummaryChange,
    SummaryRecord,
    Tenant,
    TypeSummary,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ComplianceCount:
    """One fleet counter: resources of a tenant with this (type, status, overall severity);
    compliance_type FleetTotal counts each resource once over all its types."""

    tenant: Tenant
    compliance_type: str
    status: Status
    severity: Severity
    resources: int


class WriteTransaction(Protocol):
    """One atomic write; everything done through it commits together or not at all."""

    def reset(self, tenant: Tenant | None) -> None:
        """Delete every row of `tenant` (of every tenant when None): items, summary rows,
        fleet counters, history and pending events."""

    def lock_resource(self, tenant: Tenant, resource_id: str) -> list[ResourceSummary]:
        """All the resource's summary rows; other writers to the resource wait until commit."""

    def items_of_type(
        self, tenant: Tenant, resource_id: str, compliance_type: str
    ) -> list[ItemRecord]:
        """The type's items on the resource, in item order."""

    def replace_type(
        self,
        tenant: Tenant,
        resource_id: str,
        compliance_type: str,
        summary: ResourceSummary | None,
        items: Sequence[ItemRecord],
        counts: CountChange,
        change: SummaryChange | None = None,
    ) -> None:
        """Make the type's items exactly `items` and its summary `summary` (None removes both),
        move the fleet counters by `counts`, and record `change` (history, outbox) if any."""


class History(Protocol):
    """The recorded changes of the summaries (written by puts, in their transactions) and the
    outbox of state-change events. Every method may block: callers off the event loop."""

    def timeline(
        self, tenant: Tenant, resource_id: str, after_id: int | None, limit: int
    ) -> list[HistoryEntry]:
        """The resource's changes in the order they were made, strictly after `after_id`."""

    def recent(self, tenant: Tenant, resource_id: str, limit: int) -> list[HistoryEntry]:
        """The resource's latest `limit` changes, oldest first."""

    def fleet_deltas(self, tenant: Tenant, since_ms: int, bucket_ms: int) -> dict[int, int]:
        """{bucket number: net change of the tenant's non-compliant resources} since then."""

    def type_deltas(
        self, tenant: Tenant, since_ms: int, bucket_ms: int
    ) -> dict[tuple[str, int], int]:
        """{(compliance type, bucket number): net change of its non-compliant resources}."""

    def prune(self, before_ms: int) -> int:
        """Delete changes recorded before `before_ms`; returns how many."""

    def due_events(self, now_ms: int, limit: int) -> list[PendingEvent]: ...

    def pending_events(self) -> int:
        """Events in the outbox, due or waiting for a retry."""

    def delivered(self, event_id: int) -> None: ...

    def retry_later(self, event_id: int, attempts: int, next_attempt_ms: int) -> None: ...


class Store(Protocol):
    @property
    def history(self) -> History:
        """History reads, pruning and the event outbox."""

    def submit_write(self, job: Callable[[WriteTransaction], T]) -> Future[T]:
        """Run `job` in a write transaction; the future resolves once it is durable."""

    async def write(self, job: Callable[[WriteTransaction], T]) -> T:
        """submit_write for a caller on an event loop: returns once the job is durable."""

    async def run_read(self, read: Callable[[], T], bounded: bool) -> T:
        """Run `read` (which calls this store's read methods) for a caller on an event loop:
        on the loop itself when it is `bounded` (a keyset page or a few counter rows) and the
        store reads without network round trips, else on the store's read threads."""

    def item_records(
        self,
        tenant: Tenant,
        resource_id: str | None,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[ItemRecord]:
        """list_items as plain tuples (model.ItemRecord), for encoding straight to the wire."""

    def summary_records(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[SummaryRecord]:
        """list_resource_summaries as plain tuples (model.SummaryRecord)."""

    def list_items(
        self,
        tenant: Tenant,
        resource_id: str | None,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[StoredItem]:
        """Items in (resource id, compliance type, item key) order, strictly after `after`."""

    def list_resource_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[ResourceSummary]:
        """Summary rows in (resource id, compliance type) order, strictly after `after`."""

    def browse_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        sort: str,
        descending: bool,
        after: RowKey | None,
        before: RowKey | None,
        limit: int,
    ) -> BrowsePage:
        """The dashboard's pages: summary rows in one of `browse.SORTS`, after or before a row."""

    def list_type_summaries(
        self,
        tenant: Tenant,
        conditions: Sequence[Condition],
        after: str | None,
        limit: int,
        fleet: bool = False,
    ) -> Page[TypeSummary]:
        """Per-type resource counts in type order, for types strictly after `after`. With
        `fleet` (no conditions only) the page starts with the FleetTotal row, which counts
        toward `limit`; a page that ends with it has the position ("",)."""

    def counters_cover(self, conditions: Sequence[Condition]) -> bool:
        """Whether list_type_summaries under `conditions` reads the fleet counters (a few
        rows) rather than counting summary rows."""

    def fleet_total(self, tenant: Tenant, conditions: Sequence[Condition]) -> TypeSummary:
        """Resources counted once over all their selected rows (compliance_type 'FleetTotal')."""

    def counts(self) -> list[ComplianceCount]:
        """Every non-zero fleet counter of every tenant (a few rows per tenant and type)."""

    def tenants(self) -> list[Tenant]:
        """The (account, region) pairs that hold at least one summary row, in that order."""

    def token_key(self) -> bytes:
        """The pagination-token signing key, created once and shared by every replica."""

    def ping(self) -> None: ...

    def close(self) -> None: ...
