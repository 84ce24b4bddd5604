"""Conventions every command keeps: a store that cannot be opened is one line and exit 1, a
malformed account id is refused, --help names the COMPLYD_* variables; and `complyd tenants`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.harness import Server, make_client, new_instance_id, new_tenant
from tests.api.reference import entry, put

from .runner import complyd, json_lines

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none"


def commands(tmp_path: Path) -> list[list[str]]:
    lines = tmp_path / "puts.jsonl"
    lines.write_text("")
    return [
        ["summary"],
        ["resources", "--status", "NON_COMPLIANT"],
        ["items", "i-0123456789abcdef0"],
        ["history"],
        ["history", "i-0123456789abcdef0"],
        ["tenants"],
        ["export", "--out", str(tmp_path / "out")],
        ["import", str(lines)],
        ["migrate"],
    ]


@pytest.mark.parametrize("db", [UNREACHABLE, "not-a-database"])
def test_every_command_reports_an_unopenable_store_in_one_line(tmp_path: Path, db: str) -> None:
    if db == "not-a-database":
        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(b"this is not SQLite\n" * 200)
        db, reason = str(garbage), "file is not a database"
    else:
        reason = "Connection refused"
    for args in commands(tmp_path):
        done = complyd(*args, "--db", db, ok=False)
        assert done.returncode == 1, (args, done.stderr)
        assert "Traceback" not in done.stderr, args
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, (args, done.stderr)
        assert lines[0].startswith("Error: cannot open the store") and reason in lines[0], args


@pytest.mark.parametrize("account", ["12", "1234567890123", "12345678901x"])
def test_account_ids_are_twelve_digits_everywhere(tmp_path: Path, account: str) -> None:
    lines = tmp_path / "puts.jsonl"
    lines.write_text("")
    for args in (
        ["summary"],
        ["resources"],
        ["items", "i-0123456789abcdef0"],
        ["history"],
        ["import", str(lines)],
    ):
        done = complyd(*args, "--account", account, ok=False)
        assert done.returncode == 2, args
        assert f"'{account}' is not a 12-digit account id" in done.stderr, args
    done = complyd("keys", "create", "--account-id", account, ok=False)
    assert done.returncode == 2 and "12 digits" in done.stderr


def test_help_names_the_environment_variables() -> None:
    serve = complyd("serve", "--help").stdout
    flat = " ".join(serve.split())
    for variable in (
        "COMPLYD_HOST",
        "COMPLYD_PORT",
        "COMPLYD_DB",
        "COMPLYD_CREDENTIALS",
        "COMPLYD_HISTORY_DAYS",
        "COMPLYD_WEBHOOKS",
        "COMPLYD_LOG_LEVEL",
    ):
        assert f"env var: {variable}" in flat or f"env var:{variable}" in flat, variable
    for args in (["summary"], ["tenants"], ["export"], ["migrate"]):
        assert "COMPLYD_DB" in complyd(*args, "--help").stdout, args
    assert "COMPLYD_CREDENTIALS" in complyd("keys", "list", "--help").stdout


def test_tenants_lists_every_tenant_largest_first(server: Server) -> None:
    small, large, other_region = new_tenant(), new_tenant(), new_tenant("eu-west-1")
    expected = []
    for tenant, nodes, failing in ((small, 1, 1), (large, 4, 2), (other_region, 2, 0)):
        ssm = make_client(server, tenant)
        for n in range(nodes):
            node = new_instance_id()
            status = "NON_COMPLIANT" if n < failing else "COMPLIANT"
            put(ssm, node, "Patch", [entry("KB1", "HIGH", status)])
            if n == 0:
                put(ssm, node, "Custom:Disk", [entry("root", "LOW")])
        types = [{"ComplianceType": "Custom:Disk", "ResourceCount": 1, "NonCompliantCount": 0}]
        types.append(
            {"ComplianceType": "Patch", "ResourceCount": nodes, "NonCompliantCount": failing}
        )
        expected.append(
            {
                "AccountId": tenant.account,
                "Region": tenant.region,
                "ResourceCount": nodes,
                "NonCompliantCount": failing,
                "ComplianceTypes": types,
            }
        )
    expected.sort(key=lambda t: (-t["ResourceCount"], t["AccountId"], t["Region"]))
    done = complyd("tenants", "--db", str(server.db), "--json")
    assert json_lines(done.stdout) == expected
    table = complyd("tenants", "--db", str(server.db)).stdout
    assert (
        table.index(large.account) < table.index(other_region.account) < table.index(small.account)
    )
