"""`complyd ingest --format inspec`: reports following InSpec's published JSON reporter schema
(`inspec schema exec-json`; InSpec itself cannot be installed here), in the shapes InSpec 1-4
(Ruby times) and 5+ (ISO times, enhanced outcomes) write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.api.harness import Server, Tenant, make_client, new_instance_id
from tests.api.reference import list_items, list_resource_summaries

from . import oracle
from .conftest import ingest


def control(
    control_id: str,
    impact: float,
    statuses: list[str],
    *,
    title: str | None = None,
    start: float = 0.0,
    iso: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """An exec-json control: every member the schema requires, one result per status."""
    results = []
    for n, status in enumerate(statuses):
        when = oracle.at(start + n / 3600, offset_hours=-5)
        result: dict[str, Any] = {
            "status": status,
            "code_desc": f"{control_id} check {n} should hold",
            "run_time": 0.25,
            "start_time": when.isoformat() if iso else oracle.ruby_time(when),
        }
        if status == "failed":
            result["message"] = f"expected {n} to hold"
        if status == "skipped":
            result["skip_message"] = "Skipped control due to only_if condition."
        results.append(result)
    return {
        "id": control_id,
        "title": title,
        "desc": None,
        "descriptions": [],
        "impact": impact,
        "refs": [],
        "tags": {},
        "code": f"control '{control_id}' do\nend\n",
        "source_location": {"line": 1, "ref": "controls/example.rb"},
        "waiver_data": {},
        "results": results,
        **extra,
    }


def report(
    profiles: list[dict[str, Any]], target_id: str | None = None, version: str = "5.22.3"
) -> dict[str, Any]:
    platform: dict[str, Any] = {"name": "debian", "release": "12.11"}
    if target_id is not None:
        platform["target_id"] = target_id
    return {
        "platform": platform,
        "profiles": profiles,
        "statistics": {"duration": 1.5},
        "version": version,
    }


def profile(name: str, controls: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "version": "1.0.0",
        "sha256": "0" * 64,
        "supports": [],
        "attributes": [],
        "groups": [],
        "controls": controls,
        "status": "loaded",
        **extra,
    }


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


IMPACTS = (0.0, 0.009, 0.01, 0.39, 0.4, 0.69, 0.7, 0.89, 0.9, 1.0)


def test_impact_bands(tmp_path: Path) -> None:
    controls = [control(f"c{impact}", impact, ["failed"]) for impact in IMPACTS]
    path = write(tmp_path / "r.json", report([profile("p", controls)]))
    done = ingest("--format", "inspec", path, "--resource-id", new_instance_id(), "--dry-run")
    [body] = [json.loads(line) for line in done.stdout.splitlines()]
    got = {i["Id"]: i["Severity"] for i in body["Items"]}
    assert got == {f"c{impact}": oracle.inspec_severity(impact) for impact in IMPACTS}
    assert set(got.values()) == {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}


def test_controls_become_items_as_aws_run_inspec_checks_reports_them(
    tmp_path: Path, open_server: Server, tenant: Tenant
) -> None:
    controls = [
        control("sshd-01", 0.7, ["passed", "passed"], title="SSH protocol 2"),
        control("sshd-02", 1.0, ["passed", "failed", "skipped"], title="No root login", start=2),
        control("sshd-03", 0.3, ["skipped", "skipped"], title="Only on CentOS"),
        control("sshd-04", 0.5, [], title="Nothing to check"),
        control("pkg-01", 0.0, ["error"], start=1),
        control("(generated from example.rb:7 871cd54043069c5c)", 0.5, ["passed"]),
    ]
    # An overlay lists the controls of the profile it wraps again, without their results.
    overlay = [control("sshd-02", 1.0, [], title="No root login")]
    document = report(
        [profile("linux-baseline", controls), profile("my-overlay", overlay)],
        target_id="node-7f3a",
    )
    path = write(tmp_path / "inspec.json", document)
    done = ingest("--format", "inspec", path, "--endpoint-url", open_server.url,
                  "--any-resource-id", tenant=tenant)  # fmt: skip
    ssm = make_client(open_server, tenant)
    got = oracle.stored(list_items(ssm, "node-7f3a"))
    base = {"Profile": "linux-baseline"}
    assert got == {
        "sshd-01": oracle.item(
            "COMPLIANT", "HIGH", "SSH protocol 2", {**base, "Impact": "0.7", "Results": "2 passed"}
        ),
        "sshd-02": oracle.item(
            "NON_COMPLIANT",
            "CRITICAL",
            "No root login",
            {
                **base,
                "Impact": "1.0",
                "Results": "1 failed, 1 passed, 1 skipped",
                "Failure": "sshd-02 check 1 should hold: expected 1 to hold",
            },
        ),
        "pkg-01": oracle.item(
            "NON_COMPLIANT",
            "INFORMATIONAL",
            "pkg-01 check 0 should hold",
            {
                **base,
                "Impact": "0.0",
                "Results": "1 error",
                "Failure": "pkg-01 check 0 should hold",
            },
        ),
        "(generated from example.rb:7 871cd54043069c5c)": oracle.item(
            "COMPLIANT",
            "MEDIUM",
            "(generated from example.rb:7 871cd54043069c5c) check 0 should hold",
            {**base, "Impact": "0.5", "Results": "1 passed"},
        ),
    }
    [row] = list_resource_summaries(ssm)
    assert row["ComplianceType"] == "Custom:Inspec"
    assert row["ExecutionSummary"]["ExecutionType"] == "InSpec 5.22.3"
    # The latest result's end: sshd-02's third result, started at 2h + 2s, ran 0.25 s.
    latest = oracle.at(2 + 2 / 3600).timestamp() + 0.25
    assert row["ExecutionSummary"]["ExecutionTime"].timestamp() == latest
    assert "skipped 1 no results, 1 skipped" in done.stdout


def test_inspec_1_to_4_reports_with_ruby_times(
    tmp_path: Path, strict_server: Server, tenant: Tenant
) -> None:
    """The shape of InSpec's own json reporter fixture: Ruby's Time#to_s, no target_id."""
    node = new_instance_id()
    controls = [
        control("tmp-1.0", 0.7, ["passed"], title="Create /tmp directory", iso=False),
        control("gem-1.0", 0.5, ["failed"], iso=False, start=1),
    ]
    path = write(
        tmp_path / "old.json", report([profile("long_commands", controls)], version="1.49.2")
    )
    ingest("--format", "inspec", path, "--endpoint-url", strict_server.url, "--resource-id", node,
           tenant=tenant)  # fmt: skip
    items = list_items(make_client(strict_server, tenant), node)
    assert [(i["Id"], i["Status"]) for i in items] == [
        ("gem-1.0", "NON_COMPLIANT"),
        ("tmp-1.0", "COMPLIANT"),
    ]
    expected_end = oracle.at(1).timestamp() + 0.25
    assert {i["ExecutionSummary"]["ExecutionTime"].timestamp() for i in items} == {expected_end}


def test_enhanced_outcomes(tmp_path: Path) -> None:
    """`--enhanced-outcomes` gives each control a status: not_applicable and not_reviewed are
    skipped; passed, failed and error map as results do."""
    controls = [
        control("a", 0.5, ["passed"], status="passed"),
        control("b", 0.5, ["failed"], status="failed"),
        control("c", 0.5, ["passed"], status="error"),
        control("d", 0.5, ["skipped"], status="not_applicable"),
        control("e", 0.5, ["skipped"], status="not_reviewed"),
    ]
    path = write(tmp_path / "enhanced.json", report([profile("p", controls)]))
    done = ingest("--format", "inspec", path, "--resource-id", new_instance_id(), "--dry-run")
    [body] = [json.loads(line) for line in done.stdout.splitlines()]
    assert {i["Id"]: i["Status"] for i in body["Items"]} == {
        "a": "COMPLIANT",
        "b": "NON_COMPLIANT",
        "c": "NON_COMPLIANT",
    }
    assert "skipped 1 not_applicable, 1 not_reviewed" in done.stderr


def test_reports_that_cannot_be_mapped(tmp_path: Path) -> None:
    node = ("--resource-id", new_instance_id(), "--dry-run")
    minimal = write(tmp_path / "min.json", {"statistics": {}, "version": "5", "controls": []})
    assert "json-min reporter" in ingest("--format", "inspec", minimal, *node, code=1).stderr
    bad = write(tmp_path / "bad.json", report([profile("p", [control("x", 7, ["passed"])])]))
    assert (
        "control x: impact 7 is not a number from 0.0 to 1.0"
        in ingest("--format", "inspec", bad, *node, code=1).stderr
    )
    nameless = write(tmp_path / "nameless.json", report([profile("p", [control("c", 0.5, [])])]))
    done = ingest("--format", "inspec", nameless, "--any-resource-id", "--dry-run", code=1)
    assert "names no node (the report's platform.target_id is missing)" in done.stderr
