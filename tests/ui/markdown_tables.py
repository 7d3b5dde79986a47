"""Read back what ui/markdown_table.py draws, so AppTest tests can check a table's cells."""

from __future__ import annotations

import re

_CELL = re.compile(r"(?<!\\)\|")  # a cell border: a pipe the table did not escape
_ESCAPED = re.compile(r"\\(.)")


def _unescape(cell: str) -> str:
    return _ESCAPED.sub(r"\1", cell.strip())


def table_columns(markdown: str) -> dict[str, list[str]]:
    """A Markdown table's columns, header to cell texts (escapes undone); ``{}`` for non-tables."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    if len(lines) < 2 or not set(lines[1]) <= set("|-: "):
        return {}
    rows = [[_unescape(cell) for cell in _CELL.split(line)[1:-1]] for line in lines]
    headers, body = rows[0], rows[2:]
    return {h: [row[i] for row in body] for i, h in enumerate(headers)}


def tables(at) -> list[dict[str, list[str]]]:
    """Every Markdown table an AppTest run drew, top to bottom."""
    found = [table_columns(m.value) for m in at.markdown]
    return [t for t in found if t]


def field_values(markdown: str) -> dict[str, str]:
    """``**Field**: value`` lines (ui/markdown_table.field_lines) as a dict; ``{}`` for other text."""
    found = {}
    for line in markdown.split("  \n"):
        match = re.fullmatch(r"\*\*(.+?)\*\*: (.*)", line.strip(), re.DOTALL)
        if match is None:
            return {}
        found[_unescape(match[1])] = _unescape(match[2])
    return found
