"""`complyd ingest` as a command: the three ways out, the content hash, limits, input from
standard input, credentials and region, refusals, exit statuses and the progress line."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.api.harness import Server, Tenant, launch, make_client, new_instance_id, new_tenant
from tests.api.reference import list_items, list_resource_summaries
from tests.conftest import require_postgres
from tests.operator.runner import complyd
from tests.postgres import schemas

from . import oracle
from .conftest import Scan, ingest, ingest_env


def sarif(
    path: Path,
    results: list[dict[str, Any]],
    *,
    end: str | None = "2026-02-03T04:05:06Z",
    tool: str = "scanner",
) -> Path:
    run: dict[str, Any] = {
        "tool": {"driver": {"name": tool, "rules": [{"id": "R1", "name": "rule"}]}},
        "results": results,
    }
    if end is not None:
        run["invocations"] = [{"executionSuccessful": True, "endTimeUtc": end}]
    path.write_text(json.dumps({"version": "2.1.0", "runs": [run]}))
    return path


def finding(line: int, message: str = "found", rule: str = "R1") -> dict[str, Any]:
    return {
        "ruleId": rule,
        "level": "error",
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "a.py"},
                    "region": {"startLine": line},
                }
            }
        ],
    }


def send(
    *args: str | Path, server: Server, tenant: Tenant, code: int = 0, stdin: bytes | None = None
) -> Any:
    return ingest(*args, "--endpoint-url", server.url, tenant=tenant, code=code, stdin=stdin)


def test_dry_run_prints_what_complyd_import_applies(sample_scan: Path, tmp_path: Path) -> None:
    target, end, expected, _skipped = oracle.xccdf(sample_scan)
    printed = ingest("--format", "xccdf", sample_scan, "--dry-run", "--any-resource-id")
    [body] = [json.loads(line) for line in printed.stdout.splitlines()]
    assert (body["ResourceId"], body["ExecutionSummary"]["ExecutionTime"]) == (target, end)
    lines = tmp_path / "requests.jsonl"
    lines.write_text(printed.stdout)
    tenant = new_tenant()
    db = tmp_path / "imported.db"
    complyd("import", "--db", str(db), "--any-resource-id", "--account", tenant.account,
            "--region", tenant.region, str(lines))  # fmt: skip
    server = launch(tmp_path / "serve", ("--any-resource-id",), db=str(db))
    try:
        assert oracle.stored(list_items(make_client(server, tenant), target)) == expected
    finally:
        server.stop()


def test_an_unchanged_report_is_a_no_op_on_the_server(
    tmp_path: Path, strict_server: Server, tenant: Tenant
) -> None:
    node = new_instance_id()
    ssm = make_client(strict_server, tenant)
    args = ("--format", "sarif", "--resource-id", node)
    first = sarif(tmp_path / "1.sarif", [finding(1)], end="2026-02-03T04:00:00Z")
    send(*args, first, server=strict_server, tenant=tenant)
    # A later scan that found the same: the items hash alike, so the server keeps all as it was.
    same = sarif(tmp_path / "2.sarif", [finding(1)], end="2026-02-03T05:00:00Z")
    send(*args, same, server=strict_server, tenant=tenant)
    [row] = list_resource_summaries(ssm)
    assert row["ExecutionSummary"]["ExecutionTime"].isoformat() == "2026-02-03T04:00:00+00:00"
    changed = sarif(tmp_path / "3.sarif", [finding(1), finding(2)], end="2026-02-03T06:00:00Z")
    send(*args, changed, server=strict_server, tenant=tenant)
    [row] = list_resource_summaries(ssm)
    assert row["ExecutionSummary"]["ExecutionTime"].isoformat() == "2026-02-03T06:00:00+00:00"
    assert [i["Id"] for i in list_items(ssm, node)] == ["R1:a.py:1", "R1:a.py:2"]


def test_values_too_long_are_cut_with_a_note(
    tmp_path: Path, strict_server: Server, tenant: Tenant
) -> None:
    node = new_instance_id()
    long_rule_a, long_rule_b = "A" * 1500, "A" * 1499 + "B"
    results = [
        finding(1, "t" * 600),
        finding(2, rule=long_rule_a),
        finding(3, rule=long_rule_b),
    ]
    log = sarif(tmp_path / "long.sarif", results)
    document = json.loads(log.read_text())
    document["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = "u" * 5000
    log.write_text(json.dumps(document))
    done = send("--format", "sarif", log, "--resource-id", node, server=strict_server,
                tenant=tenant)  # fmt: skip
    assert "note: 1 titles cut to 500 characters" in done.stdout
    assert "note: 2 ids shortened to fit the store's key" in done.stdout
    assert "note: 1 Details values cut to 4096 characters" in done.stdout
    items = {i["Id"]: i for i in list_items(make_client(strict_server, tenant), node)}
    title = items["R1:a.py:1"]["Title"]
    assert len(title) == 500 and title == "t" * 499 + "…"
    assert items["R1:a.py:1"]["Details"].get("HelpUri") == "u" * 4095 + "…"
    shortened = sorted(i for i in items if i.startswith("AAA"))
    assert len(shortened) == 2  # still two items: the digest keeps them apart
    assert all(len(i.encode()) <= 1024 and "~" in i for i in shortened)


def test_what_cannot_be_sent_is_named_and_nothing_goes(
    tmp_path: Path, strict_server: Server, tenant: Tenant
) -> None:
    node = ("--resource-id", new_instance_id())
    good = sarif(tmp_path / "good.sarif", [finding(1)])
    nul = sarif(tmp_path / "nul.sarif", [finding(1, "bad\x00title")])
    many = sarif(tmp_path / "many.sarif", [finding(n) for n in range(10_001)])
    done = send("--format", "sarif", good, nul, *node, server=strict_server, tenant=tenant, code=1)
    assert (
        f"{nul}: Custom:scanner for {node[1]}, item 'R1:a.py:1': ValidationException: 1 "
        "validation error detected: Value 'bad\\u0000title' at 'items.1.member.title' failed "
        "to satisfy constraint: Member must not contain the NUL character"
    ) in done.stderr
    done = send("--format", "sarif", many, *node, server=strict_server, tenant=tenant, code=1)
    assert "maps to 10,001 items, more than the 10,000 one PutComplianceItems call holds" in (
        done.stderr
    )
    twice = send("--format", "sarif", good, good, *node, server=strict_server, tenant=tenant,
                 code=1)  # fmt: skip
    assert "would replace the other" in twice.stderr
    assert list_resource_summaries(make_client(strict_server, tenant)) == []


def test_refused_puts_say_how_many_went_before(tmp_path: Path) -> None:
    server = launch(tmp_path / "small", ("--item-size-limit", "300"))
    tenant = new_tenant()
    try:
        small = sarif(tmp_path / "small.sarif", [finding(1)], tool="first")
        large = sarif(tmp_path / "large.sarif", [finding(n, "x" * 100) for n in range(5)])
        args = ("--format", "sarif", "--resource-id", new_instance_id())
        done = send(*args, small, large, server=server, tenant=tenant, code=1)
        assert f"{large}: Custom:scanner for {args[-1]}: ItemSizeLimitExceededException" in (
            done.stderr
        )
        assert "(1 of 2 puts were sent before it)" in done.stderr
        done = send(*args, large, server=server, tenant=tenant, code=1)
        assert "ItemSizeLimitExceededException" in done.stderr
        assert "(nothing was sent)" in done.stderr
        types = {r["ComplianceType"] for r in list_resource_summaries(make_client(server, tenant))}
        assert types == {"Custom:first"}
    finally:
        server.stop()


def test_standard_input_and_the_time_of_a_report_without_one(
    tmp_path: Path, strict_server: Server, tenant: Tenant
) -> None:
    node = new_instance_id()
    log = sarif(tmp_path / "timeless.sarif", [finding(1)], end=None)
    os.utime(log, (1_700_000_000, 1_700_000_000))
    done = ingest("--format", "sarif", log, "--resource-id", node, "--dry-run")
    [body] = [json.loads(line) for line in done.stdout.splitlines()]
    assert body["ExecutionSummary"]["ExecutionTime"] == 1_700_000_000
    assert "ExecutionTime is the file's modification time" in done.stderr
    before = time.time()
    done = send("--format", "sarif", "-", "--resource-id", node, server=strict_server,
                tenant=tenant, stdin=log.read_bytes())  # fmt: skip
    after = time.time()
    assert "ExecutionTime is the time it was read" in done.stdout
    [row] = list_resource_summaries(make_client(strict_server, tenant))
    assert before - 1 <= row["ExecutionSummary"]["ExecutionTime"].timestamp() <= after


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    log = sarif(tmp_path / "a.sarif", [finding(1)])
    for args, said in [
        (("--db", tmp_path / "x.db", "--endpoint-url", "http://127.0.0.1:9"), "not both"),
        (("--compliance-type", "Custom:x"), "is not a compliance type name (pattern"),
        (("--compliance-type", "Patch"), "reports go to a type of your own, Custom:NAME"),
        (("--max-size", "0"), "--max-size"),
    ]:
        done = ingest("--format", "sarif", log, *args, code=2)
        assert said in done.stderr
    assert "Missing option '--format'" in ingest(log, code=2).stderr
    assert "read only once" in ingest("--format", "sarif", "-", "-", code=2, stdin=b"").stderr
    assert not (tmp_path / "x.db").exists()


def test_credentials_and_region_come_from_the_aws_chain(
    tmp_path: Path, strict_server: Server, tenant: Tenant
) -> None:
    log = sarif(tmp_path / "a.sarif", [finding(1)])
    args = ("--format", "sarif", log, "--resource-id", new_instance_id(), "--endpoint-url",
            strict_server.url)  # fmt: skip
    keyless = ingest_env(AWS_DEFAULT_REGION="us-east-1")
    done = ingest(*args, env=keyless, code=1)
    assert "no AWS credentials" in done.stderr and "(nothing was sent)" in done.stderr
    regionless = ingest_env(AWS_ACCESS_KEY_ID=tenant.account, AWS_SECRET_ACCESS_KEY="x")
    assert "no AWS region: pass --region" in ingest(*args, env=regionless, code=1).stderr
    done = ingest(*args, "--region", "ap-south-1", env=regionless)
    assert f"sent 1 puts to {strict_server.url} (ap-south-1)" in done.stdout
    # botocore's own AWS_ENDPOINT_URL_SSM stands in for --endpoint-url.
    by_env = ingest_env(tenant, AWS_ENDPOINT_URL_SSM=strict_server.url)
    done = ingest(*args[:5], env=by_env)
    assert f"sent 1 puts to {strict_server.url} ({tenant.region})" in done.stdout
    elsewhere = Tenant(tenant.account, "ap-south-1")
    for region in (elsewhere, tenant):
        assert len(list_resource_summaries(make_client(strict_server, region))) == 1


def test_ingest_into_postgresql(ssg_scan: Scan, tmp_path: Path) -> None:
    target, _end, expected, _skipped = oracle.xccdf(ssg_scan.results)
    tenant = new_tenant()
    with schemas(require_postgres()) as made:
        db = made.new("ingest")
        ingest("--format", "xccdf", ssg_scan.results, "--db", db, "--account", tenant.account,
               "--region", tenant.region, "--any-resource-id")  # fmt: skip
        server = launch(tmp_path / "pg", ("--any-resource-id",), db=db)
        try:
            assert oracle.stored(list_items(make_client(server, tenant), target)) == expected
        finally:
            server.stop()


def test_a_progress_line_on_a_terminal(ssg_scan: Scan) -> None:
    """On a terminal, reading a large report shows which file and how far."""
    leader, follower = pty.openpty()
    env = {**ingest_env(), "TERM": "xterm", "COLUMNS": "120"}
    cmd = [sys.executable, "-m", "complyd", "ingest", "--format", "xccdf", str(ssg_scan.arf)]
    proc = subprocess.Popen(
        [*cmd, "--dry-run", "--any-resource-id"],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    assert f"reading {ssg_scan.arf}".encode() in shown
    assert b"MB" in shown  # how much of it, as rich's download column counts
