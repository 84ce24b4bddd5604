"""What a scanner report says, once read: findings with their status and severity, the node it
names, when it ran, and what was skipped and why.

Owns the values every format module produces and the time formats the scanners write. Must not
know the API's limits, its member names or how anything is sent: that is `requests`' job.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from complyd.model import Severity, Status


class ReportError(Exception):
    """A report that cannot be read or mapped, with a message for the operator (one line)."""


@dataclass
class Finding:
    """One future compliance item, before the model's limits are applied."""

    id: str
    status: Status
    severity: Severity
    title: str | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class Report:
    """The findings of one scan of one node for one compliance type.

    `resource_id` is the node the report names (None when it names none) and `resource_from`
    says where in the report it was found, for messages. `skipped` counts results that become
    no item, per reason; `notes` are remarks for the summary (a time assumed, a name changed).
    """

    source: str
    compliance_type: str
    findings: list[Finding] = field(default_factory=list)
    resource_id: str | None = None
    resource_from: str = ""
    execution_time: datetime | None = None
    execution_type: str | None = None
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def text(value: object) -> str | None:
    """A report's string value, stripped; None for anything empty or not a string."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


# Ruby's Time#to_s, which InSpec 1-4 wrote: `2018-01-05 11:43:04 -0500`.
_RUBY_TIME = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) ([+-]\d\d)(\d\d)")


def parse_time(value: str, *, where: str, naive_is_local: bool = False) -> tuple[datetime, bool]:
    """An aware datetime from the ISO 8601 (or Ruby) time a scanner wrote, and whether the
    text carried no zone (then UTC is assumed, or the local zone with `naive_is_local`)."""
    raw = value.strip()
    ruby = _RUBY_TIME.fullmatch(raw)
    if ruby:
        raw = f"{ruby[1]}T{ruby[2]}{ruby[3]}:{ruby[4]}"
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ReportError(f"{where} is not a date and time: {value[:80]!r}") from None
    if parsed.tzinfo is not None:
        return parsed, False
    if naive_is_local:
        return parsed.astimezone(), True
    return parsed.replace(tzinfo=UTC), True


def latest(times: list[datetime]) -> datetime | None:
    return max(times) if times else None


def banded(value: float, bands: Sequence[tuple[float, Severity]], top: Severity) -> Severity:
    """The severity of the first band whose (exclusive) upper bound is above `value`."""
    return next((severity for upper, severity in bands if value < upper), top)
