"""Reading one report: a file or standard input, never more than a set number of bytes.

Owns the size limit (a huge file is refused as it is read, not after it filled memory), the
count of bytes read for the progress line, and the fallback time of a report that carries none.
Must not interpret the bytes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from complyd.operator.ingest.report import ReportError

STDIN = "-"
CHUNK = 1024 * 1024


def shown_size(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


@dataclass
class Source:
    """A report to read: `name` is the path as given (`-` for standard input)."""

    name: str
    max_bytes: int
    on_read: Callable[[int], None] = field(default=lambda n: None)
    read_bytes: int = 0
    _stream: BinaryIO | None = None

    @property
    def shown(self) -> str:
        return "<stdin>" if self.name == STDIN else self.name

    def size(self) -> int | None:
        """The file's size when known up front (not for standard input)."""
        if self.name == STDIN:
            return None
        try:
            return Path(self.name).stat().st_size
        except OSError:
            return None

    def modified(self) -> datetime:
        """When the report was written, as far as the file system knows; now for stdin."""
        if self.name != STDIN:
            try:
                return datetime.fromtimestamp(Path(self.name).stat().st_mtime, UTC)
            except OSError:
                pass
        return datetime.now(UTC)

    def __enter__(self) -> Source:
        try:
            self._stream = sys.stdin.buffer if self.name == STDIN else open(self.name, "rb")
        except OSError as exc:
            raise ReportError(f"{self.shown}: cannot read it: {exc.strerror}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stream is not None and self.name != STDIN:
            self._stream.close()
        self._stream = None

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left for -1); refuses to go past `max_bytes`."""
        assert self._stream is not None, "use the source as a context manager"
        # One byte past the limit is enough to know the report is too large.
        left = self.max_bytes + 1 - self.read_bytes
        try:
            chunk = self._stream.read(left if size < 0 else min(size, left))
        except OSError as exc:
            raise ReportError(f"{self.shown}: cannot read it: {exc.strerror}") from None
        self.read_bytes += len(chunk)
        if self.read_bytes > self.max_bytes:
            raise ReportError(
                f"{self.shown}: larger than {shown_size(self.max_bytes)}, the most ingest reads "
                "(--max-size); a report this large is more likely the wrong file"
            )
        self.on_read(len(chunk))
        return chunk

    def read_all(self) -> bytes:
        parts = []
        while chunk := self.read(CHUNK):
            parts.append(chunk)
        return b"".join(parts)
