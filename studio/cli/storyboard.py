"""`studio storyboard BRIEF -o PROJECT_DIR`: draft a project file from a written brief."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path

from providers.base import JSONChat
from providers.brief_chat import GeminiJSONChat, MistralJSONChat
from studio.errors import StudioError
from studio.project.brief import (
    DEFAULT_SHOTS,
    MAX_SHOTS,
    MIN_SHOTS,
    NoChatKeys,
    chat_timeout,
    draft_storyboard,
    read_brief,
)
from studio.project.loader import PROJECT_FILE
from studio.settings import Settings, load_settings
from studio.storage.local import write_atomic


class OutputExists(StudioError):
    """The destination already holds a project file and ``--force`` was not given.

    Attributes:
        path: The existing file.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists: pass --force to replace it (nothing was written)")
        self.path = path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the storyboard subcommand."""
    p = sub.add_parser(
        "storyboard",
        help="draft a project file from a written brief (Mistral, else Gemini)",
        description="Ask Mistral (or Gemini when Mistral has no key or fails) to turn a brief into "
        "a storyboard, and write it as PROJECT_DIR/project.toml, validated like any project file.",
    )
    p.add_argument("brief", help="the brief: a markdown or text file")
    p.add_argument(
        "--shots",
        type=_shot_count,
        default=DEFAULT_SHOTS,
        help=f"number of shots, {MIN_SHOTS} to {MAX_SHOTS} (default {DEFAULT_SHOTS})",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PROJECT_DIR",
        help=f"folder to write {PROJECT_FILE} into (made if missing)",
    )
    p.add_argument("--force", action="store_true", help=f"replace an existing {PROJECT_FILE}")
    p.set_defaults(func=cmd_storyboard)


def _shot_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if not MIN_SHOTS <= count <= MAX_SHOTS:
        raise argparse.ArgumentTypeError(f"must be between {MIN_SHOTS} and {MAX_SHOTS} (got {count})")
    return count


def _chats(settings: Settings, timeout: float) -> list[JSONChat]:
    """The chat providers that have a key, Mistral first. Keys go straight into the adapters."""
    chats: list[JSONChat] = []
    mistral_key, gemini_key = settings.provider_key("mistral"), settings.provider_key("gemini")
    mistral = mistral_key.get_secret_value().strip() if mistral_key else ""
    gemini = gemini_key.get_secret_value().strip() if gemini_key else ""
    if mistral:
        base_url = settings.provider_base_url("mistral") or ""
        chats.append(MistralJSONChat(mistral, base_url=base_url, timeout=timeout))
    if gemini:
        base_url = settings.provider_base_url("gemini") or ""
        chats.append(GeminiJSONChat(gemini, base_url=base_url, timeout=timeout))
    return chats


def cmd_storyboard(args: argparse.Namespace) -> int:
    """Draft, validate and write the project file; print where it went and what to run next."""
    brief = read_brief(Path(args.brief), args.brief)
    folder = Path(args.output)
    target = folder / PROJECT_FILE
    if folder.exists() and not folder.is_dir():
        raise StudioError(f"{args.output}: not a folder (give the project folder to write {PROJECT_FILE} into)")
    # Refuse before asking anyone: a refused write must not cost a paid call.
    if target.exists() and not args.force:
        raise OutputExists(target)
    settings = load_settings()
    chats = _chats(settings, chat_timeout(args.shots, settings.vendor_timeout))
    if not chats:
        raise NoChatKeys()
    print(f"asking {chats[0].name} ({chats[0].model}) for {args.shots} shots...", file=sys.stderr)
    draft = asyncio.run(
        draft_storyboard(
            brief,
            shots=args.shots,
            chats=chats,
            brief_name=args.brief,
            project_file=target,
            on_note=lambda line: print(line, file=sys.stderr),
        )
    )
    if target.exists() and not args.force:  # created by someone else while the model was writing
        raise OutputExists(target)
    try:
        write_atomic(target, draft.text.encode("utf-8"))
    except OSError as exc:  # a read-only or full disk is the user's to fix: one line, no traceback
        raise StudioError(f"{target}: cannot write: {exc.strerror or exc} (nothing was written)") from None
    project = draft.project
    print(
        f"wrote {target}: {project.name!r}, {len(project.shots)} shots, {project.total_takes} takes "
        f"(drafted by {draft.provider}, {draft.model})"
    )
    print(f"next: studio run {shlex.quote(args.output)} --wait")
    return 0
