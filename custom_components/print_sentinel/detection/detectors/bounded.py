"""Reading a detector service's answer safely: a bounded body, strict JSON.

Every answer is hostile until checked: a body is read up to a limit (never in
full when it is larger), and JSON is parsed without NaN or Infinity and without
letting a deeply nested document raise RecursionError. Nothing here imports Home
Assistant.
"""

from __future__ import annotations

import json
import math
import re
from typing import Final, NoReturn

import aiohttp

MAX_ANSWER_BYTES: Final = 1024 * 1024
"""No detector answer is near 1 MiB (a verdict is a few hundred bytes)."""
MAX_JSON_DEPTH: Final = 64
"""Deeper JSON is refused before parsing (answers nest 4 levels at most)."""
MAX_INT_DIGITS: Final = 300
"""Longer integers are refused: they would overflow a float (math.isfinite raises)."""


class AnswerTooLarge(Exception):
    """The body is larger than the limit (nothing beyond it was read)."""


class NotJSON(ValueError):
    """The body is not strict JSON (or nests too deeply)."""


def _reject_constant(name: str) -> NoReturn:
    raise NotJSON(f"{name} is not a JSON number")


_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET: Final = re.compile(rb"[\[\]{}]")


def _too_deep(raw: bytes, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than `limit`."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # the common case, at C speed
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b"", raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def loads(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """Parse strict JSON; raise NotJSON for anything else.

    NaN, Infinity and -Infinity are refused, as is an object with a key given
    twice and nesting deeper than `max_depth`; numbers too large for a float (1e999) and integers of more than
    MAX_INT_DIGITS digits are refused too.
    """
    data = raw.encode() if isinstance(raw, str) else raw
    if _too_deep(data, max_depth):
        raise NotJSON(f"JSON nested deeper than {max_depth}")
    try:
        value = json.loads(
            data,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except (ValueError, RecursionError, UnicodeDecodeError) as err:
        raise NotJSON(str(err)) from None
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """An object, unless it names a key twice.

    Such an object says two things (a score of 5 and of 95): it is no answer, not
    the last of them.
    """
    data = dict(pairs)
    if len(data) != len(pairs):
        raise NotJSON("an object with a key given twice")
    return data


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise NotJSON(f"an integer of {len(text)} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJSON(f"{text[:20]} is not a finite number")
    return value


def loads_or_none(raw: bytes | str) -> object:
    """Parse strict JSON; None when the body is not."""
    try:
        return loads(raw)
    except NotJSON:
        return None


async def read_body(
    resp: aiohttp.ClientResponse, limit: int = MAX_ANSWER_BYTES
) -> bytes:
    """Read at most `limit` bytes of an answer; raise AnswerTooLarge beyond it."""
    if resp.content_length is not None and resp.content_length > limit:
        raise AnswerTooLarge(f"the answer announces {resp.content_length} bytes")
    body = await resp.content.read(limit + 1)
    while len(body) <= limit and not resp.content.at_eof():
        chunk = await resp.content.read(limit + 1 - len(body))
        if not chunk:
            break
        body += chunk
    if len(body) > limit:
        raise AnswerTooLarge(f"the answer is larger than {limit} bytes")
    return body


def finite_number(value: object) -> float | None:
    """A JSON number as a finite float; None for anything else (booleans too)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
