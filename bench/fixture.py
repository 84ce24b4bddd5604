"""The in-process fixture against moto's, in one process: `python -m bench.fixture [SECONDS]`.

Times entering and leaving `mock_compliance()` against moto's `mock_aws()`, and a 10-item
PutComplianceItems and a ListComplianceItems (a page of those 10 items) through boto3 against
moto's put_parameter and get_parameter: the same client library, the same process, rounds
alternating so drift hits both. Each is timed in its own mock, as a test of either uses it
(`alone`), and both again with the two mocks active together (`together`), as a test that mixes
them does: there every compliance call also passes moto's botocore handler, which looks for a
URL pattern of its own before it lets the call go. Prints one JSON object of medians in ms.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
from moto import mock_aws

from complyd.testing import mock_compliance

ITEMS = [
    {"Id": f"c{k}", "Title": f"check {k}", "Severity": "HIGH", "Status": "COMPLIANT"}
    for k in range(10)
]
LISTED = "i-0000000000000000f"
ROUND = 50


def median_ms(call: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


@contextlib.contextmanager
def together() -> Iterator[None]:
    with mock_aws(), mock_compliance():
        yield


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "123456789012")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    counter = iter(range(10**9))
    results: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    # One client throughout: both mocks answer through handlers every client carries.
    ssm = boto3.client("ssm", region_name="us-east-1")

    def put_parameter() -> None:
        ssm.put_parameter(Name=f"/bench/{next(counter)}", Value="v", Type="String")

    def get_parameter() -> None:
        ssm.get_parameter(Name="/bench/p")

    def put_items(resource_id: str | None = None) -> None:
        ssm.put_compliance_items(
            ResourceId=resource_id or f"i-{next(counter):017x}",
            ResourceType="ManagedInstance",
            ComplianceType="Custom:Bench",
            ExecutionSummary={"ExecutionTime": 1_700_000_000},
            Items=ITEMS,
        )

    def list_items() -> None:
        ssm.list_compliance_items(ResourceIds=[LISTED])

    def moto_round(suffix: str) -> None:
        ssm.put_parameter(Name="/bench/p", Value="v", Type="String")
        record(f"put_parameter{suffix}", median_ms(put_parameter, ROUND))
        record(f"get_parameter{suffix}", median_ms(get_parameter, ROUND))

    def complyd_round(suffix: str) -> None:
        put_items(LISTED)
        record(f"put_compliance_items{suffix}", median_ms(put_items, ROUND))
        record(f"list_compliance_items{suffix}", median_ms(list_items, ROUND))

    # Imports, the first client call and first-time set-up out of the figures.
    for mock in (mock_aws, mock_compliance, together):
        with mock():
            put_parameter() if mock is mock_aws else put_items()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with mock_aws():
            moto_round("")
        with mock_compliance():
            complyd_round("")
        with together():
            moto_round(" together")
            complyd_round(" together")

    def enter_exit_moto() -> None:
        with mock_aws():
            pass

    def enter_exit_complyd() -> None:
        with mock_compliance():
            pass

    while time.monotonic() < deadline + seconds / 2:
        record("mock_aws", median_ms(enter_exit_moto, 20))
        record("mock_compliance", median_ms(enter_exit_complyd, 20))
    print(json.dumps({name: statistics.median(values) for name, values in results.items()}))


if __name__ == "__main__":
    main()
