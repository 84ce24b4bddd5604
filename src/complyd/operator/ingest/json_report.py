"""Loading a JSON report (InSpec, SARIF) and walking it defensively.

Owns turning bytes into a JSON object with one-line errors (not JSON, truncated, nested too
deep) and the typed accessors the format modules use to read values of unknown shape. Must not
know any one format.
"""

from __future__ import annotations

from typing import Any

import orjson

from complyd.operator.ingest.report import ReportError
from complyd.operator.ingest.source import Source


def load(source: Source, what: str) -> dict[str, Any]:
    data = source.read_all()
    if not data.strip():
        raise ReportError(f"{source.shown}: is empty, not {what}")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
        hint = "; the file ends early (truncated?)" if exc.pos >= len(data.rstrip()) else ""
        raise ReportError(f"{source.shown}: not valid JSON: {reason}{hint}") from None
    if not isinstance(document, dict):
        raise ReportError(f"{source.shown}: is a JSON {type(document).__name__}, not {what}")
    return document


def objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON array (anything else in it, or a non-array, gives none)."""
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


def member(value: Any, *path: str) -> Any:
    """value[path[0]][path[1]]..., or None where any step is missing or not an object."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
