"""The fleet beyond the four operations: what the dashboard, /metrics, the reset endpoint and
the operator commands read or do, over a Store.

Owns the one way past the API into the store for everything but the API itself: tenants (in
the roll-up's largest-first order), the fleet counters and the all-tenants roll-up, history
trends and timelines, the event outbox's backlog, the server's signing key, a health probe
and emptying the store. Reached as `ComplianceService.fleet`. Must not contain the API's rules
(those are `service`'s) nor render anything.
"""

from __future__ import annotations

from collections.abc import Iterator

from complyd import history
from complyd.model import HistoryEntry, Tenant
from complyd.rollup import TenantRollup, rollups
from complyd.storage.base import ComplianceCount, Store


class Fleet:
    def __init__(self, store: Store) -> None:
        self._store = store

    def tenants(self) -> list[Tenant]:
        """The (account, region) pairs that hold data, largest first (as the roll-up)."""
        rank = {r.tenant: n for n, r in enumerate(self.rollups())}
        found = self._store.tenants()
        return sorted(found, key=lambda t: (rank.get(t, len(rank)), t.account_id, t.region))

    def counts(self) -> list[ComplianceCount]:
        """Every non-zero fleet counter of every tenant (a few rows per tenant and type)."""
        return self._store.counts()

    def rollups(self) -> list[TenantRollup]:
        return rollups(self._store.counts())

    def token_key(self) -> bytes:
        """The key that signs pagination tokens (and, derived, dashboard sessions)."""
        return self._store.token_key()

    def pending_events(self) -> int:
        return self._store.history.pending_events()

    def fleet_trend(
        self, tenant: Tenant, days: float, bucket_ms: int = history.DAY_MS
    ) -> list[tuple[int, int]]:
        """The tenant's non-compliant resources over time, one point per bucket."""
        return history.fleet_non_compliant(self._store, tenant, days, bucket_ms)

    def type_trends(self, tenant: Tenant, days: float) -> dict[str, list[tuple[int, int]]]:
        """The same per compliance type."""
        return history.types_non_compliant(self._store, tenant, days)

    def timeline(self, tenant: Tenant, resource_id: str) -> Iterator[HistoryEntry]:
        return history.timeline(self._store, tenant, resource_id)

    def recent_changes(self, tenant: Tenant, resource_id: str, limit: int) -> list[HistoryEntry]:
        return history.recent_changes(self._store, tenant, resource_id, limit)

    async def reset(self, tenant: Tenant | None) -> None:
        """Empty one tenant's data, or every tenant's (None), in one write transaction."""
        await self._store.write(lambda tx: tx.reset(tenant))

    def ping(self) -> None:
        self._store.ping()
