"""Every tenant at a glance: resources, non-compliant resources and the same per compliance
type, for each (account, region), from the fleet counters that puts keep current.

Owns the roll-up and the "largest tenant first" order the dashboard's picker and
`complyd tenants` share. It reads a few counter rows per tenant and type, never summary rows or
items, so it costs the same at any fleet size. Must not render anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from complyd.model import FLEET_TOTAL, Status, Tenant
from complyd.storage.base import ComplianceCount


@dataclass(frozen=True, slots=True)
class TypeCount:
    compliance_type: str
    resources: int = 0
    non_compliant: int = 0


@dataclass(slots=True)
class TenantRollup:
    """One (account, region): resources counted once over their types, and per type."""

    tenant: Tenant
    resources: int = 0
    non_compliant: int = 0
    types: dict[str, TypeCount] = field(default_factory=dict)

    @property
    def by_type(self) -> list[TypeCount]:
        return [self.types[t] for t in sorted(self.types)]


def rollups(counts: Iterable[ComplianceCount]) -> list[TenantRollup]:
    """Tenants holding data, largest (most resources) first, then by account and region."""
    found: dict[Tenant, TenantRollup] = {}
    for c in counts:
        entry = found.setdefault(c.tenant, TenantRollup(c.tenant))
        non = c.resources if c.status is Status.NON_COMPLIANT else 0
        if c.compliance_type == FLEET_TOTAL:
            entry.resources += c.resources
            entry.non_compliant += non
            continue
        was = entry.types.get(c.compliance_type, TypeCount(c.compliance_type))
        entry.types[c.compliance_type] = TypeCount(
            c.compliance_type, was.resources + c.resources, was.non_compliant + non
        )
    return sorted(
        found.values(), key=lambda r: (-r.resources, r.tenant.account_id, r.tenant.region)
    )
