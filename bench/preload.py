"""Fill a store quickly for read benchmarks: resources with items and their summary rows.

Rows are built with complyd's own summary rules and written in large transactions straight
into the tables, which is far faster than a million signed requests.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from complyd.model import ExecutionSummary, ItemEntry, Severity, Status, StoredItem, Tenant
from complyd.service import entry_size, item_key_with_id
from complyd.storage.rows import item_row, summary_row
from complyd.storage.schema import (
    FLEET_KEY,
    compliance_counts,
    compliance_items,
    resource_summaries,
)
from complyd.storage.sql import SqlStore
from complyd.summaries import resource_summary

from .load import ACCOUNT, REGION

TYPES = ("Patch", "Custom:Antivirus", "Custom:Disk")
SEVERITIES = list(Severity)


def resource_id(n: int) -> str:
    return f"i-{n:017x}"


def preload(store: SqlStore, resources: int, items_per_resource: int, batch: int = 2000) -> int:
    """Write `resources` nodes, each with one type of `items_per_resource` items."""
    tenant = Tenant(ACCOUNT, REGION)
    execution = ExecutionSummary(1_700_000_000_000, "bench", "Command")
    written = 0
    counts: Counter[tuple[str, str, str]] = Counter()
    for start in range(0, resources, batch):
        item_rows, summary_rows = [], []
        for n in range(start, min(start + batch, resources)):
            rid, ctype = resource_id(n), TYPES[n % len(TYPES)]
            stored = []
            for k in range(items_per_resource):
                entry = ItemEntry(
                    severity=SEVERITIES[(n + k) % len(SEVERITIES)],
                    status=Status.NON_COMPLIANT if (n + k) % 7 == 0 else Status.COMPLIANT,
                    id=f"item-{k:05d}",
                    title=f"Check {k} on {rid}",
                    details={"DocumentName": "AWS-RunPatchBaseline", "PatchGroup": f"g{n % 4}"},
                )
                stored.append(
                    StoredItem(
                        rid,
                        ctype,
                        item_key_with_id(entry.id or ""),
                        entry,
                        execution,
                        entry_size(entry),
                    )
                )
            summary = resource_summary(
                rid,
                "ManagedInstance",
                ctype,
                [s.entry for s in stored],
                execution,
                None,
                sum(s.size for s in stored),
            )
            item_rows += [item_row(tenant, s) for s in stored]
            summary_rows.append(summary_row(tenant, summary))
            # One type per resource: the resource's fleet rollup is that row's state.
            for key in (ctype, FLEET_KEY):
                counts[(key, summary.status.value, summary.overall_severity.value)] += 1
        with store.engine.begin() as conn:
            conn.execute(sa.insert(compliance_items), item_rows)
            conn.execute(sa.insert(resource_summaries), summary_rows)
        written += len(item_rows)
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(compliance_counts),
            [
                {"account_id": ACCOUNT, "region": REGION, "compliance_type": t,
                 "status": st, "severity": sev, "resources": n}
                for (t, st, sev), n in counts.items()
            ],
        )  # fmt: skip
    return written
