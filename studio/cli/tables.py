"""CLI tables that fit the terminal without ever cutting an id.

Ids (batch and take ids) are what a user copies into the next command, so they are shown whole;
short fixed values (states, seeds, counts, costs) too. What gives way when the terminal is
narrow is prose (project names, prompts, review notes): it is cut with ``…``. When even that
leaves no room, each row becomes two lines: its id, then everything else as indented, wrapped text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

Kind = Literal["id", "fixed", "prose"]
# Two cells between columns (one of padding, one of the box's blank divider), none at the edges.
GAP = 2
# A prose column narrower than this says too little to be worth a column of its own.
PROSE_MIN = 12
# How far a stacked row's details sit under its id.
INDENT = 4


@dataclass(frozen=True)
class Column:
    """One column: its header, what it holds and how its values line up.

    Attributes:
        header: The heading.
        kind: ``id`` (never cut), ``fixed`` (short values, never cut) or ``prose`` (cut with ``…``).
        justify: ``left`` or ``right`` (numbers and money).
    """

    header: str
    kind: Kind = "fixed"
    justify: Literal["left", "right"] = "left"


def excerpt(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with ``…`` when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _widest(header: str, values: Sequence[str]) -> int:
    return max([cell_len(header), *(cell_len(v) for v in values)])


def _share(budget: int, wants: list[int]) -> list[int] | None:
    """Widths for prose columns wanting ``wants`` within ``budget`` cells, or ``None`` if it is too
    little. Every column gets up to :data:`PROSE_MIN` first, then the rest goes to whoever wants more."""
    widths = [min(want, PROSE_MIN) for want in wants]
    if sum(widths) > budget:
        return None
    spare = budget - sum(widths)
    while spare > 0:
        hungry = [i for i, want in enumerate(wants) if widths[i] < want]
        if not hungry:
            break
        each = max(1, spare // len(hungry))
        for i in hungry:
            grant = min(each, wants[i] - widths[i], spare)
            widths[i] += grant
            spare -= grant
    return widths


def _table(title: str | None) -> Table:
    return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)


def fitted_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    width: int,
    title: str | None = None,
    compact: Callable[[Sequence[str]], str] | None = None,
) -> Table | Group:
    """A table of plain-text ``rows`` at most ``width`` cells wide, ids and fixed values whole.

    Args:
        columns: The columns, in order (ids first reads best: a narrow terminal never shifts them).
        rows: One string per column for each row (shown as plain text, never as markup).
        width: The terminal's width.
        title: A title above the table.
        compact: How a row's values other than its id read as text when the columns do not fit
            (the row is then its id on a line, and this text under it); by default they are
            joined with `` · ``.
    """
    widths = [_widest(c.header, [r[i] for r in rows]) for i, c in enumerate(columns)]
    prose = [i for i, c in enumerate(columns) if c.kind == "prose"]
    whole = sum(w for i, w in enumerate(widths) if i not in prose)
    budget = width - whole - GAP * (len(columns) - 1)
    shares = _share(budget, [widths[i] for i in prose]) if prose else ([] if budget >= 0 else None)
    if shares is not None:
        table = _table(title)
        allotted = dict(zip(prose, shares, strict=True))
        for i, column in enumerate(columns):
            if i in allotted:
                table.add_column(
                    column.header,
                    no_wrap=True,
                    overflow="ellipsis",
                    justify=column.justify,
                    min_width=allotted[i],
                    max_width=allotted[i],
                )
            else:
                # min_width: rich would otherwise shrink every column evenly as a last resort.
                table.add_column(
                    column.header, no_wrap=True, overflow="fold", justify=column.justify, min_width=widths[i]
                )
        for row in rows:
            table.add_row(*(Text(value) for value in row))
        return table
    return _stacked(columns, rows, title=title, compact=compact)


def _stacked(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None,
    compact: Callable[[Sequence[str]], str] | None,
) -> Group:
    ids = [i for i, c in enumerate(columns) if c.kind == "id"]
    others = [i for i in range(len(columns)) if i not in ids]
    lines: list[RenderableType] = [Text(title, style="italic", justify="center")] if title else []
    for row in rows:
        # The id alone on its line: whole whenever it fits the terminal, folded (never cut) if not.
        lines.append(Text("  ".join(row[i] for i in ids), overflow="fold"))
        details = compact(row) if compact else " · ".join(row[i] for i in others if row[i])
        lines.append(Padding(Text(details, overflow="fold"), (0, 0, 0, INDENT)))
    return Group(*lines)
