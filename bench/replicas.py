"""Replicas on one PostgreSQL database: `python -m bench --postgres URL --only replicas`.

Starts 1, then 2 complyd processes on one fresh schema and drives every replica with its own
wrk at the same time; prints the summed rate and the worst latencies for each replica count:
10-item puts to distinct resources, the same puts aimed at a few shared resources (they
serialise on the per-resource lock), and ListComplianceSummaries (read from the counters).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from subprocess import Popen
from typing import Any

from .load import LoadResult, run_wrk, signed_raw
from .preload import resource_id

Start = Callable[[str, Path], AbstractContextManager[tuple[int, "Popen[bytes]"]]]
CONNECTIONS = 16  # per replica


def _put(resource: int, variant: int) -> dict[str, Any]:
    return {
        "ResourceId": resource_id(resource),
        "ResourceType": "ManagedInstance",
        "ComplianceType": "Custom:Replicas",
        "ExecutionSummary": {"ExecutionTime": 1_700_000_000},
        "Items": [
            {
                "Id": f"c{k}",
                "Title": f"check {k}",
                "Severity": "HIGH",
                "Status": "NON_COMPLIANT" if (k + variant) % 3 == 0 else "COMPLIANT",
            }
            for k in range(10)
        ],
    }


def _scenarios(replica: int, port: int) -> Iterator[tuple[str, list[bytes]]]:
    base = 30_000_000 + replica * 100_000
    yield (
        "puts to distinct resources",
        [signed_raw(port, "PutComplianceItems", _put(base + n, n)) for n in range(1000)],
    )
    yield (
        "puts to 4 shared resources",
        [signed_raw(port, "PutComplianceItems", _put(40_000_000 + n % 4, n)) for n in range(8)],
    )
    yield ("ListComplianceSummaries", [signed_raw(port, "ListComplianceSummaries", {})])


def _together(loads: list[tuple[int, list[bytes]]], seconds: float) -> LoadResult:
    """Runs one wrk per replica at once and sums them."""
    with ThreadPoolExecutor(len(loads)) as pool:
        results = list(
            pool.map(lambda load: run_wrk(load[0], load[1], CONNECTIONS, seconds), loads)
        )
    return LoadResult(
        sum(r.requests_per_s for r in results),
        max(r.p50_ms for r in results),
        max(r.p99_ms for r in results),
        sum(r.requests for r in results),
        sum(r.errors for r in results),
    )


def replicas(db_url: str, work: Path, seconds: float, report: Any, start: Start) -> None:
    for count in (1, 2):
        with ExitStack() as stack:
            ports = [stack.enter_context(start(db_url, work))[0] for _ in range(count)]
            plans = [list(_scenarios(k, port)) for k, port in enumerate(ports)]
            for n, (name, _requests) in enumerate(plans[0]):
                result = _together(
                    [(port, plans[k][n][1]) for k, port in enumerate(ports)], seconds
                )
                report.add(f"postgres {count} replica(s): {name}", result.line())
