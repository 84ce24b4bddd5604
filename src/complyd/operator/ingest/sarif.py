"""SARIF 2.1.0 logs (bandit, semgrep, checkov, CodeQL and many more emit them).

Owns the SARIF mapping: one finding per result, with an Id built from its rule and location,
a severity from the rule's `security-severity` (GitHub's convention) or the result's `level`,
and compliance type `Custom:<tool name>` per run. Suppressed results, results absent from this
scan and results that are no finding (kind notApplicable, informational) are skipped. Must not
know the API's limits.
"""

from __future__ import annotations

import re
from datetime import datetime
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

SUPPORTED_VERSION = "2.1.0"
LEVELS = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.INFORMATIONAL,
}
# GitHub's bands for `security-severity` (a CVSS-like score from 0.0 to 10.0).
SECURITY_BANDS = (
    (0.1, Severity.INFORMATIONAL),
    (4.0, Severity.LOW),
    (7.0, Severity.MEDIUM),
    (9.0, Severity.HIGH),
)
KIND_STATUS = {
    "fail": Status.NON_COMPLIANT,
    "open": Status.NON_COMPLIANT,
    "review": Status.NON_COMPLIANT,
    "pass": Status.COMPLIANT,
}
SKIPPED_KINDS = ("notApplicable", "informational")
# A suppression silences its result unless it is still under review or was rejected.
SILENCING = (None, "accepted")
_NOT_A_NAME = re.compile(r"\W+", re.ASCII)
_PLACEHOLDER = re.compile(r"\{(\d+)\}")


def compliance_type(tool: str) -> str:
    """`Custom:` and the tool's name, with what a type name cannot hold made `_`."""
    return "Custom:" + _NOT_A_NAME.sub("_", tool).strip("_")


def security_severity(value: Any) -> Severity | None:
    score = number(value)
    if score is None and isinstance(value, str):
        try:
            score = float(value)
        except ValueError:
            return None
    if score is None:
        return None
    return banded(score, SECURITY_BANDS, Severity.CRITICAL)


class _Run:
    """One run's tool, rules and results, read into findings of one report."""

    def __init__(self, run: dict[str, Any], number_: int, where: str) -> None:
        self.where = f"{where}: run {number_}"
        driver = member(run, "tool", "driver")
        self.tool = text(member(driver, "name"))
        if self.tool is None:
            raise ReportError(f"{self.where}: has no tool.driver.name")
        self.version = text(member(driver, "version")) or text(member(driver, "semanticVersion"))
        self.rules = objects(member(driver, "rules"))
        self.rules_by_id = {text(r.get("id")): r for r in self.rules if text(r.get("id"))}
        self.run = run

    def rule(self, result: dict[str, Any]) -> dict[str, Any]:
        index = result.get("ruleIndex", member(result, "rule", "index"))
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(self.rules):
            return self.rules[index]
        rule_id = text(result.get("ruleId")) or text(member(result, "rule", "id"))
        return self.rules_by_id.get(rule_id, {})

    def title(self, result: dict[str, Any], rule: dict[str, Any]) -> str | None:
        said = text(member(result, "message", "text"))
        if said is None:
            template = text(member(rule, "messageStrings", member(result, "message", "id"), "text"))
            arguments = member(result, "message", "arguments")
            if template is not None and isinstance(arguments, list):
                said = _PLACEHOLDER.sub(
                    lambda m: str(arguments[int(m[1])]) if int(m[1]) < len(arguments) else m[0],
                    template,
                )
            else:
                said = template
        said = said or text(member(rule, "shortDescription", "text"))
        return said.splitlines()[0].strip() if said else None

    def times(self) -> list[datetime]:
        found = []
        for invocation in objects(self.run.get("invocations")):
            raw = text(invocation.get("endTimeUtc")) or text(invocation.get("startTimeUtc"))
            if raw is not None:
                found.append(parse_time(raw, where=f"{self.where}: invocation time")[0])
        return found

    def machine(self) -> str | None:
        for invocation in objects(self.run.get("invocations")):
            if machine := text(invocation.get("machine")):
                return machine
        return None


def _location(result: dict[str, Any]) -> tuple[str, str]:
    """(`uri:line`, `:column`) of the result's first location; empty where unknown."""
    locations = objects(result.get("locations"))
    physical = member(locations[0], "physicalLocation") if locations else None
    uri = text(member(physical, "artifactLocation", "uri")) or ""
    line = member(physical, "region", "startLine")
    column = member(physical, "region", "startColumn")
    at = f"{uri}:{line}" if isinstance(line, int) and uri else uri
    return at, f":{column}" if isinstance(column, int) else ""


def _skip_reason(result: dict[str, Any]) -> str | None:
    suppressions = objects(result.get("suppressions"))
    if any(text(s.get("status")) in SILENCING for s in suppressions):
        return "suppressed"
    if text(result.get("baselineState")) == "absent":
        return "absent"
    kind = text(result.get("kind")) or "fail"
    return kind if kind in SKIPPED_KINDS else None


def _read_run(run: _Run, report: Report, used: set[str]) -> None:
    for result in objects(run.run.get("results")):
        reason = _skip_reason(result)
        if reason is not None:
            report.skipped[reason] += 1
            continue
        kind = text(result.get("kind")) or "fail"
        status = KIND_STATUS.get(kind)
        if status is None:
            raise ReportError(f"{run.where}: a result has kind {kind!r}, not a SARIF kind")
        rule = run.rule(result)
        rule_id = text(result.get("ruleId")) or text(rule.get("id")) or "result"
        # SARIF: an absent level is the rule's default, else `warning` for a failing result
        # and `none` for any other kind.
        default_level = "warning" if kind == "fail" else "none"
        level = (
            text(result.get("level"))
            or text(member(rule, "defaultConfiguration", "level"))
            or default_level
        )
        if level not in LEVELS:
            raise ReportError(f"{run.where}: result {rule_id} has level {level!r}, not a level")
        score = member(result, "properties", "security-severity") or member(
            rule, "properties", "security-severity"
        )
        severity = security_severity(score) or LEVELS[level]
        location, column = _location(result)
        finding_id = f"{rule_id}:{location}" if location else rule_id
        if finding_id in used:
            finding_id += column
        base, n = finding_id, 1
        while finding_id in used:
            n += 1
            finding_id = f"{base}#{n}"
        used.add(finding_id)
        details = {
            "Tool": f"{run.tool} {run.version}" if run.version else run.tool,
            "Rule": rule_id,
            "RuleName": text(rule.get("name")),
            "Location": location + column if location else None,
            "Level": level,
            "SecuritySeverity": str(score) if score is not None else None,
            "HelpUri": text(rule.get("helpUri")),
        }
        report.findings.append(
            Finding(
                id=finding_id,
                status=status,
                severity=severity,
                title=run.title(result, rule),
                details={k: v for k, v in details.items() if v},
            )
        )


def parse(source: Source) -> list[Report]:
    document = json_report.load(source, "a SARIF log")
    where = source.shown
    version = text(document.get("version"))
    if not isinstance(document.get("runs"), list):
        raise ReportError(f"{where}: not a SARIF log: it has no 'runs' array")
    if version != SUPPORTED_VERSION:
        raise ReportError(
            f"{where}: SARIF version {version!r} is not supported; {SUPPORTED_VERSION} is"
        )
    reports: dict[str, Report] = {}
    times: dict[str, list[datetime]] = {}
    used: dict[str, set[str]] = {}
    for n, raw in enumerate(objects(document["runs"]), start=1):
        run = _Run(raw, n, where)
        assert run.tool is not None
        ctype = compliance_type(run.tool)
        # Several runs of one tool (one per language, say) are one scan of the project.
        report = reports.get(ctype)
        if report is None:
            report = reports[ctype] = Report(
                source=where,
                compliance_type=ctype,
                resource_from="the run's invocations[].machine",
                execution_type=f"{run.tool} {run.version}" if run.version else run.tool,
            )
            if ctype != "Custom:" + run.tool:
                report.notes.append(f"tool name {run.tool!r} becomes type {ctype}")
        report.resource_id = report.resource_id or run.machine()
        times.setdefault(ctype, []).extend(run.times())
        _read_run(run, report, used.setdefault(ctype, set()))
    for ctype, report in reports.items():
        report.execution_time = latest(times[ctype])
    if not reports:
        raise ReportError(f"{where}: has no runs")
    return list(reports.values())
