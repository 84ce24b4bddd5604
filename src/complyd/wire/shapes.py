"""Generic validation of decoded JSON against botocore shapes, with AWS's messages.

Owns the type check (a wrong JSON type is a SerializationException) and every model
constraint (required, length, value range, enum, pattern), reported the way AWS reports them:
`N validation error(s) detected: Value 'v' at 'path' failed to satisfy constraint: ...`.
Must not know about any one operation; constraints come only from the model.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import botocore.model

from complyd.errors import SerializationException, ValidationException
from complyd.model import MAX_TIME_MS, MIN_TIME_MS

NO_NUL = "Member must not contain the NUL character (\\u0000)"
_MAX_SHOWN = 1024  # longer values are shortened in messages, so one bad field can't bloat them


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # The model's patterns are Java regexes, whose \w, \d and \s are ASCII-only.
    return re.compile(pattern, re.ASCII)


def member_path(parent: str, member: str) -> str:
    name = member[:1].lower() + member[1:]
    return f"{parent}.{name}" if parent else name


def render_value(value: Any) -> str:
    """A value as AWS quotes it in validation messages (Java's toString style)."""
    if value is None:
        return "null"
    return "'" + _text(value) + "'"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_text(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if len(text) > _MAX_SHOWN:
        text = text[:_MAX_SHOWN] + "..."
    return text


def violation(value: Any, path: str, constraint: str) -> str:
    return f"Value {render_value(value)} at '{path}' failed to satisfy constraint: {constraint}"


def raise_violations(violations: list[str]) -> None:
    if not violations:
        return
    n = len(violations)
    noun = "error" if n == 1 else "errors"
    raise ValidationException(f"{n} validation {noun} detected: " + "; ".join(violations))


def validate(shape: botocore.model.Shape, value: Any) -> None:
    """Check `value` (decoded JSON) against `shape`; raise the first wire error found.

    A compiled predicate answers the common case (a valid request) quickly; only a request it
    rejects is walked again to collect AWS's messages.
    """
    if _predicate(shape)(value):
        return
    violations: list[str] = []
    _check(shape, value, "", violations)
    raise_violations(violations)


Predicate = Callable[[Any], bool]
_PREDICATES: dict[str, Predicate] = {}


def _predicate(shape: botocore.model.Shape) -> Predicate:
    found = _PREDICATES.get(shape.name)
    if found is None:
        found = _PREDICATES[shape.name] = _compile(shape)
    return found


def _string_predicate(
    enum: frozenset[str] | None, pattern: re.Pattern[str] | None, lo: int | None, hi: int | None
) -> Predicate:
    """The cheapest check for a string shape's own constraints (most strings have only one)."""
    if enum is not None and pattern is None and lo is None and hi is None:
        # Enum values hold no NUL, so membership alone is the whole check.
        return lambda v: type(v) is str and v in enum
    if enum is None and pattern is None and lo is None:
        if hi is None:
            return lambda v: type(v) is str and "\x00" not in v
        return lambda v: type(v) is str and len(v) <= hi and "\x00" not in v

    def string(v: Any) -> bool:
        if type(v) is not str or "\x00" in v:
            return False
        if (lo is not None and len(v) < lo) or (hi is not None and len(v) > hi):
            return False
        if enum is not None and v not in enum:
            return False
        return pattern is None or pattern.fullmatch(v) is not None

    return string


def _compile(shape: botocore.model.Shape) -> Predicate:
    """A predicate true exactly when `_check` would find nothing wrong with a value."""
    kind, meta = shape.type_name, shape.metadata
    lo, hi = meta.get("min"), meta.get("max")
    if kind == "structure":
        assert isinstance(shape, botocore.model.StructureShape)
        members = [(name, _predicate(m)) for name, m in shape.members.items()]
        required = frozenset(shape.required_members)

        def structure(v: Any) -> bool:
            if type(v) is not dict:
                return False
            for name, ok in members:
                x = v.get(name)
                if x is None:
                    if name in required:
                        return False
                elif not ok(x):
                    return False
            return True

        return structure
    if kind == "list":
        assert isinstance(shape, botocore.model.ListShape)
        element = _predicate(shape.member)

        def list_(v: Any) -> bool:
            if type(v) is not list or (lo is not None and len(v) < lo):
                return False
            if hi is not None and len(v) > hi:
                return False
            return all(x is not None and element(x) for x in v)

        return list_
    if kind == "map":
        assert isinstance(shape, botocore.model.MapShape)
        key, value = _predicate(shape.key), _predicate(shape.value)

        def map_(v: Any) -> bool:
            if type(v) is not dict or (lo is not None and len(v) < lo):
                return False
            if hi is not None and len(v) > hi:
                return False
            return all(key(k) and value(x) for k, x in v.items())

        return map_
    if kind == "string":
        return _string_predicate(
            frozenset(shape.enum) if shape.enum else None,
            _compiled(meta["pattern"]) if "pattern" in meta else None,
            lo,
            hi,
        )
    if kind in ("integer", "long"):

        def integer(v: Any) -> bool:
            if type(v) is not int:
                return False
            return (lo is None or v >= lo) and (hi is None or v <= hi)

        return integer
    if kind == "timestamp":

        def timestamp(v: Any) -> bool:
            return type(v) in (int, float) and MIN_TIME_MS <= v * 1000 <= MAX_TIME_MS

        return timestamp
    if kind == "boolean":
        return lambda v: type(v) is bool
    return lambda v: False  # anything else takes the slow, explaining path


_JSON_TYPE: dict[str, tuple[type | tuple[type, ...], str]] = {
    "structure": (dict, "an object"),
    "map": (dict, "an object"),
    "list": (list, "an array"),
    "string": (str, "a string"),
    "integer": (int, "an integer"),
    "long": (int, "an integer"),
    "boolean": (bool, "a boolean"),
    "timestamp": ((int, float), "a number of epoch seconds"),
    "double": ((int, float), "a number"),
    "float": ((int, float), "a number"),
}


def _type_error(shape: botocore.model.Shape, value: Any, path: str) -> SerializationException:
    where = f"'{path}'" if path else "the request body"
    return SerializationException(
        f"Expected {_JSON_TYPE[shape.type_name][1]} at {where}, got {_json_kind(value)}"
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _check(shape: botocore.model.Shape, raw: Any, path: str, out: list[str]) -> None:
    expected = _JSON_TYPE[shape.type_name][0]
    # bool is an int in Python but a different JSON type.
    wrong_bool = isinstance(raw, bool) and shape.type_name != "boolean"
    if wrong_bool or not isinstance(raw, expected):
        raise _type_error(shape, raw, path)
    value: Any = raw
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, botocore.model.StructureShape)
        for name, member in shape.members.items():
            sub = member_path(path, name)
            if value.get(name) is None:
                if name in shape.required_members:
                    out.append(violation(None, sub, "Member must not be null"))
                continue
            _check(member, value[name], sub, out)
    elif kind == "list":
        assert isinstance(shape, botocore.model.ListShape)
        _length(value, len(value), meta, path, out)
        for i, element in enumerate(value, start=1):
            if element is None:
                out.append(violation(None, f"{path}.{i}.member", "Member must not be null"))
                continue
            _check(shape.member, element, f"{path}.{i}.member", out)
    elif kind == "map":
        assert isinstance(shape, botocore.model.MapShape)
        _length(value, len(value), meta, path, out)
        for k, v in value.items():
            if not isinstance(v, str) and shape.value.type_name == "string":
                raise _type_error(shape.value, v, f"{path}.{k}")
            key_errors: list[str] = []
            _scalar(shape.key, k, path, key_errors)
            if key_errors:
                out.append(_map_violation(value, path, "keys", key_errors))
            value_errors: list[str] = []
            _scalar(shape.value, v, path, value_errors)
            if value_errors:
                out.append(_map_violation(value, path, "value", value_errors))
    elif kind == "timestamp":
        if not MIN_TIME_MS <= value * 1000 <= MAX_TIME_MS:
            raise SerializationException(
                f"Timestamp {value} at '{path}' is out of range: send epoch seconds between "
                "year 1 and year 9999."
            )
    else:
        _scalar(shape, value, path, out)


def _map_violation(value: Any, path: str, part: str, errors: list[str]) -> str:
    reasons = ", ".join(e.split("failed to satisfy constraint: ", 1)[1] for e in errors)
    noun = "Map keys" if part == "keys" else "Map value"
    return violation(value, path, f"{noun} must satisfy constraint: [{reasons}]")


def _scalar(shape: botocore.model.Shape, value: Any, path: str, out: list[str]) -> None:
    meta = shape.metadata
    if shape.type_name == "string":
        if "\x00" in value:
            # No store can keep NUL in text (PostgreSQL refuses it), so no store accepts it.
            out.append(violation(value.replace("\x00", "\\u0000"), path, NO_NUL))
        _length(value, len(value), meta, path, out)
        enum = shape.enum
        if enum and value not in enum:
            out.append(
                violation(
                    value, path, "Member must satisfy enum value set: [" + ", ".join(enum) + "]"
                )
            )
        pattern = meta.get("pattern")
        if pattern and not _compiled(pattern).fullmatch(value):
            out.append(
                violation(value, path, f"Member must satisfy regular expression pattern: {pattern}")
            )
    elif shape.type_name in ("integer", "long"):
        if "min" in meta and value < meta["min"]:
            out.append(
                violation(
                    value, path, f"Member must have value greater than or equal to {meta['min']}"
                )
            )
        if "max" in meta and value > meta["max"]:
            out.append(
                violation(
                    value, path, f"Member must have value less than or equal to {meta['max']}"
                )
            )


def _length(value: Any, length: int, meta: dict[str, Any], path: str, out: list[str]) -> None:
    if "min" in meta and length < meta["min"]:
        out.append(
            violation(
                value, path, f"Member must have length greater than or equal to {meta['min']}"
            )
        )
    if "max" in meta and length > meta["max"]:
        out.append(
            violation(value, path, f"Member must have length less than or equal to {meta['max']}")
        )
