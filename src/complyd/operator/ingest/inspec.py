"""Chef InSpec's JSON reporter (`inspec exec PROFILE --reporter json`), as AWS-RunInspecChecks
reports it: compliance type `Custom:Inspec`, one finding per control.

Owns the InSpec mapping: a control is NON_COMPLIANT when any of its results failed (or raised
an error), skipped when all were skipped, else COMPLIANT; its severity comes from its impact on
InSpec's documented bands. Must not know the API's limits.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from complyd.model import Severity, Status
from complyd.operator.ingest import json_report
from complyd.operator.ingest.json_report import member, number, objects
from complyd.operator.ingest.report import (
    Finding,
    Report,
    ReportError,
    banded,
    latest,
    parse_time,
    text,
)
from complyd.operator.ingest.source import Source

DEFAULT_TYPE = "Custom:Inspec"
# InSpec's impact bands (lib/inspec/schema/primitives.rb): none [0, 0.01), low [0.01, 0.4),
# medium [0.4, 0.7), high [0.7, 0.9), critical [0.9, 1.0].
IMPACT_BANDS = (
    (0.01, Severity.INFORMATIONAL),
    (0.4, Severity.LOW),
    (0.7, Severity.MEDIUM),
    (0.9, Severity.HIGH),
)
IMPACT_NAMES = {
    "none": Severity.INFORMATIONAL,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}
FAILED = ("failed", "error")
# `--enhanced-outcomes` gives each control a status of its own.
ENHANCED = {
    "passed": Status.COMPLIANT,
    "failed": Status.NON_COMPLIANT,
    "error": Status.NON_COMPLIANT,
}


def severity_of(impact: Any, where: str) -> Severity:
    if isinstance(impact, str) and impact.lower() in IMPACT_NAMES:
        return IMPACT_NAMES[impact.lower()]
    value = number(impact)
    if value is None or not 0.0 <= value <= 1.0:
        raise ReportError(f"{where}: impact {impact!r} is not a number from 0.0 to 1.0")
    return banded(value, IMPACT_BANDS, Severity.CRITICAL)


def _result_end(result: dict[str, Any], where: str) -> datetime | None:
    start = text(result.get("start_time"))
    if start is None:
        return None
    when, _naive = parse_time(start, where=f"{where}: start_time")
    return when + timedelta(seconds=number(result.get("run_time")) or 0.0)


def _finding(
    control: dict[str, Any], profile: dict[str, Any], report: Report, ends: list[datetime]
) -> Finding | None:
    control_id = text(control.get("id"))
    where = f"{report.source}: control {control_id or '(no id)'}"
    if control_id is None:
        raise ReportError(f"{where}: has no id")
    results = objects(control.get("results"))
    counts = Counter(text(r.get("status")) or "passed" for r in results)
    for result in results:
        end = _result_end(result, where)
        if end is not None:
            ends.append(end)
    enhanced = text(control.get("status"))
    if enhanced is not None and enhanced not in ENHANCED:
        report.skipped[enhanced] += 1
        return None
    if enhanced is not None:
        status = ENHANCED[enhanced]
    elif any(counts[s] for s in FAILED):
        status = Status.NON_COMPLIANT
    elif not results:
        report.skipped["no results"] += 1
        return None
    elif counts["skipped"] == len(results):
        report.skipped["skipped"] += 1
        return None
    else:
        status = Status.COMPLIANT
    details = {"Profile": text(profile.get("name")) or ""}
    impact = control.get("impact")
    details["Impact"] = str(impact)
    details["Results"] = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    failure = next((r for r in results if text(r.get("status")) in FAILED), None)
    if failure is not None:
        said = [text(failure.get("code_desc")), text(failure.get("message"))]
        details["Failure"] = ": ".join(s for s in said if s)
    first = results[0] if results else {}
    return Finding(
        id=control_id,
        status=status,
        severity=severity_of(impact, where),
        title=text(control.get("title")) or text(first.get("code_desc")),
        details={k: v for k, v in details.items() if v},
    )


def parse(source: Source) -> list[Report]:
    document = json_report.load(source, "an InSpec JSON report")
    where = source.shown
    if not isinstance(document.get("profiles"), list):
        hint = (
            " (this is the json-min reporter's shape; use --reporter json)"
            if isinstance(document.get("controls"), list)
            else ""
        )
        raise ReportError(
            f"{where}: not an InSpec JSON report: it has no 'profiles' array{hint}; write it "
            "with `inspec exec PROFILE --reporter json:FILE`"
        )
    version = text(document.get("version"))
    report = Report(
        source=where,
        compliance_type=DEFAULT_TYPE,
        resource_id=text(member(document, "platform", "target_id")),
        resource_from="the report's platform.target_id",
        execution_type=f"InSpec {version}" if version else "InSpec",
    )
    findings: dict[str, Finding] = {}
    seen: set[str | None] = set()
    ends: list[datetime] = []
    for profile in objects(document["profiles"]):
        for control in objects(profile.get("controls")):
            # An overlay profile and the profile it wraps both list an overlaid control; it
            # is one control, reported once (the listing that ran it wins).
            control_id = text(control.get("id"))
            if control_id in seen and not objects(control.get("results")):
                continue
            seen.add(control_id)
            finding = _finding(control, profile, report, ends)
            if finding is not None:
                findings[finding.id] = finding
    report.findings = list(findings.values())
    report.execution_time = latest(ends)
    return [report]
