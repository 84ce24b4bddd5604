"""What `complyd ingest` should store for a report, derived again from the README's mapping
tables with the standard library only (the reports here are the real tools' own output).

It must never import complyd: it is the independent reading each test compares the server's
answers with.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

XCCDF = "{http://checklists.nist.gov/xccdf/1.2}"
XCCDF_STATUS = {
    "pass": "COMPLIANT",
    "fixed": "COMPLIANT",
    "fail": "NON_COMPLIANT",
    "error": "NON_COMPLIANT",
    "unknown": "NON_COMPLIANT",
}
XCCDF_SKIPPED = {"notapplicable", "notchecked", "notselected", "informational"}
XCCDF_SEVERITY = {
    "high": "HIGH",
    "medium": "MEDIUM",
    "low": "LOW",
    "info": "INFORMATIONAL",
    "unknown": "UNSPECIFIED",
}
IDENT_SYSTEMS = {"https://nvd.nist.gov/cce/index.cfm": "CCE", "http://cyber.mil/cci": "CCI"}


def item(status: str, severity: str, title: str | None, details: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"Status": status, "Severity": severity, "Details": details}
    if title is not None:
        out["Title"] = title
    return out


def stored(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The server's items, keyed by Id, in the oracle's shape."""
    return {
        i["Id"]: item(i["Status"], i["Severity"], i.get("Title"), i.get("Details", {}))
        for i in items
    }


def _folded(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    return " ".join("".join(element.itertext()).split())


def _when(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def xccdf(path: Path) -> tuple[str, float, dict[str, dict[str, Any]], dict[str, int]]:
    """(target, end time, items by Id, skipped per result) of an oscap --results file."""
    root = ET.parse(path).getroot()
    rules = {rule.get("id"): rule for rule in root.iter(XCCDF + "Rule")}
    [test] = list(root.iter(XCCDF + "TestResult"))
    benchmark = test.find(XCCDF + "benchmark")
    profile = test.find(XCCDF + "profile")
    expected: dict[str, dict[str, Any]] = {}
    skipped: dict[str, int] = {}
    for rr in test.iter(XCCDF + "rule-result"):
        result = rr.findtext(XCCDF + "result")
        assert result is not None
        if result in XCCDF_SKIPPED:
            skipped[result] = skipped.get(result, 0) + 1
            continue
        rule = rules[rr.get("idref")]
        details = {
            "Benchmark": benchmark.get("id") if benchmark is not None else "",
            "Profile": profile.get("idref") if profile is not None else "",
            "Result": result,
        }
        for ident in rule.findall(XCCDF + "ident"):
            label = IDENT_SYSTEMS[ident.get("system", "")]
            details[label] = ", ".join(filter(None, [details.get(label), ident.text]))
        message = _folded(rr.find(XCCDF + "message"))
        if message:
            details["Message"] = message
        severity = XCCDF_SEVERITY[rr.get("severity") or rule.get("severity") or "unknown"]
        title = _folded(rule.find(XCCDF + "title"))
        expected[str(rr.get("idref"))] = item(XCCDF_STATUS[result], severity, title, details)
    target = test.findtext(XCCDF + "target")
    assert target is not None
    return target, _when(test.get("end-time", "")), expected, skipped


# --- Lynis ----------------------------------------------------------------------------------

LYNIS_KINDS = {"warning[]": ("warning", "HIGH"), "suggestion[]": ("suggestion", "LOW")}


def lynis(path: Path) -> tuple[str, float, dict[str, dict[str, Any]]]:
    """(hostname, report_datetime_end as local time, items by Id) of a lynis-report.dat."""
    values: dict[str, str] = {}
    expected: dict[str, dict[str, Any]] = {}
    lines = path.read_text(errors="replace").splitlines()
    for line in lines:
        key, _, value = line.partition("=")
        values.setdefault(key, value)
    for line in lines:
        key, _, value = line.partition("=")
        if key not in LYNIS_KINDS:
            continue
        kind, severity = LYNIS_KINDS[key]
        test, message, extra, solution, _end = value.split("|")
        digest = hashlib.sha256(f"{kind}|{message}|{extra}".encode()).hexdigest()[:8]
        details = {"Test": test, "Kind": kind, "HardeningIndex": values["hardening_index"]}
        # Lynis writes `-` (or nothing) for an empty field.
        if extra not in ("-", ""):
            details["Details"] = extra
        if solution not in ("-", ""):
            details["Solution"] = solution
        expected[f"{test}:{digest}"] = item("NON_COMPLIANT", severity, message, details)
    end = datetime.strptime(values["report_datetime_end"], "%Y-%m-%d %H:%M:%S")
    return values["hostname"], end.astimezone().timestamp(), expected


# --- SARIF ----------------------------------------------------------------------------------

SARIF_LEVELS = {"error": "HIGH", "warning": "MEDIUM", "note": "LOW", "none": "INFORMATIONAL"}


def bandit_sarif(path: Path) -> tuple[str, float, dict[str, dict[str, Any]]]:
    """(type, end time, items by Id) of bandit's SARIF: one run, no suppressions, no
    security-severity, every result at its own line."""
    [run] = json.loads(path.read_text())["runs"]
    driver = run["tool"]["driver"]
    rules = driver["rules"]
    expected = {}
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        level = result.get("level", "warning")
        region = result["locations"][0]["physicalLocation"]["region"]
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        details = {
            "Tool": f"{driver['name']} {driver['version']}",
            "Rule": result["ruleId"],
            "RuleName": rule["name"],
            "Location": f"{uri}:{region['startLine']}:{region['startColumn']}",
            "Level": level,
            "HelpUri": rule["helpUri"],
        }
        title = result["message"]["text"].splitlines()[0].strip()
        expected[f"{result['ruleId']}:{uri}:{region['startLine']}"] = item(
            "NON_COMPLIANT", SARIF_LEVELS[level], title, details
        )
    [invocation] = run["invocations"]
    return "Custom:" + driver["name"], _when(invocation["endTimeUtc"]), expected


# --- InSpec ---------------------------------------------------------------------------------


def inspec_severity(impact: float) -> str:
    bands = [(0.01, "INFORMATIONAL"), (0.4, "LOW"), (0.7, "MEDIUM"), (0.9, "HIGH")]
    return next((name for upper, name in bands if impact < upper), "CRITICAL")


def ruby_time(when: datetime) -> str:
    """Time#to_s, as InSpec 1 to 4 wrote start_time: `2018-01-05 11:43:04 -0500`."""
    return when.strftime("%Y-%m-%d %H:%M:%S %z")


def at(hours: float, offset_hours: int = 0) -> datetime:
    zone = timezone(timedelta(hours=offset_hours))
    return datetime(2026, 3, 1, 8, 0, tzinfo=UTC).astimezone(zone) + timedelta(hours=hours)
