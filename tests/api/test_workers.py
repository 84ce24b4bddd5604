"""`complyd serve --workers N`: several processes answering one port from one database."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .conftest import ServerFactory
from .harness import Tenant, make_client, new_instance_id, server_env
from .reference import (
    entry,
    fleet_summaries,
    list_compliance_summaries,
    list_resource_summaries,
    project_fleet_row,
    project_resource_row,
    put,
    resource_row,
)


def workers(pid: int) -> list[int]:
    """The worker processes of a server (not multiprocessing's resource tracker)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    found = []
    for child in out.split():
        command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"resource_tracker" not in command:
            found.append(int(child))
    return found


def test_workers_share_the_port_and_the_database(
    server_factory: ServerFactory, tenant: Tenant
) -> None:
    srv = server_factory("--workers", "3")
    assert srv.proc is not None
    deadline = time.monotonic() + 20
    while len(workers(srv.proc.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers(srv.proc.pid)) == 3
    nodes = [new_instance_id() for _ in range(40)]

    def report(n: int) -> dict[str, Any]:
        ssm = make_client(srv, tenant)  # one connection each: the port spreads them out
        items = [entry(f"c{k}", "HIGH", "NON_COMPLIANT" if (n + k) % 3 == 0 else "COMPLIANT")
                 for k in range(5)]  # fmt: skip
        put(ssm, nodes[n], "Custom:Workers", items)
        return resource_row(nodes[n], "Custom:Workers", items)

    with ThreadPoolExecutor(8) as pool:
        expected = sorted(pool.map(report, range(len(nodes))), key=lambda r: r["ResourceId"])
    ssm = make_client(srv, tenant)
    # Every worker reads what every other wrote, and the fleet counters add up.
    for _ in range(6):
        rows = [project_resource_row(r) for r in list_resource_summaries(ssm)]
        assert rows == expected
    fleet = [project_fleet_row(r) for r in list_compliance_summaries(ssm)]
    assert fleet == fleet_summaries(expected)


def test_workers_need_a_database(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "complyd", "serve", "--store", "memory", "--workers", "2"],
        capture_output=True,
        text=True,
        env=server_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--store memory lives in one process" in result.stderr
