"""Small tables drawn as Markdown, so a page's first render in a fresh browser waits for no table script.

``st.table`` and ``st.dataframe`` make the browser fetch Arrow's decoder (about 900 KB of JavaScript,
bench/scale/dashboard_first_render.py ``--chunks``) the first time a page uses one; a Markdown table
comes with the page's text renderer, which every page loads anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ui.markdown_text import literal


def markdown_table(columns: Mapping[str, Sequence[object]]) -> str:
    """A Markdown table of ``columns`` (header to values, all the same length); cells taken literally.

    Args:
        columns: Each column's header and its values, top to bottom.

    Returns:
        The table's Markdown, a header row first.
    """
    headers = list(columns)
    rows = zip(*(columns[h] for h in headers), strict=True)
    lines = ["| " + " | ".join(literal(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(literal("" if v is None else str(v)) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def field_lines(rows: Sequence[tuple[str, str]]) -> str:
    """``(field, value)`` rows as bold labels and their values, a line each (long values wrap)."""
    return "  \n".join(f"**{literal(field)}**: {literal(value)}" for field, value in rows)
