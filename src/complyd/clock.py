"""Time as complyd keeps it: epoch milliseconds, and their ISO 8601 text in UTC.

Owns the current time in milliseconds and the two ways times are written out: to the second
(`2019-02-18T16:00:00Z`, as AWS's events and the operator's tables show them) and to the
millisecond (`2019-02-18T16:00:00.123Z`, as exports and the dashboard keep them). Works for
every time complyd stores (years 1 to 9999). Must not import any other complyd module.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def moment(epoch_ms: int) -> datetime:
    """An epoch-millisecond time as an aware UTC datetime (before 1970 included)."""
    return _EPOCH + timedelta(milliseconds=epoch_ms)


def iso_seconds(epoch_ms: int) -> str:
    return moment(epoch_ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(epoch_ms: int) -> str:
    return moment(epoch_ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")
