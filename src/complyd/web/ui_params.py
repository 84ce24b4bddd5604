"""What the dashboard reads from and writes into URLs: filters, keyset positions, page numbers
and links.

Owns turning query strings into service filters (with the AWS filter keys) and back into links.
Nothing here names a tenant: a URL carries only filters and a keyset position, which the views
apply inside the session's tenant. Must not read the store or the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from complyd.model import Filter, Operator, Severity, Status

# Longest query value read; AWS ids, types and item ids are far shorter.
MAX_PARAM = 2048
MAX_PAGE_NUMBER = 10**9
# "Not reported for N days" reaches back at most this far.
MAX_STALE_DAYS = 3650
DAY_S = 86_400
# The trend charts' periods.
TREND_DAYS = (7, 30, 90)
DEFAULT_TREND_DAYS = 30
STATUS_LABELS = {Status.COMPLIANT: "Compliant", Status.NON_COMPLIANT: "Non-compliant"}


def one_of(value: str, allowed: Iterable[str]) -> str:
    """`value` when it is one of `allowed`, else "" (any): a hand-edited URL never errors."""
    return value if value in allowed else ""


@dataclass(frozen=True, slots=True)
class Query:
    """The filters of a resources or node view, read from a query string."""

    compliance_type: str = ""
    status: str = ""
    severity: str = ""
    resource_id: str = ""
    # Rows whose last execution is at least this many days old; 0 means any.
    stale_days: int = 0

    @classmethod
    def read(cls, params: Mapping[str, str]) -> Query:
        stale = params.get("stale_days", "").strip()
        return cls(
            compliance_type=params.get("compliance_type", "").strip()[:MAX_PARAM],
            status=one_of(params.get("status", ""), (s.value for s in Status)),
            severity=one_of(params.get("severity", ""), (s.value for s in Severity)),
            resource_id=params.get("resource_id", "").strip()[:MAX_PARAM],
            stale_days=min(int(stale), MAX_STALE_DAYS) if stale.isdigit() else 0,
        )

    def params(self) -> dict[str, str]:
        return {
            "compliance_type": self.compliance_type,
            "status": self.status,
            "severity": self.severity,
            "resource_id": self.resource_id,
            "stale_days": str(self.stale_days) if self.stale_days else "",
        }

    def node_params(self) -> dict[str, str]:
        """The filters a node view reads: its resource id is in the path."""
        return {k: v for k, v in self.params().items() if k not in ("resource_id", "stale_days")}

    def summary_filters(self, now_s: float = 0.0) -> list[Filter]:
        """Filters for the (resource, type) rows; the severity is the row's overall one, and
        "not reported for N days" is a last execution before now minus N days."""
        filters = self._common()
        if self.severity:
            filters.append(Filter("OverallSeverity", (self.severity,)))
        if self.resource_id:
            filters.append(Filter("ResourceId", (self.resource_id,), Operator.BEGIN_WITH))
        if self.stale_days:
            cutoff = str(int(now_s) - self.stale_days * DAY_S)
            filters.append(Filter("ExecutionTime", (cutoff,), Operator.LESS_THAN))
        return filters

    def item_filters(self) -> list[Filter]:
        filters = self._common()
        if self.severity:
            filters.append(Filter("Severity", (self.severity,)))
        return filters

    def _common(self) -> list[Filter]:
        filters = []
        if self.compliance_type:
            filters.append(Filter("ComplianceType", (self.compliance_type,)))
        if self.status:
            filters.append(Filter("Status", (self.status,)))
        return filters

    def described(self) -> list[tuple[str, str]]:
        """The active filters as (what, value) words for the table's caption."""
        shown = [
            ("type", self.compliance_type),
            ("status", STATUS_LABELS[Status(self.status)] if self.status else ""),
            ("overall severity", self.severity.capitalize()),
            ("resource id starting with", self.resource_id),
            ("not reported for", f"{self.stale_days} days" if self.stale_days else ""),
        ]
        return [(what, value) for what, value in shown if value]

    @property
    def active(self) -> bool:
        return any(self.params().values())


SORTS = ("resource", "type")


@dataclass(frozen=True, slots=True)
class Sort:
    """The resources list's order: by resource id or by compliance type, either direction
    (the two orders the store's indexes serve)."""

    by: str = "resource"
    descending: bool = False

    @classmethod
    def read(cls, params: Mapping[str, str]) -> Sort:
        return cls(
            by=one_of(params.get("sort", ""), SORTS) or "resource",
            descending=params.get("order", "") == "desc",
        )

    def params(self) -> dict[str, str]:
        """Only what differs from the default, so plain links stay plain."""
        return {
            "sort": "" if self.by == "resource" else self.by,
            "order": "desc" if self.descending else "",
        }

    def toggled(self, by: str) -> dict[str, str]:
        """The link of a column heading: sort by it, or reverse it when it is the sort."""
        flip = self.by == by and not self.descending
        return Sort(by, flip).params()


def trend_days(params: Mapping[str, str]) -> int:
    raw = params.get("days", "")
    return int(raw) if raw.isdigit() and int(raw) in TREND_DAYS else DEFAULT_TREND_DAYS


def keyset(params: Mapping[str, str], *names: str) -> tuple[str, ...] | None:
    """A keyset position from the query string: all of `names` present, or none."""
    values = tuple(params.get(n, "")[:MAX_PARAM] for n in names)
    return values if all(values) else None


def page_number(params: Mapping[str, str]) -> int:
    """The page's ordinal, for display only: keyset pages are found by position, not number."""
    raw = params.get("page", "1")
    return min(int(raw), MAX_PAGE_NUMBER) if raw.isdigit() and int(raw) > 0 else 1


def query_string(query: Mapping[str, str]) -> str:
    kept = {k: v for k, v in query.items() if v}
    return "?" + urlencode(kept) if kept else ""


def linker(root: str) -> Callable[..., str]:
    """url('/resources', status='COMPLIANT') under the dashboard's mount point."""

    def url(path: str, **query: str) -> str:
        return root + path + query_string(query)

    return url


def node_linker(root: str) -> Callable[..., str]:
    """node_url(resource_id, **filters): a node view; ids may hold characters URLs reserve."""

    def node_url(resource_id: str, **query: str) -> str:
        return root + "/resources/" + quote(resource_id, safe="") + query_string(query)

    return node_url
