"""`complyd serve --seed FILE`: a server that comes up holding known data, or not at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from complyd.testing import ServerStartError, run_server
from tests.api.harness import launch
from tests.api.reference import list_items

from .conftest import serve_refused, ssm_client

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def put_body(node: str, items: list[dict[str, Any]], ctype: str = "Patch") -> dict[str, Any]:
    return {
        "ResourceId": node,
        "ResourceType": "ManagedInstance",
        "ComplianceType": ctype,
        "ExecutionSummary": {"ExecutionTime": T0},
        "Items": items,
    }


def write_seed(path: Path, bodies: list[dict[str, Any]], blank_lines: bool = False) -> Path:
    gap = "\n\n" if blank_lines else "\n"
    path.write_text(gap.join(json.dumps(b) for b in bodies) + "\n")
    return path


def fleet(count: int) -> list[dict[str, Any]]:
    items = [
        {
            "Id": f"KB{n}",
            "Severity": "CRITICAL",
            "Status": "NON_COMPLIANT" if n == 0 else "COMPLIANT",
        }
        for n in range(10)
    ]
    return [put_body(f"i-{n:017x}", items) for n in range(1, count + 1)]


def test_a_seeded_server_answers_from_its_first_request(tmp_path: Path) -> None:
    seed = write_seed(tmp_path / "seed.jsonl", fleet(400), blank_lines=True)
    options = ("--seed", str(seed), "--seed-account", "123456789012", "--seed-region", "eu-west-1")
    with run_server(*options, memory=True) as server:
        ssm = ssm_client(server.url, "123456789012", region="eu-west-1")
        # The first request after /healthz turned ready already sees every seeded put.
        first = ssm.list_compliance_summaries()["ComplianceSummaryItems"][0]
        assert first["ComplianceType"] == "FleetTotal"
        assert first["NonCompliantSummary"]["NonCompliantCount"] == 400
        assert len(list_items(ssm, "i-00000000000000190")) == 10
        # Only the tenant named by --seed-account and --seed-region holds it.
        other = ssm_client(server.url, "123456789012", region="us-east-1")
        assert list_items(other) == []
        assert "400 puts seeded from" in server.stderr_path.read_text()


def test_the_default_seed_tenant_is_the_open_mode_default_account(tmp_path: Path) -> None:
    seed = write_seed(
        tmp_path / "seed.jsonl",
        [put_body("i-0123456789abcdef0", [{"Id": "a", "Severity": "LOW", "Status": "COMPLIANT"}])],
    )
    with run_server("--seed", str(seed), memory=True) as server:
        # A key id that is not 12 digits is account 000000000000, as moto's "testing" key.
        ssm = ssm_client(server.url, "testing", region="us-east-1")
        assert [i["Id"] for i in list_items(ssm)] == ["a"]


def test_a_seed_file_with_a_bad_line_keeps_the_server_from_starting(tmp_path: Path) -> None:
    good = put_body("i-0123456789abcdef0", [{"Id": "a", "Severity": "LOW", "Status": "COMPLIANT"}])
    bad = put_body("web-01", [{"Id": "a", "Severity": "LOW", "Status": "COMPLIANT"}])
    seed = write_seed(tmp_path / "seed.jsonl", [good, bad, {"ResourceId": 5}])
    with pytest.raises(ServerStartError) as raised:
        with run_server("--seed", str(seed), memory=True):
            pass
    message = str(raised.value)
    assert f"seed file {seed}, line 2: InvalidResourceId" in message
    assert "(and 1 more rejected line)" in message
    assert "Traceback" not in message


def test_seed_options_are_checked(tmp_path: Path) -> None:
    seed = write_seed(tmp_path / "seed.jsonl", [])
    for args, words in (
        (["--seed", str(seed), "--seed-account", "12345"], "--seed-account"),
        (["--seed", str(tmp_path / "missing.jsonl")], "does not exist"),
    ):
        assert words in serve_refused(tmp_path, *args)


def test_a_persistent_store_seeded_at_every_start_holds_the_seed_once(tmp_path: Path) -> None:
    seed = write_seed(tmp_path / "seed.jsonl", fleet(3))
    server = launch(tmp_path / "srv", ("--seed", str(seed)))
    try:
        ssm = ssm_client(server.url, "testing")
        before = list_items(ssm)
        server.restart()
        assert list_items(ssm_client(server.url, "testing")) == before
        assert len(before) == 30
    finally:
        server.stop()
