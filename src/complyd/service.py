"""ComplianceService: the four operations and every rule of the spec, over a Store.

Owns the order of the put checks (spec section 4), item keys and ordering, and which filters
each list call accepts. Must not perform I/O except through the Store, nor know about HTTP,
JSON or tokens.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial

import orjson

from complyd.changes import summary_change
from complyd.config import Settings
from complyd.errors import (
    ComplianceTypeCountLimitExceededException,
    InvalidItemContentException,
    InvalidResourceId,
    InvalidResourceType,
    ItemSizeLimitExceededException,
    TotalSizeLimitExceededException,
    ValidationException,
)
from complyd.filters import ITEM_KEYS, SUMMARY_KEYS, matches, parse_filters
from complyd.fleet import Fleet
from complyd.model import (
    FLEET_TOTAL,
    MANAGED_INSTANCE,
    BrowsePage,
    Condition,
    Field,
    Filter,
    ItemEntry,
    ItemRecord,
    Page,
    PutRequest,
    ResourceSummary,
    Severity,
    Status,
    StoredItem,
    SummaryRecord,
    Tenant,
    TypeSummary,
    UploadType,
)
from complyd.storage.base import Store, WriteTransaction
from complyd.summaries import count_change, resource_summary

# AWS checks node ids against this shape; `Settings.any_resource_id` lifts the check.
MANAGED_NODE_ID = re.compile(r"(i-(\w{8}|\w{17})|mi-\w{17})", re.ASCII)
CUSTOM_PREFIX = "Custom:"
ASSOCIATION = "Association"
BUILT_IN_TYPES = (ASSOCIATION, "Patch")
# Items with an Id sort first, by Id; items without one follow in the order they were sent.
ID_KEY_PREFIX = "a"
NO_ID_KEY_PREFIX = "b"
FLEET_TOTAL_POSITION = ""
# AWS sets no length for an item Id, but the Id is part of the item's primary key, and a
# PostgreSQL B-tree entry holds at most about 2.7 kB: 1 KiB leaves room for the rest of the key.
MAX_ITEM_ID_BYTES = 1024


def item_key_with_id(item_id: str) -> str:
    return ID_KEY_PREFIX + item_id


def item_key_without_id(sequence: int) -> str:
    return f"{NO_ID_KEY_PREFIX}{sequence:012d}"


@dataclass(frozen=True, slots=True)
class PutOutcome:
    """What a put did: `applied` is False when the stored hash or a newer execution (or, for
    a PARTIAL put, having nothing to apply) left the store as it was."""

    applied: bool


class ComplianceService:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        # Everything beyond the four operations (tenants, counters, history, the signing key).
        self.fleet = Fleet(store)

    # -- PutComplianceItems ---------------------------------------------------------------

    def _check_resource(self, resource_id: str, resource_type: str) -> None:
        if resource_type != MANAGED_INSTANCE:
            raise InvalidResourceType(
                f"Resource type '{resource_type}' is not supported; use {MANAGED_INSTANCE}."
            )
        self._check_resource_id(resource_id)

    def _check_resource_id(self, resource_id: str) -> None:
        if not self.settings.any_resource_id and not MANAGED_NODE_ID.fullmatch(resource_id):
            raise InvalidResourceId(
                f"Resource id '{resource_id}' is not a managed node id (i-xxxxxxxx, "
                "i-xxxxxxxxxxxxxxxxx or mi-xxxxxxxxxxxxxxxxx). Start the server with "
                "--any-resource-id to accept other names."
            )

    @staticmethod
    def _check_type(request: PutRequest) -> None:
        ctype = request.compliance_type
        if ctype not in BUILT_IN_TYPES and not ctype.startswith(CUSTOM_PREFIX):
            raise ValidationException(
                f"ComplianceType '{ctype}' is not supported: use Association, Patch or "
                "Custom:<name>."
            )

    @staticmethod
    def _check_item_ids(request: PutRequest) -> None:
        for i, entry in enumerate(request.items, start=1):
            # A UTF-8 character takes at most 4 bytes: shorter ids need no encoding to check.
            if entry.id is None or len(entry.id) * 4 <= MAX_ITEM_ID_BYTES:
                continue
            if _utf8_len(entry.id) > MAX_ITEM_ID_BYTES:
                raise ValidationException(
                    f"1 validation error detected: Value at 'items.{i}.member.id' failed to "
                    f"satisfy constraint: Member must be at most {MAX_ITEM_ID_BYTES} bytes long "
                    "in UTF-8"
                )

    def _check_put(self, request: PutRequest) -> _Plan | None:
        """Check what needs no stored state, and work out a type-replacing put's rows and
        summary before its transaction (which then only compares them with what is stored)."""
        self._check_item_ids(request)
        self._check_type(request)
        self._check_resource(request.resource_id, request.resource_type)
        if request.upload_type is UploadType.PARTIAL and (
            request.compliance_type == ASSOCIATION or not request.items
        ):
            return None  # an upsert, or a hash-only put: both depend on what is stored
        return _replacing(request)

    def submit_put(self, tenant: Tenant, request: PutRequest) -> Future[PutOutcome]:
        """Queue the put; the future resolves once it is durable."""
        plan = self._check_put(request)
        return self.store.submit_write(partial(self._apply_put, tenant, request, plan))

    async def put(self, tenant: Tenant, request: PutRequest) -> PutOutcome:
        """The put, on the caller's event loop: returns once it is durable."""
        plan = self._check_put(request)
        return await self.store.write(partial(self._apply_put, tenant, request, plan))

    def put_compliance_items(self, tenant: Tenant, request: PutRequest) -> PutOutcome:
        return self.submit_put(tenant, request).result()

    def _apply_put(
        self, tenant: Tenant, request: PutRequest, plan: _Plan | None, tx: WriteTransaction
    ) -> PutOutcome:
        rid, ctype = request.resource_id, request.compliance_type
        rows = tx.lock_resource(tenant, rid)
        current = None
        for row in rows:
            if row.compliance_type == ctype:
                current = row
        if current is not None:
            if (
                request.item_content_hash is not None
                and request.item_content_hash == current.content_hash
            ):
                return PutOutcome(applied=False)  # the stored content hash
            if request.execution.execution_time_ms < current.execution.execution_time_ms:
                return PutOutcome(applied=False)  # older than the stored execution
        if request.upload_type is UploadType.PARTIAL and not request.items:
            # A hash-only put: the client believes the server holds this content already.
            if request.item_content_hash is None:
                return PutOutcome(applied=False)  # no items, no hash: nothing to apply
            raise InvalidItemContentException(
                f"ItemContentHash '{request.item_content_hash}' does not match the stored "
                f"compliance content of {ctype} on {rid}; send the full list of items."
            )
        if current is None and request.items and ctype.startswith(CUSTOM_PREFIX):
            custom_types = sum(1 for r in rows if r.compliance_type.startswith(CUSTOM_PREFIX))
            if custom_types >= self.settings.max_custom_types:
                raise ComplianceTypeCountLimitExceededException(
                    f"Resource {rid} already has {custom_types} custom compliance types; the "
                    f"limit is {self.settings.max_custom_types}. Remove one by putting an "
                    "empty COMPLETE list for it."
                )
        if request.items_size > self.settings.item_size_limit:
            raise ItemSizeLimitExceededException(
                f"The Items of this request take {request.items_size} bytes; the limit for one "
                f"request is {self.settings.item_size_limit} bytes."
            )
        if plan is None:
            # Only Association items are upserted by Id (PARTIAL); any other put carries the
            # type's whole list (the patch payload always sends PARTIAL) and replaces it.
            plan = _upserting(request, tx.items_of_type(tenant, rid, ctype))
        other_size = sum(r.total_size for r in rows if r.compliance_type != ctype)
        if other_size + plan.size > self.settings.total_size_limit:
            raise TotalSizeLimitExceededException(
                f"Resource {rid} would hold {other_size + plan.size} bytes of compliance data; "
                f"the limit is {self.settings.total_size_limit} bytes."
            )
        counts = count_change(rows, ctype, current, plan.summary)
        change = summary_change(current, plan.summary, counts)
        if change is not None and change.status_flipped and not self.settings.webhooks:
            change = dataclasses.replace(change, status_flipped=False)  # no one to tell
        tx.replace_type(tenant, rid, ctype, plan.summary, plan.records, counts, change)
        return PutOutcome(applied=True)

    # -- List operations ------------------------------------------------------------------

    def list_compliance_items(
        self,
        tenant: Tenant,
        resource_ids: Sequence[str] | None,
        resource_types: Sequence[str] | None,
        filters: Sequence[Filter],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[StoredItem]:
        resource_id, conditions = self._item_query(resource_ids, resource_types, filters)
        return self.store.list_items(tenant, resource_id, conditions, after, limit)

    def compliance_item_records(
        self,
        tenant: Tenant,
        resource_ids: Sequence[str] | None,
        resource_types: Sequence[str] | None,
        filters: Sequence[Filter],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[ItemRecord]:
        """list_compliance_items as the store's records, for encoding straight to the wire."""
        resource_id, conditions = self._item_query(resource_ids, resource_types, filters)
        return self.store.item_records(tenant, resource_id, conditions, after, limit)

    def _item_query(
        self,
        resource_ids: Sequence[str] | None,
        resource_types: Sequence[str] | None,
        filters: Sequence[Filter],
    ) -> tuple[str | None, list[Condition]]:
        if resource_ids is not None and len(resource_ids) > 1:
            shown = "[" + ", ".join(resource_ids) + "]"
            raise ValidationException(
                f"1 validation error detected: Value '{shown}' at 'resourceIds' failed to satisfy "
                "constraint: Member must have length less than or equal to 1"
            )
        for resource_type in resource_types or ():
            if resource_type != MANAGED_INSTANCE:
                raise InvalidResourceType(
                    f"Resource type '{resource_type}' is not supported; use {MANAGED_INSTANCE}."
                )
        resource_id = resource_ids[0] if resource_ids else None
        if resource_id is not None:
            self._check_resource_id(resource_id)
        return resource_id, parse_filters(filters, ITEM_KEYS)

    def list_resource_compliance_summaries(
        self,
        tenant: Tenant,
        filters: Sequence[Filter],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[ResourceSummary]:
        conditions = parse_filters(filters, SUMMARY_KEYS)
        return self.store.list_resource_summaries(tenant, conditions, after, limit)

    def resource_summary_records(
        self,
        tenant: Tenant,
        filters: Sequence[Filter],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[SummaryRecord]:
        """list_resource_compliance_summaries as the store's records."""
        conditions = parse_filters(filters, SUMMARY_KEYS)
        return self.store.summary_records(tenant, conditions, after, limit)

    def browse_resource_summaries(
        self,
        tenant: Tenant,
        filters: Sequence[Filter],
        sort: str,
        descending: bool,
        after: tuple[str, str] | None,
        before: tuple[str, str] | None,
        limit: int,
    ) -> BrowsePage:
        """Summary rows for people: the same filters as ListResourceComplianceSummaries, in
        one of the indexed sort orders, a page after or before a row."""
        conditions = parse_filters(filters, SUMMARY_KEYS)
        return self.store.browse_summaries(
            tenant, conditions, sort, descending, after, before, limit
        )

    def compliance_summaries_bounded(self, filters: Sequence[Filter]) -> bool:
        """Whether ListComplianceSummaries under `filters` reads only the fleet counters (a
        few rows whatever the fleet's size) rather than counting summary rows."""
        conditions = parse_filters(filters, SUMMARY_KEYS)
        if not conditions:
            return True
        return not self._with_fleet_total(conditions) and self.store.counters_cover(conditions)

    @staticmethod
    def _with_fleet_total(conditions: Sequence[Condition]) -> bool:
        """FleetTotal is a row whose compliance type is `FleetTotal`: type filters apply to it."""
        type_conditions = [c for c in conditions if c.field is Field.COMPLIANCE_TYPE]
        return all(matches(c, FLEET_TOTAL) for c in type_conditions)

    def list_compliance_summaries(
        self,
        tenant: Tenant,
        filters: Sequence[Filter],
        after: tuple[str, ...] | None,
        limit: int,
    ) -> Page[TypeSummary]:
        """FleetTotal first (on the first page), then one row per type in name order.

        The keyset position is the last type returned; FleetTotal's position is
        FLEET_TOTAL_POSITION, which sorts before every type name.
        """
        conditions = parse_filters(filters, SUMMARY_KEYS)
        if after is None and not conditions:
            # The counters give FleetTotal and the types in one read.
            return self.store.list_type_summaries(tenant, [], None, limit, fleet=True)
        rows: list[TypeSummary] = []
        if after is None and self._with_fleet_total(conditions):
            rows.append(self.store.fleet_total(tenant, conditions))
        remaining = limit - len(rows)
        if remaining == 0:
            # Only FleetTotal fits on this page; another follows if any type row exists.
            more = self.store.list_type_summaries(tenant, conditions, None, 1)
            return Page(rows, (FLEET_TOTAL_POSITION,) if more.rows else None)
        last_type = after[0] if after and after[0] != FLEET_TOTAL_POSITION else None
        page = self.store.list_type_summaries(tenant, conditions, last_type, remaining)
        rows.extend(page.rows)
        return Page(rows, page.last_key)


@dataclass(frozen=True, slots=True)
class _Plan:
    """The type's items after a put, as the store's records in item order, their size, and
    the (resource, type) summary they make (None: the type is removed)."""

    records: list[ItemRecord]
    size: int
    summary: ResourceSummary | None


def _plan(
    request: PutRequest,
    entries: dict[str, ItemEntry],
    records: dict[str, ItemRecord],
) -> _Plan:
    keys = sorted(records)
    size = sum(records[k][11] for k in keys)
    summary = None
    if keys:
        summary = resource_summary(
            request.resource_id,
            request.resource_type,
            request.compliance_type,
            [entries[k] for k in keys],
            request.execution,
            request.item_content_hash,
            size,
        )
    return _Plan([records[k] for k in keys], size, summary)


def _replacing(request: PutRequest) -> _Plan:
    """The type's items after a put that replaces them: exactly the sent items."""
    return _upserting(request, [])


def _upserting(request: PutRequest, existing: Sequence[ItemRecord]) -> _Plan:
    """The type's items after the sent items are upserted by Id into `existing`; each item
    keeps the execution summary of the put that wrote it."""
    entries = {r[2]: _entry_of(r) for r in existing}
    records = {r[2]: r for r in existing}
    sequence = 1 + max((int(k[1:]) for k in records if k[0] == NO_ID_KEY_PREFIX), default=-1)
    # This loop runs once per item sent (10,000 times for the largest put): what is the same
    # for every item is looked up once, and each record is built here, not in a call.
    rid, ctype, e = request.resource_id, request.compliance_type, request.execution
    time_ms, execution_id, execution_type = e.execution_time_ms, e.execution_id, e.execution_type
    dumps = orjson.dumps
    for entry in request.items:
        if entry.id is not None:
            key = item_key_with_id(entry.id)
        else:
            key = item_key_without_id(sequence)
            sequence += 1
        # A duplicate Id in one request: the last one wins, as a dict assignment does.
        entries[key] = entry
        # `_value_` is the enum member's value itself: `.value` is a descriptor call.
        status, severity, details = entry.status._value_, entry.severity._value_, entry.details
        records[key] = (
            rid,
            ctype,
            key,
            entry.id,
            entry.title,
            status,
            severity,
            dumps(details).decode() if details else "{}",
            time_ms,
            execution_id,
            execution_type,
            _size(entry, status, severity),
        )
    return _plan(request, entries, records)


_SEVERITIES = {s.value: s for s in Severity}
_STATUSES = {s.value: s for s in Status}


def _entry_of(record: ItemRecord) -> ItemEntry:
    return ItemEntry(
        severity=_SEVERITIES[record[6]],
        status=_STATUSES[record[5]],
        id=record[3],
        title=record[4],
        details=orjson.loads(record[7]),
    )


def entry_size(entry: ItemEntry) -> int:
    """Bytes an item takes in the store's accounting: its strings, UTF-8 encoded."""
    return _size(entry, entry.status._value_, entry.severity._value_)


def _size(entry: ItemEntry, status: str, severity: str) -> int:
    details = entry.details
    text = (entry.id or "") + (entry.title or "")
    if details:
        text += "".join(details) + "".join(details.values())
    # ASCII text (nearly all of it) is as long in bytes as in characters: no encoding needed.
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return size + len(status) + len(severity)


def _utf8_len(text: str | None) -> int:
    if not text:
        return 0
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
