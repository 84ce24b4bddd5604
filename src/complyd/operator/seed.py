"""`complyd serve --seed FILE`: known data loaded before the server answers its first request.

Owns applying a seed file (the `complyd import` format: JSON lines of PutComplianceItems
bodies) to the server's own service and refusing a file with any rejected line, so a test
stack never comes up with part of its data. The lines go through the importer, so they get
exactly the API's checks.
"""

from __future__ import annotations

from pathlib import Path

from complyd.model import Tenant
from complyd.operator.importer import import_lines, numbered_lines
from complyd.service import ComplianceService


class SeedError(Exception):
    """A seed file that cannot be read or has rejected lines; the message says which."""


def seed(service: ComplianceService, path: Path, tenant: Tenant) -> int:
    """Apply every line of `path` as a put for `tenant`; the number of puts applied."""
    try:
        with open(path, "rb") as f:
            report = import_lines(service, tenant, numbered_lines(f))
    except OSError as exc:
        raise SeedError(f"cannot read seed file {path}: {exc.strerror}") from None
    if report.rejected:
        first = report.rejected[0]
        more = len(report.rejected) - 1
        also = f" (and {more} more rejected line{'s' if more > 1 else ''})" if more else ""
        raise SeedError(f"seed file {path}, line {first.line}: {first.code}: {first.message}{also}")
    return report.accepted
