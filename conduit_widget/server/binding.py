"""Reading a request body the way ASP.NET Core binds it to a Conduit DTO (System.Text.Json, web defaults).

What a real Conduit takes and refuses, and nothing kinder:

- member names match case-insensitively, and the last of two spellings wins;
- an ``int`` takes an integer literal or a string holding one (``AllowReadingFromString``), never ``4.0``, ``4e0``,
  ``true`` or a number outside Int32; a ``string`` takes only a JSON string; ``null`` only where the member is
  nullable (``int?``, ``string?``, and reference types, whose nulls MVC's implicit [Required] refuses afterwards);
- C#'s ``required`` keyword makes an absent member an error; unknown members are kept (``[JsonExtensionData]``);
- ``NaN``, ``Infinity``, comments and trailing commas are not JSON; nesting deeper than the serializer's MaxDepth
  (32 for MVC, 64 for the Gateway) is refused.

A failure is a `BindingError` carrying ModelState entries as MVC reports them (key -> messages, with the JSON path
and position System.Text.Json gives); the Gateway words every failure the same way, so it only needs the fact.
"""

from __future__ import annotations

import json
import math
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # public, but not in the stubs
from typing import Any, Final

from conduit_widget.server.profiles import Member, RequestSchema

_WHITESPACE: Final = " \t\n\r"
_INTEGER_TEXT: Final = re.compile(r"^[+-]?\d+$")
_INT32: Final = (-(2**31), 2**31 - 1)
_CLR_NAMES: Final = {
    ("string", True): "System.String",
    ("string", False): "System.String",
    ("int", True): "System.Nullable`1[System.Int32]",
    ("int", False): "System.Int32",
    ("bool", True): "System.Nullable`1[System.Boolean]",
    ("bool", False): "System.Boolean",
    ("headers", True): "System.Collections.Generic.Dictionary`2[System.String,System.String]",
    ("headers", False): "System.Collections.Generic.Dictionary`2[System.String,System.String]",
}
PARAMETER_REQUIRED: Final = ("request", "The request field is required.")


class BindingError(Exception):
    """The body did not bind; `errors` are ModelState entries, `parameter_required` whether MVC adds the action
    parameter's own "The request field is required." (it does when the body produced no object at all)."""

    def __init__(self, errors: dict[str, list[str]], *, parameter_required: bool = True) -> None:
        super().__init__(next(iter(errors.values()))[0])
        self.errors = dict(errors)
        if parameter_required:
            self.errors[PARAMETER_REQUIRED[0]] = [PARAMETER_REQUIRED[1]]


def bind(raw: bytes, schema: RequestSchema, *, max_depth: int, not_blank: bool) -> dict[str, Any]:
    """The body's members by their JSON names (unknown ones kept as sent); raises BindingError.

    `not_blank`: apply MVC's implicit [Required] to non-nullable reference members (the Gateway has none)."""
    if not raw.strip():
        raise BindingError({"": ["A non-empty request body is required."]})
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BindingError({"$": [_positioned("The input is not valid UTF-8.", "$", raw[: exc.start])]}) from None
    _check_depth(text, max_depth)
    members = _top_level_members(text, schema)
    by_name = {m.name.lower(): m for m in schema.members}
    bound: dict[str, Any] = {}
    for key, value, end in members:
        member = by_name.get(key.lower())
        if member is None:
            bound[key] = value  # [JsonExtensionData]: captured, never refused
            continue
        bad_path = _type_problem(member, value, f"$.{key}")
        if bad_path is not None:
            # A header's value is a String: the dictionary itself binds, its bad value does not.
            clr = "System.String" if bad_path.count(".") > 1 else _CLR_NAMES[(member.clr, member.nullable)]
            message = f"The JSON value could not be converted to {clr}."
            raise BindingError({bad_path: [_positioned(message, bad_path, text[:end])]})
        bound[member.name] = _converted(member, value)
    missing = [m.name for m in schema.members if m.required and m.name not in bound]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise BindingError(
            {
                "$": [
                    f"JSON deserialization for type '{schema.clr_name}' was missing required properties including: {names}."
                ]
            }
        )
    if not_blank:
        # Required members are all present by now; an optional one left out keeps its (non-blank) C# default.
        blank = {
            _pascal(m.name): [f"The {_pascal(m.name)} field is required."]
            for m in schema.members
            if m.not_blank and m.name in bound and _is_blank(bound[m.name])
        }
        if blank:
            raise BindingError(blank, parameter_required=False)
    return bound


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _pascal(name: str) -> str:
    """The C# property name behind a JSON name: ``response_format`` -> ``ResponseFormat``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _type_problem(member: Member, value: Any, path: str) -> str | None:
    """The JSON path at which `value` fails to bind to `member`, or None if it binds."""
    if value is None:
        # A reference type takes null (nullable annotations are not enforced); a value type needs `?`.
        return None if member.nullable or member.clr in ("string", "headers") else path
    if member.clr == "string":
        return None if isinstance(value, str) else path
    if member.clr == "bool":
        return None if isinstance(value, bool) else path
    if member.clr == "int":
        return None if _as_int(value) is not None else path
    if not isinstance(value, dict):
        return path
    return next(
        (f"{path}.{key}" for key, item in value.items() if item is not None and not isinstance(item, str)), None
    )


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER_TEXT.match(value):
        number = int(value)
    else:
        return None
    return number if _INT32[0] <= number <= _INT32[1] else None


def _converted(member: Member, value: Any) -> Any:
    return _as_int(value) if member.clr == "int" and value is not None else value


def _positioned(message: str, path: str, before: str | bytes) -> str:
    """System.Text.Json's suffix: the path, then the 0-based line and the byte offset within it, after the token."""
    data = before.encode() if isinstance(before, str) else before
    line = data.count(b"\n")
    column = len(data) - (data.rfind(b"\n") + 1)
    return f"{message} Path: {path} | LineNumber: {line} | BytePositionInLine: {column}."


# -- reading the JSON -----------------------------------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    # NaN, Infinity and -Infinity are not JSON: Utf8JsonReader refuses them at their first character, whatever
    # the member (JsonNumberHandling.AllowNamedFloatingPointLiterals is off in the web defaults).
    raise ValueError(f"'{name[0]}' is an invalid start of a value.")


def _integer(text: str) -> int | float:
    # Past 19 digits no Int32 (nor Int64) holds it: it fails to convert as 1e400 does (the float is infinite), and
    # Python's own limit on converting long digit strings (ValueError past 4300 digits) never speaks for the server.
    return int(text) if len(text) <= 20 else math.copysign(math.inf, -1.0 if text.startswith("-") else 1.0)


# 1e400 parses as an infinite float: a valid JSON number that no Int32 member takes ("The JSON value could not be
# converted to System.Int32", as System.Text.Json's TryGetInt32 fails), kept as sent in extension data, which
# holds it as a JsonElement without converting it. The request DTOs have no floating-point member.
_DECODER: Final = json.JSONDecoder(parse_constant=_no_constants, parse_int=_integer)


def _invalid(text: str, at: int, reason: str, path: str = "$") -> BindingError:
    return BindingError({path: [_positioned(reason, path, text[:at])]})


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def _top_level_members(text: str, schema: RequestSchema) -> list[tuple[str, Any, int]]:
    """(name, value, end offset) of each member of the top-level object, in order."""
    at = _skip(text, 0)
    if text[at] != "{":
        try:
            _DECODER.raw_decode(text, at)
        except (ValueError, RecursionError):
            raise _invalid(text, at, f"'{text[at]}' is an invalid start of a value.") from None
        raise _invalid(text, at + 1, f"The JSON value could not be converted to {schema.clr_name}.")
    members: list[tuple[str, Any, int]] = []
    at = _skip(text, at + 1)
    if at < len(text) and text[at] == "}":
        return _end(text, at + 1, members)
    while True:
        if at >= len(text) or text[at] != '"':
            raise _invalid(text, at, "'{' is not followed by a property name.")
        try:
            key, at = scanstring(text, at + 1)
        except ValueError:
            raise _invalid(text, at, "A property name is not a valid JSON string.") from None
        at = _skip(text, at)
        if at >= len(text) or text[at] != ":":
            raise _invalid(text, at, "'\"' is invalid after a property name. Expected a ':'.", f"$.{key}")
        at = _skip(text, at + 1)
        try:
            value, end = _DECODER.raw_decode(text, at)
        except (ValueError, RecursionError) as exc:
            reason = str(exc).split(":")[0] if isinstance(exc, ValueError) else "The JSON is nested too deeply."
            raise _invalid(text, at, reason, f"$.{key}") from None
        # A container refused where a scalar belongs is refused at its first token, as the reader sees it.
        members.append((key, value, at + 1 if isinstance(value, dict | list) else end))
        at = _skip(text, end)
        if at < len(text) and text[at] == ",":
            at = _skip(text, at + 1)
            continue
        if at < len(text) and text[at] == "}":
            return _end(text, at + 1, members)
        raise _invalid(text, at, "Expected a ',' or '}' after a property value.")


def _end(text: str, at: int, members: list[tuple[str, Any, int]]) -> list[tuple[str, Any, int]]:
    rest = _skip(text, at)
    if rest != len(text):
        raise _invalid(text, rest, "'" + text[rest] + "' is invalid after a single JSON value. Expected end of data.")
    return members


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse nesting deeper than the serializer's MaxDepth before anything recursive reads it."""
    at = too_deep_at(text, max_depth)
    if at is not None:
        reason = f"The maximum configured depth of {max_depth} has been exceeded. Cannot read next JSON object."
        raise _invalid(text, at + 1, reason)


def too_deep_at(text: str, max_depth: int) -> int | None:
    """Where JSON `text` first opens a container deeper than `max_depth`, or None: a scan that never recurses, so
    that no nesting, however deep, reaches Python's recursion limit (a RecursionError, a 500, in the past)."""
    depth, in_string, escaped = 0, False, False
    for at, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            if depth > max_depth:
                return at
        elif char in "}]":
            depth -= 1
    return None
