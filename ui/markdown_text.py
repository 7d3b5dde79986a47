"""Text a visitor typed, shown inside Markdown: taken literally, never as links, emphasis or maths."""

from __future__ import annotations

_SPECIAL = "\\[]()*_`$:#<>!~|"


def literal(text: str, *, lines: bool = False) -> str:
    """``text`` with every Markdown special character escaped: on one line, or keeping its ``lines``."""
    for char in _SPECIAL:
        text = text.replace(char, "\\" + char)
    if lines:
        return "  \n".join(" ".join(line.split()) for line in text.splitlines())
    return " ".join(text.split())
