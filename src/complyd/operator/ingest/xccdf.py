"""XCCDF results and ARF reports (`oscap xccdf eval --results FILE` / `--results-arf FILE`).

Owns the XCCDF mapping: one finding per selected rule-result, its status from the result value,
its severity from the rule's, its title from the benchmark's Rule. The document is streamed and
every element no longer needed is dropped at once, so an ARF report carrying its whole data
stream and OVAL results is read in flat memory. Must not know the API's limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from complyd.model import Severity, Status
from complyd.operator.ingest import hardened_xml
from complyd.operator.ingest.report import Finding, Report, ReportError, parse_time, text
from complyd.operator.ingest.source import Source

DEFAULT_TYPE = "Custom:OpenSCAP"
XCCDF_NAMESPACES = ("http://checklists.nist.gov/xccdf/1.2", "http://checklists.nist.gov/xccdf/1.1")
ROOTS = ("Benchmark", "TestResult", "asset-report-collection")
STATUSES = {
    "pass": Status.COMPLIANT,
    "fixed": Status.COMPLIANT,
    "fail": Status.NON_COMPLIANT,
    "error": Status.NON_COMPLIANT,
    # XCCDF: "the testing tool encountered some problem and the result is unknown"; like
    # `error`, the selected rule could not be shown to hold.
    "unknown": Status.NON_COMPLIANT,
}
SKIPPED = ("notapplicable", "notchecked", "notselected", "informational")
SEVERITIES = {
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "info": Severity.INFORMATIONAL,
    "unknown": Severity.UNSPECIFIED,
}
# Details keys for the identifier systems benchmarks use; others keep the system's last word.
IDENT_LABELS = (("cce", "CCE"), ("cve", "CVE"), ("cci", "CCI"), ("legacy", "STIG-Legacy"))
# Elements whose children are read when they end; everything else is cleared as it ends.
KEPT_WHOLE = ("Rule", "rule-result")


@dataclass
class _Rule:
    title: str | None
    severity: str | None
    idents: list[tuple[str, str]]


@dataclass
class _RuleResult:
    idref: str
    result: str
    severity: str | None
    idents: list[tuple[str, str]]
    message: str | None


@dataclass
class _TestResult:
    id: str
    start_time: str | None
    end_time: str | None
    test_system: str | None
    benchmark: str | None = None
    profile: str | None = None
    target: str | None = None
    facts: dict[str, str] = field(default_factory=dict)
    results: list[_RuleResult] = field(default_factory=list)


def _children(element: Element, name: str) -> list[Element]:
    return [c for c in element if hardened_xml.local_name(c.tag) == name]


def _idents(element: Element) -> list[tuple[str, str]]:
    found = []
    for ident in _children(element, "ident"):
        value = text(ident.text)
        if value:
            found.append((ident.get("system", ""), value))
    return found


def _is_xccdf(element: Element) -> bool:
    return hardened_xml.namespace(element.tag) in XCCDF_NAMESPACES


class _Reader:
    """Collects the benchmark's rules and the TestResults while the document streams by."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.root = ""
        self.benchmark: str | None = None
        self.rules: dict[str, _Rule] = {}
        self.tests: list[_TestResult] = []
        self.current: _TestResult | None = None
        self.open: list[str] = []

    def read(self) -> None:
        for event, element in hardened_xml.events(self.source):
            name = hardened_xml.local_name(element.tag)
            if event == "start":
                self._start(name, element)
            else:
                self.open.pop()
                self._end(name, element)

    def _start(self, name: str, element: Element) -> None:
        if not self.root:
            self.root = name
            arf = name == "asset-report-collection"
            if name not in ROOTS or not (arf or _is_xccdf(element)):
                raise ReportError(
                    f"{self.source.shown}: not XCCDF results or an ARF report (its root element "
                    f"is <{name}>); write them with `oscap xccdf eval --results FILE` or "
                    "--results-arf FILE"
                )
        self.open.append(name)
        if not _is_xccdf(element):
            return
        if name == "Benchmark" and self.benchmark is None:
            self.benchmark = element.get("id")
        elif name == "TestResult":
            self.current = _TestResult(
                id=element.get("id", ""),
                start_time=element.get("start-time"),
                end_time=element.get("end-time"),
                test_system=element.get("test-system"),
            )

    def _end(self, name: str, element: Element) -> None:
        parent = self.open[-1] if self.open else ""
        test = self.current
        if _is_xccdf(element):
            if name == "Rule" and element.get("id"):
                titles = _children(element, "title")
                self.rules[element.get("id", "")] = _Rule(
                    title=hardened_xml.element_text(titles[0]) if titles else None,
                    severity=element.get("severity"),
                    idents=_idents(element),
                )
            elif test is not None and parent == "TestResult":
                self._test_result_child(test, name, element)
            elif test is not None and name == "fact" and parent == "target-facts":
                test.facts[element.get("name", "")] = element.text or ""
            elif name == "TestResult" and test is not None:
                self.tests.append(test)
                self.current = None
        if name in KEPT_WHOLE or not any(n in KEPT_WHOLE for n in self.open):
            element.clear()

    def _test_result_child(self, test: _TestResult, name: str, element: Element) -> None:
        if name == "rule-result":
            results = _children(element, "result")
            messages = _children(element, "message")
            test.results.append(
                _RuleResult(
                    idref=element.get("idref", ""),
                    result=(results[0].text or "").strip() if results else "",
                    severity=element.get("severity"),
                    idents=_idents(element),
                    message=hardened_xml.element_text(messages[0]) if messages else None,
                )
            )
        elif name == "benchmark":
            test.benchmark = element.get("id") or element.get("href")
        elif name == "profile":
            test.profile = element.get("idref")
        elif name == "target" and test.target is None:
            test.target = text(element.text)


def _ident_label(system: str) -> str:
    lowered = system.lower()
    for needle, label in IDENT_LABELS:
        if needle in lowered:
            return label
    word = next((w for w in reversed(system.replace("#", "/").split("/")) if w), "")
    return word or "Ident"


def _scanner(test: _TestResult) -> str | None:
    name = test.facts.get("urn:xccdf:fact:scanner:name")
    version = test.facts.get("urn:xccdf:fact:scanner:version")
    if name:
        return f"{name} {version}" if version else name
    return test.test_system


def parse(source: Source) -> list[Report]:
    reader = _Reader(source)
    reader.read()
    where = source.shown
    if not reader.tests:
        raise ReportError(
            f"{where}: holds no TestResult: it is a benchmark, not the results of a scan; "
            "evaluate it with `oscap xccdf eval --results FILE`"
        )
    if len(reader.tests) > 1:
        ids = ", ".join(t.id for t in reader.tests)
        raise ReportError(
            f"{where}: holds {len(reader.tests)} TestResults ({ids}); ingest one evaluation "
            "per file, so that one does not replace the other"
        )
    test = reader.tests[0]
    report = Report(
        source=where,
        compliance_type=DEFAULT_TYPE,
        resource_id=test.target,
        resource_from="the TestResult's <target>",
        execution_type=_scanner(test),
    )
    when = test.end_time or test.start_time
    if when:
        report.execution_time, naive = parse_time(when, where=f"{where}: TestResult end-time")
        if naive:
            report.notes.append("the TestResult's time has no zone; UTC assumed")
    benchmark = test.benchmark or reader.benchmark
    by_id: dict[str, Finding] = {}
    for rr in test.results:
        if rr.result in SKIPPED:
            report.skipped[rr.result] += 1
            continue
        status = STATUSES.get(rr.result)
        if status is None or not rr.idref:
            raise ReportError(
                f"{where}: rule-result {rr.idref or '(no idref)'} has result {rr.result!r}, "
                "which is not an XCCDF result value"
            )
        rule = reader.rules.get(rr.idref)
        raw_severity = (rr.severity or (rule.severity if rule else None) or "unknown").lower()
        severity = SEVERITIES.get(raw_severity)
        if severity is None:
            raise ReportError(
                f"{where}: rule-result {rr.idref} has severity {raw_severity!r}, which is not an "
                "XCCDF severity (unknown, info, low, medium, high)"
            )
        found = by_id.get(rr.idref)
        if found is not None:
            # A multi-check rule reports once per check: the rule holds only if all held.
            if status is Status.NON_COMPLIANT:
                found.status = status
            found.details["Result"] += ", " + rr.result
            continue
        details: dict[str, str] = {}
        if benchmark:
            details["Benchmark"] = benchmark
        if test.profile:
            details["Profile"] = test.profile
        details["Result"] = rr.result
        idents = list(dict.fromkeys([*(rule.idents if rule else []), *rr.idents]))
        for system, value in idents:
            label = _ident_label(system)
            details[label] = f"{details[label]}, {value}" if label in details else value
        if rr.message:
            details["Message"] = rr.message
        by_id[rr.idref] = Finding(
            id=rr.idref,
            status=status,
            severity=severity,
            title=rule.title if rule else None,
            details=details,
        )
    report.findings = list(by_id.values())
    return [report]
