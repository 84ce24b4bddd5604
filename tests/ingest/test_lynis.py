"""`complyd ingest --format lynis`: a real `lynis audit system` of this machine, applied straight
into a store with --db, then read back by boto3 from a server started on that store."""

from __future__ import annotations

from pathlib import Path

from tests.api.harness import launch, make_client, new_tenant
from tests.api.reference import list_items, list_resource_summaries

from . import oracle
from .conftest import ingest


def test_audit_of_this_machine_applied_to_a_store(lynis_report: Path, tmp_path: Path) -> None:
    host, end, expected = oracle.lynis(lynis_report)
    assert expected, "lynis found nothing to suggest on this machine"
    tenant = new_tenant("eu-west-1")
    db = tmp_path / "fleet.db"
    into = ("--db", db, "--account", tenant.account, "--region", tenant.region)
    args = ("--format", "lynis", lynis_report, *into, "--any-resource-id")
    first = ingest(*args)
    assert f"Custom:Lynis for {host}: {len(expected)} items" in first.stdout
    assert "applied 1 puts" in first.stdout and "0 changed nothing" in first.stdout
    # The same report again: its ItemContentHash matches, so the store writes nothing.
    again = ingest(*args)
    assert "1 changed nothing" in again.stdout

    server = launch(tmp_path / "serve", ("--any-resource-id",), db=str(db))
    try:
        ssm = make_client(server, tenant)
        items = list_items(ssm, host)
        assert oracle.stored(items) == expected
        assert {i["ExecutionSummary"]["ExecutionTime"].timestamp() for i in items} == {end}
        indexes = {i["Details"]["HardeningIndex"] for i in items}
        assert len(indexes) == 1 and indexes.pop().isdigit()
        [row] = list_resource_summaries(ssm)
        assert row["ExecutionSummary"]["ExecutionType"].startswith("Lynis ")
        warnings = sum(1 for i in expected.values() if i["Severity"] == "HIGH")
        assert row["OverallSeverity"] == ("HIGH" if warnings else "LOW")
        assert row["NonCompliantSummary"]["SeveritySummary"]["HighCount"] == warnings
    finally:
        server.stop()


def test_an_unfinished_or_foreign_report_is_refused(lynis_report: Path, tmp_path: Path) -> None:
    lines = lynis_report.read_text(errors="replace").splitlines(keepends=True)
    cut = tmp_path / "cut.dat"
    cut.write_text("".join(line for line in lines if not line.startswith("report_datetime_end")))
    db = tmp_path / "never.db"
    done = ingest("--format", "lynis", cut, "--db", db, "--any-resource-id", code=1)
    assert "has no report_datetime_end: the audit did not finish" in done.stderr
    assert not db.exists()
    other = tmp_path / "other.dat"
    other.write_text("[main]\nname=value\n")
    done = ingest("--format", "lynis", other, "--db", db, "--any-resource-id", code=1)
    assert "not a lynis-report.dat" in done.stderr
    assert not db.exists()
