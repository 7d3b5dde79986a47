"""`studio verify FILE [--json]`: what a file's content credentials (C2PA) say, and whether they hold."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from studio.credentials.describe import facts, headline
from studio.credentials.errors import CredentialsError
from studio.credentials.verify import verify_file
from studio.errors import StudioError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the verify subcommand."""
    p = sub.add_parser(
        "verify",
        help="check a published image's content credentials (C2PA): signer, recipe, sources, changes",
        description="Read the C2PA content credentials of a PNG, JPEG or WebP file offline and say whether "
        "they are valid, who signed them, the studio recipe they carry, the images it was made from "
        "(a provider's own credentials included) and whether the file was changed after signing. "
        "Exit code 0 when they are valid, 1 when the file has none or they do not hold.",
    )
    p.add_argument("file", type=Path, help="the image file")
    p.add_argument("--json", action="store_true", help="every fact as JSON")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    """Print the verification of ``args.file``."""
    path: Path = args.file
    try:
        found = verify_file(path)
    except FileNotFoundError:
        raise StudioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise StudioError(f"{path}: is a folder, not an image file") from None
    except CredentialsError as err:
        raise StudioError(f"{path}: {err}") from None
    if args.json:
        print(json.dumps({"file": str(path), **found.to_json()}, indent=2, ensure_ascii=False))
    else:
        print(f"{path}: {headline(found)}")
        lines = facts(found)
        width = max((len(label) for label, _ in lines), default=0)
        for label, text in lines:
            print(f"  {label:<{width}}  {text}")
    return 0 if found.intact else 1
