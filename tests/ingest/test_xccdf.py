"""`complyd ingest --format xccdf`: real oscap scans, sent to a real server, read back by boto3."""

from __future__ import annotations

import re
from pathlib import Path

from tests.api.harness import Server, Tenant, make_client, new_instance_id
from tests.api.reference import list_items, list_resource_summaries

from . import oracle
from .conftest import Scan, ingest


def test_ssg_scan_of_this_machine_reads_back_as_the_report_says(
    ssg_scan: Scan, open_server: Server, tenant: Tenant
) -> None:
    target, end, expected, skipped = oracle.xccdf(ssg_scan.results)
    done = ingest(
        "--format", "xccdf", ssg_scan.results, "--endpoint-url", open_server.url,
        "--any-resource-id", tenant=tenant,
    )  # fmt: skip
    ssm = make_client(open_server, tenant)
    items = list_items(ssm, target)
    assert oracle.stored(items) == expected
    statuses = {i["Status"] for i in items}
    # The overlay makes the Debian 11 content apply: a real scan with both outcomes.
    assert statuses == {"COMPLIANT", "NON_COMPLIANT"}
    assert {i["ComplianceType"] for i in items} == {"Custom:OpenSCAP"}
    assert {i["ExecutionSummary"]["ExecutionTime"].timestamp() for i in items} == {end}
    [row] = list_resource_summaries(ssm)
    assert row["ResourceId"] == target
    assert row["NonCompliantSummary"]["NonCompliantCount"] == sum(
        1 for i in expected.values() if i["Status"] == "NON_COMPLIANT"
    )
    assert row["ExecutionSummary"]["ExecutionType"].startswith("OpenSCAP ")
    counts = ", ".join(f"{n} {why}" for why, n in sorted(skipped.items()))
    assert f"{len(expected)} items" in done.stdout
    assert f"skipped {counts}" in done.stdout
    assert f"sent 1 puts to {open_server.url}" in done.stdout


def test_arf_of_the_same_scan_gives_the_same_items(
    ssg_scan: Scan, strict_server: Server, tenant: Tenant
) -> None:
    _target, end, expected, _skipped = oracle.xccdf(ssg_scan.results)
    node = new_instance_id()
    ingest(
        "--format", "xccdf", ssg_scan.arf, "--endpoint-url", strict_server.url,
        "--resource-id", node, tenant=tenant,
    )  # fmt: skip
    items = list_items(make_client(strict_server, tenant), node)
    assert oracle.stored(items) == expected
    assert {i["ExecutionSummary"]["ExecutionTime"].timestamp() for i in items} == {end}


def test_every_result_kind_of_a_real_evaluation(
    sample_scan: Path, open_server: Server, tenant: Tenant
) -> None:
    target, _end, expected, skipped = oracle.xccdf(sample_scan)
    ingest(
        "--format", "xccdf", sample_scan, "--endpoint-url", open_server.url,
        "--any-resource-id", tenant=tenant,
    )  # fmt: skip
    got = oracle.stored(list_items(make_client(open_server, tenant), target))
    assert got == expected
    # The benchmark was written to reach each row of the mapping table.
    results = {i["Details"]["Result"]: i["Status"] for i in got.values()}
    assert results == {
        "pass": "COMPLIANT",
        "fixed": "COMPLIANT",
        "fail": "NON_COMPLIANT",
        "error": "NON_COMPLIANT",
    }
    assert set(skipped) == {"notapplicable", "notchecked", "notselected"}
    severities = {i["Severity"] for i in got.values()}
    assert severities == {"HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED"}
    enabled = got["xccdf_org.example_rule_enabled"]["Details"]
    assert (enabled["CCE"], enabled["CCI"]) == ("CCE-80001-1", "CCI-000366")


def test_a_host_name_needs_any_resource_id(
    sample_scan: Path, open_server: Server, tenant: Tenant
) -> None:
    target, *_ = oracle.xccdf(sample_scan)
    done = ingest(
        "--format", "xccdf", sample_scan, "--endpoint-url", open_server.url,
        tenant=tenant, code=1,
    )  # fmt: skip
    assert f"<target> {target!r} is not a managed-node id" in done.stderr
    assert "--any-resource-id" in done.stderr and "--resource-id" in done.stderr
    assert "nothing was sent" in done.stderr
    assert list_resource_summaries(make_client(open_server, tenant)) == []


def test_result_values_outside_the_table(
    sample_scan: Path, tmp_path: Path, open_server: Server, tenant: Tenant
) -> None:
    """`informational` is skipped and counted; a value XCCDF does not define is an error."""
    text = sample_scan.read_text()
    informational = tmp_path / "informational.xml"
    informational.write_text(
        text.replace("<result>error</result>", "<result>informational</result>")
    )
    done = ingest("--format", "xccdf", informational, "--any-resource-id", "--dry-run")
    assert "1 informational" in done.stderr
    assert "xccdf_org.example_rule_broken" not in done.stdout
    invented = tmp_path / "invented.xml"
    invented.write_text(text.replace("<result>error</result>", "<result>maybe</result>"))
    done = ingest(
        "--format", "xccdf", invented, "--endpoint-url", open_server.url, "--any-resource-id",
        tenant=tenant, code=1,
    )  # fmt: skip
    assert "xccdf_org.example_rule_broken has result 'maybe'" in done.stderr
    assert list_resource_summaries(make_client(open_server, tenant)) == []


def test_a_file_with_two_evaluations_is_refused(sample_scan: Path, tmp_path: Path) -> None:
    text = sample_scan.read_text()
    test_result = re.search(r"<TestResult .*?</TestResult>", text, re.S)
    assert test_result is not None
    doubled = tmp_path / "doubled.xml"
    doubled.write_text(text.replace(test_result[0], test_result[0] * 2))
    done = ingest("--format", "xccdf", doubled, "--any-resource-id", "--dry-run", code=1)
    assert "holds 2 TestResults" in done.stderr
    assert done.stdout == ""
