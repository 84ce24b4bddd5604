"""Lynis's `lynis-report.dat` (`lynis audit system`, /var/log/lynis-report.dat by default).

Owns the Lynis mapping: each `warning[]` and `suggestion[]` line is a NON_COMPLIANT finding
(warnings HIGH, suggestions LOW), and every finding carries the audit's hardening index. The
file is `key=value` lines; a finding is `TEST-ID|message|details|solution|`. Must not know the
API's limits.
"""

from __future__ import annotations

import hashlib

from complyd.model import Severity, Status
from complyd.operator.ingest.report import Finding, Report, ReportError, parse_time
from complyd.operator.ingest.source import Source

DEFAULT_TYPE = "Custom:Lynis"
KINDS = {"warning[]": ("warning", Severity.HIGH), "suggestion[]": ("suggestion", Severity.LOW)}
NONE = "-"  # Lynis's word for an empty field


def finding_id(test: str, kind: str, message: str, details: str) -> str:
    """The test id and a digest of what was found: one test (FILE-6310, say) reports several
    findings, and a digest keeps each one's Id whatever order they come in."""
    digest = hashlib.sha256(f"{kind}|{message}|{details}".encode()).hexdigest()[:8]
    return f"{test}:{digest}"


def _fields(value: str) -> tuple[str, str, str, str]:
    """(test, message, details, solution); a message may itself hold `|`."""
    parts = value.split("|")
    if parts and parts[-1] == "":
        parts.pop()
    test, rest = parts[0].strip(), parts[1:]
    if len(rest) > 3:
        rest = ["|".join(rest[:-2]), *rest[-2:]]
    rest += [NONE] * (3 - len(rest))
    return test, rest[0].strip(), rest[1].strip(), rest[2].strip()


def parse(source: Source) -> list[Report]:
    where = source.shown
    raw = source.read_all()
    if b"\x00" in raw:
        raise ReportError(f"{where}: is binary, not a lynis-report.dat")
    values: dict[str, str] = {}
    findings: list[tuple[str, str]] = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if not sep or line.startswith("#"):
            continue
        if key in KINDS:
            findings.append((key, value))
        else:
            values.setdefault(key, value)
    if "lynis_version" not in values or "report_version_major" not in values:
        raise ReportError(
            f"{where}: not a lynis-report.dat (it has no lynis_version and report_version "
            "lines); Lynis writes it with `lynis audit system --report-file FILE`"
        )
    end = values.get("report_datetime_end")
    if not end:
        raise ReportError(
            f"{where}: has no report_datetime_end: the audit did not finish, or the file is "
            "cut short"
        )
    report = Report(
        source=where,
        compliance_type=DEFAULT_TYPE,
        resource_id=values.get("hostname") or None,
        resource_from="the report's hostname",
        execution_type=f"Lynis {values['lynis_version']}",
    )
    # Lynis writes the audited machine's local time, without a zone.
    report.execution_time, _ = parse_time(
        end, where=f"{where}: report_datetime_end", naive_is_local=True
    )
    index = values.get("hardening_index", "")
    for key, value in findings:
        kind, severity = KINDS[key]
        test, message, details, solution = _fields(value)
        if not test:
            raise ReportError(f"{where}: a {kind} line has no test id: {line_shown(value)}")
        extra = {
            "Test": test,
            "Kind": kind,
            "Details": details,
            "Solution": solution,
            "HardeningIndex": index,
        }
        report.findings.append(
            Finding(
                id=finding_id(test, kind, message, details),
                status=Status.NON_COMPLIANT,
                severity=severity,
                title=message if message != NONE else None,
                details={k: v for k, v in extra.items() if v and v != NONE},
            )
        )
    return [report]


def line_shown(value: str) -> str:
    return repr(value[:80])
