"""Reading a field of ``project.toml`` as the field table (:mod:`studio.project.fields`) describes it.

Kept apart from the table itself, which the JSON Schema reads too: this is the checker's side,
each field's kind turned into a call of :class:`~studio.project.schema.Section`.
"""

from __future__ import annotations

import re
from typing import Any

from studio.project.display import show
from studio.project.fields import LOOK, Field, Kind
from studio.project.schema import Section

__all__ = ["read", "read_look"]


def read(section: Section, field: Field) -> Any:
    """Check and read one field of ``section`` as the table describes it; None when absent.

    Raises:
        Invalid: The first thing wrong with the value.
        ValueError: ``field`` is a path, which needs the project folder (see :mod:`studio.project.paths`).
    """
    name, kind = field.name, field.kind
    if field.excludes is not None and section.has(name) and section.has(field.excludes):
        section.fail(field.excludes, f"set either {name!r} or {field.excludes!r}, not both")
    if kind in (Kind.TEXT, Kind.PROSE):
        return section.text(
            name, required=field.required, nonempty=field.nonempty, max_len=field.max_len, prose=kind is Kind.PROSE
        )
    if kind is Kind.SHOT_ID:
        return _shot_id(section, field)
    if kind is Kind.INTEGER:
        return section.integer(name, field.minimum or 0, None if field.maximum is None else int(field.maximum))
    if kind is Kind.NUMBER:
        return section.positive_number(name, float(field.maximum or 0))
    if kind is Kind.CHOICE:
        return section.choice(name, field.choices)
    readers = {
        Kind.BOOLEAN: section.boolean,
        Kind.PROVIDERS: section.providers,
        Kind.DURATION: section.duration,
        Kind.ASPECT: section.aspect,
        Kind.SIZE: section.size,
    }
    if kind not in readers:
        raise ValueError(f"{name!r} is a {kind} field: read it with studio.project.paths")
    return readers[kind](name)


def _shot_id(section: Section, field: Field) -> str | None:
    value = section.text(field.name, required=field.required)
    if value is not None and re.fullmatch(field.pattern or "", value) is None:
        section.fail(field.name, f"must be 1 to 40 of A-Z a-z 0-9 _ - (got {show(value)})")
    return value


def read_look(section: Section) -> dict[str, Any]:
    """Read the image-shaping keys (:data:`LOOK`) that are set; absent keys are left out so overrides merge.

    ``aspect`` and ``size`` both land in ``"size"`` as ``(width, height)``; text is stripped.
    """
    look: dict[str, Any] = {}
    for field in LOOK:
        value = read(section, field)
        if value is None:
            continue
        if field.kind in (Kind.ASPECT, Kind.SIZE):
            look["size"] = value
        else:
            look[field.name] = value.strip() if isinstance(value, str) else value
    return look
