"""Crash durability: SIGKILL `complyd serve` while writers are in flight, restart it on the same
--db, and find every acknowledged put in full, on SQLite (group commit, synchronous=FULL) and on
PostgreSQL.

What may differ from the acknowledged puts is only what a crash cannot decide: a put whose answer
was lost may or may not have been applied, but never in part.
"""

from __future__ import annotations

import signal

from tests.api.harness import new_instance_id, new_tenant

from .conftest import Serve
from .workload import (
    ACKED,
    T0_MS,
    UNKNOWN,
    Writers,
    check_consistent,
    check_last_writer_wins,
    read_tenant,
    wait_for,
)

WRITERS = 8
ACKED_BEFORE_KILL = 200
ROUNDS = 2


def test_acknowledged_puts_survive_sigkill(serve: Serve) -> None:
    srv = serve()
    tenant = new_tenant()
    resources = [new_instance_id() for _ in range(4)]
    # Shared pairs: writers race on the same rows and on the same resources' counters.
    shared = [
        (rid, ctype) for rid in resources for ctype in ("Association", "Patch", "Custom:shared")
    ]
    private = {w: [(new_instance_id(), "Custom:own")] for w in range(WRITERS)}
    puts = []
    first_ms = T0_MS
    for round_ in range(ROUNDS):
        writers = Writers(srv, tenant, shared, private, WRITERS, seed=round_, first_ms=first_ms)
        writers.start()
        wait_for(lambda w=writers: w.acked() >= ACKED_BEFORE_KILL or not w.running(), 60)
        assert writers.running(), writers.errors[:3]
        assert srv.proc is not None
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(timeout=10)
        writers.join()
        assert not writers.errors, writers.errors[:3]
        # The kill landed while puts were in flight, not between them.
        assert any(p.outcome == UNKNOWN for p in writers.puts)
        puts += writers.puts
        first_ms = max(p.time_ms for p in puts) + 1

        srv.start()  # the same --db
        held = read_tenant(srv, tenant)
        check_last_writer_wins(held, puts, crashed=True)
        check_consistent(held)
        assert held.items, "nothing survived"
    assert sum(p.outcome == ACKED for p in puts) >= ROUNDS * ACKED_BEFORE_KILL
