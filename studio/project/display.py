"""How user values appear inside a one-line project error: escaped, shortened, never raw.

Every value a project error shows (a path, a field name, a prompt, a number) goes through
:func:`show`. A project file, or a file name typed on the dashboard, can hold ANSI escape
sequences, NULs, line or paragraph separators, bidirectional overrides or thousands of
characters; printed raw they would recolour the terminal, cut the line or bury the message.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

SHOW_MAX = 60
"""Characters a value may take in a message: enough to recognise it, short enough for one line."""
PATH_SHOW_MAX = 160
"""Paths get more room: their end (the file name) is what tells a user which file it is."""
LINE_SHOW_MAX = 400
"""A whole reason, once its values are shown: the last guard on the length of a message."""

# Python refuses to print integers longer than this many digits (sys.get_int_max_str_digits), and
# a number this long is never what anyone meant: describe it instead of printing it.
_INT_DIGITS_SHOWN = 1000
_ELLIPSIS = "..."


def toml_type(value: Any) -> str:
    """Name a parsed TOML value's type the way the TOML spec does, with an article."""
    # bool before int: in Python ``True`` is an int, in TOML it is not.
    for kind, name in (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (list, "an array"),
        (dict, "a table"),
        (_dt.datetime, "a date-time"),
        (_dt.date, "a date"),
        (_dt.time, "a time"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _piece(char: str, quote: str) -> str:
    # repr's own escape for anything a terminal would act on or not show (isprintable is False
    # for C0/C1 controls, format characters such as bidi overrides, separators and surrogates).
    if char == quote or (quote and char == "\\"):
        return "\\" + char
    return char if char.isprintable() else repr(char)[1:-1]


def _shorten(pieces: list[str], limit: int) -> str:
    """Join escaped pieces, keeping both ends when the whole is longer than ``limit``."""
    if sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    # Two thirds from the start (what the value is), one third from the end (a file's name).
    budget_head = max(1, (limit - len(_ELLIPSIS)) * 2 // 3)
    budget_tail = max(0, limit - len(_ELLIPSIS) - budget_head)
    head: list[str] = []
    used = 0
    for piece in pieces:
        if used + len(piece) > budget_head:
            break
        head.append(piece)
        used += len(piece)
    tail: list[str] = []
    used = 0
    for piece in reversed(pieces[len(head) :]):
        if used + len(piece) > budget_tail:
            break
        tail.append(piece)
        used += len(piece)
    return "".join(head) + _ELLIPSIS + "".join(reversed(tail))


def _show_int(value: int, limit: int) -> str:
    if value.bit_length() > _INT_DIGITS_SHOWN * 3:  # ~ digits * log2(10) > 3 * digits
        digits = int(value.bit_length() * math.log10(2)) + 1
        return f"a number with about {digits} digits"
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[: max(1, limit - 20)]}{_ELLIPSIS} ({len(text.lstrip('-'))} digits)"


def show(value: Any, *, limit: int = SHOW_MAX, quote: bool = True) -> str:
    """Render a user value for a one-line message: escaped, shortened, spelled as in TOML.

    Args:
        value: Any parsed TOML value, or a path or name the user gave.
        limit: Most characters the rendering may take (a middle part is cut, marked ``...``).
        quote: Quote strings as Python's ``repr`` does (``'48h'``). Paths and whole messages
            are shown unquoted, with their backslashes kept as typed.

    Returns:
        Text without control, format or separator characters: each is shown as its escape
        (``\\x1b``, ``\\x00``, ``\\u2028``), so nothing reaches a terminal or a log that could
        act on it or break the line.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _show_int(value, limit)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, str):
        if not quote:
            return _shorten([_piece(char, "") for char in value], limit)
        mark = '"' if "'" in value and '"' not in value else "'"
        return mark + _shorten([_piece(char, mark) for char in value], max(1, limit - 2)) + mark
    try:
        text = repr(value)  # arrays, tables, floats
    except ValueError:  # an array holding an integer too long for Python to print
        text = toml_type(value)
    return _shorten([_piece(char, "") for char in text], limit)


def got(value: Any) -> str:
    """Describe a wrong value for an "expected X, got Y" message."""
    if isinstance(value, (dict, list)):
        return toml_type(value)
    return f"{toml_type(value)} ({show(value)})"
