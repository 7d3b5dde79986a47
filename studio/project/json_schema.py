"""The JSON Schema of ``project.toml``, generated from the field table so TOML editors can help.

Taplo (and the Even Better TOML extension for VS Code, built on it) reads a JSON Schema named by a
``#:schema ./project.schema.json`` line at the top of a TOML file: it then completes keys, shows each
field's description on hover and underlines mistakes while typing. Every table, key, type, bound,
choice, default and description below comes from :mod:`studio.project.fields`, the same table the
checker reads, so the schema cannot disagree with ``studio run --check``.

The schema is draft-07: Taplo documents draft 4 features as supported and validates with a library
that recognises drafts 4, 6 and 7 (draft 2020-12 schemas were not recognised), and draft-07 says
"greater than 0" directly (``exclusiveMinimum: 0``). Only what a schema can say is here; the
checker still has the last word on the rest (unique shot ids, a provider listed under two names,
deadlines over a year, sizes that are not multiples of 8, files that exist), and its one-line
message is what `studio run` prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from studio.project.fields import TABLES, Field, Kind, Table
from studio.project.schema import ASPECT_SIZES, DURATION_RE, SIZE_RE

__all__ = ["DRAFT", "SCHEMA_FILE", "project_json_schema", "schema_text"]

DRAFT = "http://json-schema.org/draft-07/schema#"
SCHEMA_FILE = "project.schema.json"
"""Name of the generated copy kept next to the sample projects for editors."""

# What a one-line field may not hold: C0 and C1 controls, and the Unicode line and paragraph
# separators (see studio.project.schema._refused). Written as regex escapes, which ECMAScript,
# Python and Rust (Taplo) all read the same way.
_CONTROLS = r"\u0000-\u001f\u007f-\u009f"
_ONE_LINE_REFUSED = _CONTROLS + r"\u2028\u2029"
# Prose also takes tabs and line breaks (\t \n \r).
_PROSE_REFUSED = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"


def _text_pattern(refused: str, nonempty: bool) -> str:
    """A pattern for text without ``refused`` characters, and with one non-space one if ``nonempty``."""
    if nonempty:
        return rf"^[^{refused}]*[^\s{refused}][^{refused}]*$"
    return rf"^[^{refused}]*$"


def _padded(pattern: str) -> str:
    """The checker strips spaces around durations and sizes before matching the whole value."""
    return rf"^\s*{pattern}\s*$"


def _text(field: Field) -> dict[str, Any]:
    refused = _PROSE_REFUSED if field.kind is Kind.PROSE else _ONE_LINE_REFUSED
    schema: dict[str, Any] = {"type": "string", "maxLength": field.max_len}
    if field.nonempty:
        schema["minLength"] = 1
    schema["pattern"] = _text_pattern(refused, field.nonempty)
    return schema


def _integer(field: Field) -> dict[str, Any]:
    return {"type": "integer", "minimum": field.minimum, "maximum": field.maximum}


def _number(field: Field) -> dict[str, Any]:
    return {"type": "number", "exclusiveMinimum": 0, "maximum": field.maximum}


def _choice(field: Field) -> dict[str, Any]:
    return {"type": "string", "enum": list(field.choices)}


def _aspect(field: Field) -> dict[str, Any]:
    # Taplo shows these next to each value when completing or hovering over one.
    sizes = [f"Renders at {w}x{h}." for w, h in (ASPECT_SIZES[name] for name in field.choices)]
    return {**_choice(field), "x-taplo": {"docs": {"enumValues": sizes}}}


def _providers(field: Field) -> dict[str, Any]:
    return {
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"type": "string", "enum": list(field.choices)},
    }


_KINDS: dict[Kind, Callable[[Field], dict[str, Any]]] = {
    Kind.TEXT: _text,
    Kind.PROSE: _text,
    Kind.PATH: _text,
    Kind.SHOT_ID: lambda field: {"type": "string", "pattern": f"^{field.pattern}$"},
    Kind.INTEGER: _integer,
    Kind.NUMBER: _number,
    Kind.BOOLEAN: lambda field: {"type": "boolean"},
    Kind.CHOICE: _choice,
    Kind.ASPECT: _aspect,
    Kind.PROVIDERS: _providers,
    Kind.DURATION: lambda field: {"type": "string", "pattern": _padded(DURATION_RE.pattern)},
    Kind.SIZE: lambda field: {"type": "string", "pattern": _padded(SIZE_RE.pattern)},
}


def _field(field: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"description": field.description, **_KINDS[field.kind](field)}
    if field.default is not None:
        schema["default"] = field.default
    return schema


def _table(table: Table) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "description": table.description,
        "additionalProperties": False,
        "properties": {field.name: _field(field) for field in table.fields}
        | {sub.name: _table(sub) for sub in table.tables},
    }
    required = [field.name for field in table.fields if field.required]
    if required:
        schema["required"] = required
    apart = [{"not": {"required": [f.name, f.excludes]}} for f in table.fields if f.excludes is not None]
    if apart:
        schema["allOf"] = apart
    if not table.array:
        return schema
    array: dict[str, Any] = {"type": "array", "description": table.description, "items": schema}
    if table.required:
        array["minItems"] = 1
    if table.max_items is not None:
        array["maxItems"] = table.max_items
    return array


def project_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft-07) of a project file, built from :data:`studio.project.fields.TABLES`."""
    return {
        "$schema": DRAFT,
        "title": "studio project.toml",
        "description": "A storyboard for the studio: [project], optional [defaults], [approval], "
        "[publish], [budget] and [providers], and one [[shots]] block per shot. Written by `studio schema`.",
        "type": "object",
        "additionalProperties": False,
        "required": [table.name for table in TABLES if table.required],
        "properties": {table.name: _table(table) for table in TABLES},
    }


def schema_text() -> str:
    """The schema as the JSON text `studio schema` prints and ``sample_projects/project.schema.json`` holds."""
    return json.dumps(project_json_schema(), indent=2, ensure_ascii=False) + "\n"
