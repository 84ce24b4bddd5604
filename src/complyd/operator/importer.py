"""Bulk import: JSON lines of PutComplianceItems request bodies, applied through the service.

Owns reading the file and reporting each line's outcome. Every line gets exactly the API's
checks (wire validation, then the service's rules) and is applied as one put. Puts are queued
a window at a time so the store can commit them in groups; two puts to the same
(resource, type) never overlap, so a file's order is the order of its puts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field

from complyd.errors import ComplianceError
from complyd.model import Tenant
from complyd.service import ComplianceService, PutOutcome
from complyd.wire import codec, json11

WINDOW = 256


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    code: str
    message: str


@dataclass
class ImportReport:
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)


Pending = tuple[int, Future[PutOutcome]]


def numbered_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, text) for each non-blank line, numbered from 1 as editors do."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


def import_lines(
    service: ComplianceService,
    tenant: Tenant,
    lines: Iterable[tuple[int, bytes]],
) -> ImportReport:
    report = ImportReport()
    pending: list[Pending] = []
    keys_pending: set[tuple[str, str]] = set()

    def drain() -> None:
        for number, future in pending:
            try:
                future.result()
                report.accepted += 1
            except ComplianceError as error:
                report.rejected.append(Rejection(number, error.code, error.message))
        pending.clear()
        keys_pending.clear()

    for number, line in lines:
        try:
            request = codec.decode_put(json11.parse_body(line))
            key = (request.resource_id, request.compliance_type)
            if key in keys_pending or len(pending) >= WINDOW:
                drain()
            pending.append((number, service.submit_put(tenant, request)))
            keys_pending.add(key)
        except ComplianceError as error:
            report.rejected.append(Rejection(number, error.code, error.message))
    drain()
    report.rejected.sort(key=lambda r: r.line)
    return report
