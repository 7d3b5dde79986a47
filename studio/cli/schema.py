"""`studio schema [-o FILE]`: print (or write) the JSON Schema of project.toml for TOML editors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.errors import StudioError
from studio.project.json_schema import SCHEMA_FILE, schema_text
from studio.storage.local import write_atomic


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the schema subcommand."""
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of project.toml (for TOML editors: taplo, Even Better TOML)",
        description="Print the JSON Schema (draft-07) of project.toml, generated from the same field "
        "table `studio run --check` uses. Point a `#:schema` line at a copy of it and a TOML editor "
        "completes keys, shows help and flags mistakes while you type.",
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", type=Path, help=f"write it to FILE (such as {SCHEMA_FILE}) instead"
    )
    p.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the schema, or write it to ``--output``."""
    text = schema_text()
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        write_atomic(args.output, text.encode("utf-8"))
    except OSError as exc:
        raise StudioError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {args.output}")
    return 0
