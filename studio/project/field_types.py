"""The vocabulary of the project format's field table: what a key is (:class:`Field`), how it is
written (:class:`Kind`) and the tables that hold keys (:class:`Table`).

Kept apart from :mod:`studio.project.fields`, which builds the tables of ``project.toml`` from these
and exports them too (``from studio.project.fields import Field`` is how the studio names them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from studio.project.schema import TEXT_MAX

__all__ = ["Field", "Kind", "Table"]


class Kind(StrEnum):
    """How a field is written in TOML and checked."""

    TEXT = "text"
    """One line of text."""
    PROSE = "prose"
    """Text that may hold tabs and line breaks (prompts, styles)."""
    INTEGER = "integer"
    """A whole number between ``minimum`` and ``maximum``."""
    NUMBER = "number"
    """A number greater than 0 and at most ``maximum``."""
    BOOLEAN = "boolean"
    CHOICE = "choice"
    """One of ``choices``."""
    PROVIDERS = "providers"
    """A provider chain: distinct names from ``choices``."""
    DURATION = "duration"
    """``"90s"``, ``"30m"``, ``"48h"``, ``"7d"``."""
    ASPECT = "aspect"
    """A named aspect ratio, one of ``choices``."""
    SIZE = "size"
    """``"WIDTHxHEIGHT"``."""
    PATH = "path"
    """A file or folder path, checked further by :mod:`studio.project.paths`."""
    SHOT_ID = "shot_id"
    """A shot id matching ``pattern``."""


@dataclass(frozen=True)
class Field:
    """One key of a table.

    Attributes:
        name: The key.
        kind: How it is written and checked.
        description: Help for a person writing the file (shown by editors on hover).
        required: Whether the key must be set.
        nonempty: For text: refuse blank values.
        max_len: For text: the most characters accepted.
        minimum: For integers: the smallest value accepted.
        maximum: For numbers: the largest value accepted.
        choices: For choices, aspects and provider chains: the names accepted.
        pattern: For shot ids: the regular expression the whole value must match.
        excludes: A key of the same table that may not be set together with this one.
        default: What an absent key means, when that is a plain value.
    """

    name: str
    kind: Kind
    description: str
    required: bool = False
    nonempty: bool = False
    max_len: int = TEXT_MAX
    minimum: int | None = None
    maximum: int | float | None = None
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    excludes: str | None = None
    default: Any = None


@dataclass(frozen=True)
class Table:
    """One table of the file (``[name]``), or an array of tables (``[[name]]``) when ``array``.

    Attributes:
        name: The top-level key.
        description: Help for a person writing the file.
        fields: Its keys, in the order the documentation lists them.
        required: Whether the file must have it.
        array: Whether it is written ``[[name]]``, once per item.
        max_items: For an array: the most items accepted.
        tables: Its sub-tables (``[name.sub]``), each with keys of its own.
    """

    name: str
    description: str
    fields: tuple[Field, ...]
    required: bool = False
    array: bool = False
    max_items: int | None = None
    tables: tuple[Table, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys this table accepts: its fields, then its sub-tables."""
        return tuple(field.name for field in self.fields) + tuple(table.name for table in self.tables)

    def __getitem__(self, name: str) -> Field:
        return next(field for field in self.fields if field.name == name)
