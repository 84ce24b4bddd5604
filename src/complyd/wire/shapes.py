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
# Deeper than this, a generated check calls the nested shape's own check instead of inlining it
# (no compliance shape nests this deep; a recursive shape would otherwise never end).
_INLINE_DEPTH = 8


def _predicate(shape: botocore.model.Shape) -> Predicate:
    found = _PREDICATES.get(shape.name)
    if found is None:
        found = _PREDICATES[shape.name] = _generate(shape)
    return found


class _Source:
    """The Python source of one shape's check, written as one function with every nested
    member's check inlined: a 10,000-item put is checked with no call per item or field."""

    def __init__(self) -> None:
        self.lines = ["def check(v0):"]
        self.env: dict[str, Any] = {}
        self._names = 0

    def const(self, value: Any) -> str:
        name = f"c{len(self.env)}"
        self.env[name] = value
        return name

    def var(self) -> str:
        self._names += 1
        return f"v{self._names}"

    def fail_if(self, pad: str, conditions: list[str]) -> None:
        self.lines.append(f"{pad}if {' or '.join(conditions)}: return False")

    def emit(self, shape: botocore.model.Shape, v: str, indent: int, depth: int) -> None:
        """Lines that `return False` unless `v` satisfies `shape` (at least one line)."""
        pad = "    " * indent
        kind, meta = shape.type_name, shape.metadata
        lo, hi = meta.get("min"), meta.get("max")
        sized = [f"len({v}) < {lo}"] if lo else []
        sized += [f"len({v}) > {hi}"] if hi is not None else []
        if depth > _INLINE_DEPTH:
            nested = self.const(lambda value: _predicate(shape)(value))
            self.fail_if(pad, [f"not {nested}({v})"])
        elif kind == "structure":
            assert isinstance(shape, botocore.model.StructureShape)
            self.fail_if(pad, [f"type({v}) is not dict"])
            required = set(shape.required_members)
            for name, member in shape.members.items():
                x = self.var()
                self.lines.append(f"{pad}{x} = {v}.get({name!r})")
                if name in required:
                    self.fail_if(pad, [f"{x} is None"])
                    self.emit(member, x, indent, depth + 1)
                else:
                    self.lines.append(f"{pad}if {x} is not None:")
                    self.emit(member, x, indent + 1, depth + 1)
        elif kind == "list":
            assert isinstance(shape, botocore.model.ListShape)
            self.fail_if(pad, [f"type({v}) is not list", *sized])
            x = self.var()
            self.lines.append(f"{pad}for {x} in {v}:")
            self.fail_if(pad + "    ", [f"{x} is None"])
            self.emit(shape.member, x, indent + 1, depth + 1)
        elif kind == "map":
            assert isinstance(shape, botocore.model.MapShape)
            self.fail_if(pad, [f"type({v}) is not dict", *sized])
            k, x = self.var(), self.var()
            self.lines.append(f"{pad}for {k}, {x} in {v}.items():")
            self.emit(shape.key, k, indent + 1, depth + 1)
            self.emit(shape.value, x, indent + 1, depth + 1)
        elif kind == "string":
            conditions = [f"type({v}) is not str"]
            enum = self.const(frozenset(shape.enum)) if shape.enum else None
            if enum is not None and "pattern" not in meta and not sized:
                conditions.append(f"{v} not in {enum}")  # enum values hold no NUL
            else:
                conditions += [f"'\\x00' in {v}", *sized]
                if enum is not None:
                    conditions.append(f"{v} not in {enum}")
                if "pattern" in meta:
                    pattern = self.const(_compiled(meta["pattern"]))
                    conditions.append(f"{pattern}.fullmatch({v}) is None")
            self.fail_if(pad, conditions)
        elif kind in ("integer", "long"):
            conditions = [f"type({v}) is not int"]
            conditions += [f"{v} < {lo}"] if lo is not None else []
            conditions += [f"{v} > {hi}"] if hi is not None else []
            self.fail_if(pad, conditions)
        elif kind == "timestamp":
            self.fail_if(pad, [f"(type({v}) is not int and type({v}) is not float)"])
            self.fail_if(pad, [f"not ({MIN_TIME_MS} <= {v} * 1000 <= {MAX_TIME_MS})"])
        elif kind == "boolean":
            self.fail_if(pad, [f"type({v}) is not bool"])
        else:
            self.lines.append(f"{pad}return False")  # the slow, explaining path says why


def _generate(shape: botocore.model.Shape) -> Predicate:
    """A predicate true exactly when `_check` would find nothing wrong with a value."""
    source = _Source()
    source.emit(shape, "v0", 1, 0)
    source.lines.append("    return True")
    code = compile("\n".join(source.lines), f"<check {shape.name}>", "exec")
    exec(code, source.env)  # noqa: S102 - source written above from the model, not from input
    check: Predicate = source.env["check"]
    return check


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
