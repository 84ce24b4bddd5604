"""The in-process fixture against moto's, in one process: `python -m bench.fixture [SECONDS]`.

Times entering and leaving `mock_compliance()` against moto's `mock_aws()`, and a 10-item
PutComplianceItems and a ListComplianceItems through boto3 inside it against moto's
put_parameter and get_parameter inside `mock_aws()`: the same client library, the same
process, alternating rounds so drift hits both. Prints one JSON object of medians in ms.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import boto3
from moto import mock_aws

from complyd.testing import mock_compliance

ITEMS = [
    {"Id": f"c{k}", "Title": f"check {k}", "Severity": "HIGH", "Status": "COMPLIANT"}
    for k in range(10)
]


def median_ms(call: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "123456789012")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    counter = iter(range(10**9))

    def enter_exit_moto() -> None:
        with mock_aws():
            pass

    def enter_exit_complyd() -> None:
        with mock_compliance():
            pass

    results: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    enter_exit_moto(), enter_exit_complyd()  # imports and first-time set-up out of the figures
    deadline = time.monotonic() + seconds
    with mock_aws(), mock_compliance():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/bench/p", Value="v", Type="String")

        def put_parameter() -> None:
            ssm.put_parameter(Name=f"/bench/{next(counter)}", Value="v", Type="String")

        def get_parameter() -> None:
            ssm.get_parameter(Name="/bench/p")

        def put_items() -> None:
            ssm.put_compliance_items(
                ResourceId=f"i-{next(counter):017x}",
                ResourceType="ManagedInstance",
                ComplianceType="Custom:Bench",
                ExecutionSummary={"ExecutionTime": 1_700_000_000},
                Items=ITEMS,
            )

        def list_items() -> None:
            ssm.list_compliance_items(ResourceIds=["i-00000000000000001"])

        put_items()
        while time.monotonic() < deadline:
            record("put_parameter", median_ms(put_parameter, 50))
            record("put_compliance_items", median_ms(put_items, 50))
            record("get_parameter", median_ms(get_parameter, 50))
            record("list_compliance_items", median_ms(list_items, 50))
    while time.monotonic() < deadline + seconds / 2:
        record("mock_aws", median_ms(enter_exit_moto, 20))
        record("mock_compliance", median_ms(enter_exit_complyd, 20))
    print(json.dumps({name: statistics.median(values) for name, values in results.items()}))


if __name__ == "__main__":
    main()
