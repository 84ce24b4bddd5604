"""Pure rules: filter parsing and matching, summary arithmetic."""

from __future__ import annotations

import pytest

from complyd.errors import InvalidFilter
from complyd.filters import ITEM_KEYS, SUMMARY_KEYS, matches, parse_filters, parse_time_ms
from complyd.model import (
    ExecutionSummary,
    Field,
    Filter,
    ItemEntry,
    Operator,
    ResourceSummary,
    Severity,
    SeverityCounts,
    Status,
)
from complyd.summaries import fleet_summaries, summarise_items


def test_time_values_parse_from_iso_and_epoch() -> None:
    assert parse_time_ms("2019-02-18T16:00:00Z") == 1550505600000
    assert parse_time_ms("2019-02-18T16:00:00+00:00") == 1550505600000
    assert parse_time_ms("1550505600") == 1550505600000
    assert parse_time_ms("1550505600.25") == 1550505600250
    with pytest.raises(InvalidFilter):
        parse_time_ms("last tuesday")


def test_unknown_keys_are_invalid_filters_per_operation() -> None:
    with pytest.raises(InvalidFilter, match="OverallSeverity"):
        parse_filters([Filter("OverallSeverity", ("HIGH",))], ITEM_KEYS)
    with pytest.raises(InvalidFilter):
        parse_filters([Filter("Title", ("x",))], SUMMARY_KEYS)
    with pytest.raises(InvalidFilter):
        parse_filters([Filter("Severity", ("SEVERE",), Operator.LESS_THAN)], ITEM_KEYS)


def test_matcher_semantics() -> None:
    [eq, ne, bw, lt_sev, gt_time, lt_str] = parse_filters(
        [
            Filter("Status", ("COMPLIANT", "X")),
            Filter("PatchGroup", ("a", "b"), Operator.NOT_EQUAL),
            Filter("Title", ("Win",), Operator.BEGIN_WITH),
            Filter("Severity", ("HIGH",), Operator.LESS_THAN),
            Filter("ExecutionTime", ("2019-02-18T16:00:00Z",), Operator.GREATER_THAN),
            Filter("Id", ("m",), Operator.LESS_THAN),
        ],
        ITEM_KEYS,
    )
    assert matches(eq, "COMPLIANT") and not matches(eq, "NON_COMPLIANT") and not matches(eq, None)
    assert matches(ne, "c") and matches(ne, None) and not matches(ne, "a")
    assert ne.field is Field.DETAIL and ne.detail == "PatchGroup"
    assert matches(bw, "Windows") and not matches(bw, "windows")
    assert (
        matches(lt_sev, "MEDIUM")
        and not matches(lt_sev, "HIGH")
        and not matches(lt_sev, "CRITICAL")
    )
    assert matches(gt_time, 1550505600001) and not matches(gt_time, 1550505600000)
    assert matches(lt_str, "a") and not matches(lt_str, "z")


def item(sev: Severity, status: Status, **details: str) -> ItemEntry:
    return ItemEntry(sev, status, details=details)


def test_item_summary_counts_and_overall_severity() -> None:
    s = summarise_items(
        [
            item(Severity.CRITICAL, Status.COMPLIANT),
            item(Severity.LOW, Status.NON_COMPLIANT, PatchGroup="web"),
            item(Severity.MEDIUM, Status.NON_COMPLIANT),
        ]
    )
    assert s.status is Status.NON_COMPLIANT
    # The highest among non-compliant items, even though a compliant one is CRITICAL.
    assert s.overall_severity is Severity.MEDIUM
    assert s.compliant.get(Severity.CRITICAL) == 1 and s.compliant.total == 1
    assert s.non_compliant.get(Severity.LOW) == 1 and s.non_compliant.total == 2
    assert s.patch_group == "web"
    ok = summarise_items(
        [item(Severity.LOW, Status.COMPLIANT), item(Severity.HIGH, Status.COMPLIANT)]
    )
    assert ok.status is Status.COMPLIANT and ok.overall_severity is Severity.HIGH
    assert summarise_items([]).overall_severity is Severity.UNSPECIFIED


def row(resource: str, ctype: str, status: Status, sev: Severity) -> ResourceSummary:
    empty = SeverityCounts()
    return ResourceSummary(
        resource,
        "ManagedInstance",
        ctype,
        status,
        sev,
        empty,
        empty,
        ExecutionSummary(0),
        None,
        None,
        0,
    )


def test_fleet_total_counts_each_resource_once() -> None:
    rows = [
        row("i-1", "Patch", Status.COMPLIANT, Severity.CRITICAL),
        row("i-1", "Custom:A", Status.NON_COMPLIANT, Severity.LOW),
        row("i-2", "Patch", Status.COMPLIANT, Severity.HIGH),
        row("i-2", "Association", Status.COMPLIANT, Severity.MEDIUM),
    ]
    fleet, assoc, custom, patch = fleet_summaries(rows)
    assert [
        fleet.compliance_type,
        assoc.compliance_type,
        custom.compliance_type,
        patch.compliance_type,
    ] == ["FleetTotal", "Association", "Custom:A", "Patch"]
    assert fleet.non_compliant.total == 1 and fleet.non_compliant.get(Severity.LOW) == 1
    assert fleet.compliant.total == 1 and fleet.compliant.get(Severity.HIGH) == 1
    assert patch.compliant.total == 2 and patch.compliant.get(Severity.CRITICAL) == 1


@pytest.mark.parametrize("value", ["1e400", "nan", "-inf", "1e17", "9999-12-31T23:59:60Z"])
def test_unreadable_or_out_of_range_times_are_invalid_filters(value: str) -> None:
    with pytest.raises(InvalidFilter):
        parse_time_ms(value)
