"""Prometheus metrics: request counts and latencies per operation, and the fleet's compliance.

Owns the `/metrics` endpoint and the request counters that `web.access` feeds. Request metrics
live in a registry per app (several apps in one process never share counters); compliance
gauges are read from the store's fleet counters at scrape time, so a scrape costs a few rows per
tenant and type whatever the fleet size. Must not contain compliance rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from complyd.fleet import Fleet

# Request latencies: puts wait for a disk sync (milliseconds); deep list pages stay well under.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class FleetCollector(Collector):
    """`complyd_resources`: resources per tenant, compliance type, status and overall severity
    (compliance_type `FleetTotal` counts each resource once, as ListComplianceSummaries does),
    and `complyd_events_pending`: the event outbox's backlog."""

    def __init__(self, fleet: Fleet) -> None:
        self._fleet = fleet

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "complyd_resources",
            "Resources per account, region, compliance type, status and overall severity.",
            labels=["account_id", "region", "compliance_type", "status", "severity"],
        )
        for c in self._fleet.counts():
            gauge.add_metric(
                [
                    c.tenant.account_id,
                    c.tenant.region,
                    c.compliance_type,
                    c.status.value,
                    c.severity.value,
                ],
                c.resources,
            )
        yield gauge
        yield GaugeMetricFamily(
            "complyd_events_pending",
            "State-change events in the outbox, not yet delivered to every webhook.",
            value=self._fleet.pending_events(),
        )


class Metrics:
    def __init__(self, fleet: Fleet) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "complyd_requests",
            "API requests by operation and outcome (OK or the AWS error code).",
            ["operation", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "complyd_request_duration_seconds",
            "API request latency by operation and outcome, body read to response.",
            ["operation", "code"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._collector = FleetCollector(fleet)
        self.registry.register(self._collector)

    def observe(self, operation: str, code: str, seconds: float) -> None:
        """Count one API request and its latency (code: OK or the AWS error name)."""
        children = self._children.get((operation, code))
        if children is None:
            # A few dozen label pairs at most (operations are bounded, so are error codes);
            # looking a child up by its labels on every request costs a lock and a hash.
            children = (
                self.requests.labels(operation, code),
                self.latency.labels(operation, code),
            )
            self._children[(operation, code)] = children
        children[0].inc()
        children[1].observe(seconds)

    async def endpoint(self, _request: Request) -> Response:
        # The compliance gauges read the store: off the event loop.
        body = await run_in_threadpool(generate_latest, self.registry)
        return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})
