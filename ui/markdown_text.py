"""Text a visitor typed, shown inside Markdown: taken literally, never as links, emphasis or maths."""

from __future__ import annotations

_SPECIAL = "\\[]()*_`$:#<>!~|"


def literal(text: str) -> str:
    """``text`` with every Markdown special character escaped, on one line."""
    for char in _SPECIAL:
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())
