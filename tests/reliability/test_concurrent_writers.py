"""Concurrent writers: many clients putting to the same and to different resources at once.

Each client puts sequentially with increasing ExecutionTime (from one clock shared by all), so
the order of the puts to any (resource, type) is known: the final state must be the newest put
to it, whichever order the server happened to commit them in, and summaries must agree. Readers
running alongside must never see a put half applied.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.api.harness import make_client, new_instance_id, new_tenant
from tests.api.reference import list_items

from .conftest import Serve
from .workload import ACKED, Writers, check_consistent, check_last_writer_wins, read_tenant

WRITERS = 12
PUTS_EACH = 40
READERS = 3


@pytest.mark.parametrize("workers", [1, 2])
def test_the_newest_put_wins_and_readers_never_see_half_a_put(serve: Serve, workers: int) -> None:
    # With two worker processes, their writes to one database take turns at its writer lock.
    srv = serve("--workers", str(workers))
    tenant = new_tenant()
    hot = [new_instance_id() for _ in range(3)]
    shared = [(rid, ctype) for rid in hot for ctype in ("Association", "Patch", "Custom:shared")]
    # Each writer also has a resource of its own, next to the contended ones.
    private = {
        w: [(new_instance_id(), "Custom:own"), (new_instance_id(), "Patch")] for w in range(WRITERS)
    }
    writers = Writers(srv, tenant, shared, private, WRITERS, seed=7, max_puts=PUTS_EACH)
    seen: list[int] = []
    torn: list[str] = []

    def read(reader: int) -> None:
        ssm = make_client(srv, tenant)
        while not writers.stop.is_set():
            for rid in hot:
                # One page holds every item of a hot resource: one read, one snapshot.
                got = list_items(ssm, rid, MaxResults=50)
                torn.extend(half_applied(got, writers))
                seen.append(len(got))

    readers = [threading.Thread(target=read, args=(r,), daemon=True) for r in range(READERS)]
    writers.start()
    for thread in readers:
        thread.start()
    writers.join()
    writers.stop.set()
    for thread in readers:
        thread.join(30)
        assert not thread.is_alive()

    assert not writers.errors, writers.errors[:3]
    assert all(p.outcome == ACKED for p in writers.puts)
    assert len(writers.puts) == WRITERS * PUTS_EACH
    assert not torn, torn[:5]
    assert seen and max(seen) > 0  # the readers did overlap the writes
    held = read_tenant(srv, tenant)
    check_last_writer_wins(held, writers.puts, crashed=False)
    check_consistent(held)


def half_applied(items: list[dict[str, Any]], writers: Writers) -> list[str]:
    """Pairs in one read whose items are not exactly one put's whole item set."""
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in items:
        by_key.setdefault((item["ResourceId"], item["ComplianceType"]), []).append(item)
    with writers.lock:
        sets = {p.tag: sorted(i["Id"] for i in p.items) for p in writers.puts}
    problems = []
    for key, rows in by_key.items():
        tags = {r["Details"]["Put"] for r in rows}
        ids = sorted(r["Id"] for r in rows)
        if len(tags) != 1 or sets.get(next(iter(tags))) != ids:
            problems.append(f"{key}: {sorted(tags)} {ids}")
    return problems
