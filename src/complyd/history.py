"""Compliance history queries and retention, over the store's history log.

Owns turning recorded changes into a resource's timeline and the fleet's non-compliant count
over time, and the retention loop. The count at a moment is the current count minus the
changes recorded since, so no count is stored per put and pruning old rows loses nothing newer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from complyd.clock import now_ms
from complyd.model import HistoryEntry, Tenant
from complyd.paging import all_rows
from complyd.storage.base import History, Store

log = logging.getLogger("complyd.history")
DAY_MS = 86_400_000
# Pruning runs this often at most, and four times per retention period at least.
PRUNE_INTERVAL_S = 3600.0
# Types per store read of the current per-type counts.
TYPE_PAGE = 50


def timeline(store: Store, tenant: Tenant, resource_id: str) -> Iterator[HistoryEntry]:
    """Every recorded change of the resource, oldest first, all its compliance types."""
    return pages(store.history, tenant, resource_id)


def recent_changes(
    store: Store, tenant: Tenant, resource_id: str, limit: int
) -> list[HistoryEntry]:
    """The resource's last `limit` changes over all its types, oldest first."""
    return store.history.recent(tenant, resource_id, limit)


def fleet_non_compliant(
    store: Store, tenant: Tenant, days: float, bucket_ms: int = DAY_MS, at_ms: int | None = None
) -> list[tuple[int, int]]:
    """[(bucket start in epoch ms, non-compliant resources at the bucket's end)], oldest
    first, one point per bucket from `days` ago to now."""
    end = at_ms if at_ms is not None else now_ms()
    since = end - int(days * DAY_MS)
    current = store.fleet_total(tenant, []).non_compliant.total
    deltas = store.history.fleet_deltas(tenant, since, bucket_ms)
    return _series(current, deltas, since, end, bucket_ms)


def types_non_compliant(
    store: Store, tenant: Tenant, days: float, bucket_ms: int = DAY_MS, at_ms: int | None = None
) -> dict[str, list[tuple[int, int]]]:
    """{compliance type: points as `fleet_non_compliant` gives them}, in type order: every type
    that holds rows now or changed its non-compliant count in the period."""
    end = at_ms if at_ms is not None else now_ms()
    since = end - int(days * DAY_MS)
    rows = all_rows(
        lambda after: store.list_type_summaries(tenant, [], after[0] if after else None, TYPE_PAGE)
    )
    current = {r.compliance_type: r.non_compliant.total for r in rows}
    by_type: dict[str, dict[int, int]] = {}
    for (compliance_type, bucket), delta in store.history.type_deltas(
        tenant, since, bucket_ms
    ).items():
        by_type.setdefault(compliance_type, {})[bucket] = delta
    return {
        t: _series(current.get(t, 0), by_type.get(t, {}), since, end, bucket_ms)
        for t in sorted(current.keys() | by_type.keys())
    }


def _series(
    current: int, deltas: dict[int, int], since: int, end: int, bucket_ms: int
) -> list[tuple[int, int]]:
    """Walk back from the current count, undoing each bucket's recorded changes."""
    points: list[tuple[int, int]] = []
    count = current
    for bucket in range(end // bucket_ms, since // bucket_ms - 1, -1):
        points.append((bucket * bucket_ms, count))
        count -= deltas.get(bucket, 0)
    points.reverse()
    return points


def prune(history: History, days: float) -> int:
    return history.prune(now_ms() - int(days * DAY_MS))


async def prune_forever(history: History, days: float) -> None:
    """Delete history older than `days`, now and then every interval, until cancelled."""
    interval = max(0.1, min(PRUNE_INTERVAL_S, days * 86_400 / 4))
    while True:
        try:
            removed = await asyncio.to_thread(prune, history, days)
            if removed:
                log.info("pruned %d history rows older than %s days", removed, days)
        except Exception:
            log.exception("history pruning failed; retrying in %.0f s", interval)
        await asyncio.sleep(interval)


def pages(history: History, tenant: Tenant, resource_id: str) -> Iterator[HistoryEntry]:
    """Every change of a resource, read a page at a time."""
    after: int | None = None
    while True:
        page = history.timeline(tenant, resource_id, after, 500)
        yield from page
        if len(page) < 500:
            return
        after = page[-1].id
