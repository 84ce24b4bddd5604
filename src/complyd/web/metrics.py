"""Prometheus metrics: request counts and latencies per operation, and the fleet's compliance.

Owns the `/metrics` endpoint and the wrapper that times the API's dispatch. Request metrics
live in a registry per app (several apps in one process never share counters); compliance
gauges are read from the store's fleet counters at scrape time, so a scrape costs a few rows per
tenant and type whatever the fleet size. Must not contain compliance rules.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from complyd.storage.base import Store
from complyd.wire.model import OPERATIONS, TARGET_PREFIX

Endpoint = Callable[[Request], Awaitable[Response]]
# Anything that is not one of the served operations shares one label, so a client sending
# random X-Amz-Target values cannot grow the label set.
UNKNOWN_OPERATION = "unknown"
OK = "OK"
# Request latencies: puts wait for a disk sync (milliseconds); deep list pages stay well under.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class FleetCollector(Collector):
    """`complyd_resources`: resources per tenant, compliance type, status and overall severity
    (compliance_type `FleetTotal` counts each resource once, as ListComplianceSummaries does),
    and `complyd_events_pending`: the event outbox's backlog."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "complyd_resources",
            "Resources per account, region, compliance type, status and overall severity.",
            labels=["account_id", "region", "compliance_type", "status", "severity"],
        )
        for c in self._store.counts():
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
            value=self._store.history.pending_events(),
        )


class Metrics:
    def __init__(self, store: Store) -> None:
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
        self._fleet = FleetCollector(store)
        self.registry.register(self._fleet)

    def instrument(self, endpoint: Endpoint) -> Endpoint:
        """Wrap the API endpoint: time it and count its answer by operation and error code."""

        async def timed(request: Request) -> Response:
            start = time.perf_counter()
            response = await endpoint(request)
            elapsed = time.perf_counter() - start
            labels = (_operation(request.headers.get("x-amz-target")), _code(response))
            self.requests.labels(*labels).inc()
            self.latency.labels(*labels).observe(elapsed)
            return response

        return timed

    async def endpoint(self, _request: Request) -> Response:
        # The compliance gauges read the store: off the event loop.
        body = await run_in_threadpool(generate_latest, self.registry)
        return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _operation(target: str | None) -> str:
    prefix, _, name = (target or "").partition(".")
    return name if prefix == TARGET_PREFIX and name in OPERATIONS else UNKNOWN_OPERATION


def _code(response: Response) -> str:
    if response.status_code == 200:
        return OK
    try:
        code = orjson.loads(response.body).get("__type")
    except (orjson.JSONDecodeError, AttributeError):
        code = None
    return code if isinstance(code, str) else str(response.status_code)
