"""From a written brief to a project file: what we ask, how an answer is checked, who we ask next.

``studio storyboard`` asks a chat model for a storyboard as JSON in the shape below, turns it
into ``project.toml`` text (:mod:`studio.project.brief_toml`) and validates that text with
:func:`studio.project.loader.parse_project`, exactly as ``studio run`` would. The shape mirrors the
TOML tables one to one, so a validation message (``field 'defaults.aspect': unknown aspect ...``)
names the same field in the JSON and can be fed back to the model as is::

    {"project":  {"name": "The Lighthouse"},
     "defaults": {"style": "...", "negative": "...", "aspect": "16:9", "variants": 2},
     "shots":    [{"id": "s01-cliff", "prompt": "...", "negative": "...", "aspect": "...", "variants": 1}]}

Policy (plain functions, no vendor code): each provider gets :data:`TRIES_PER_PROVIDER` answers,
the second one told what was wrong with the first; a provider *failure* (rate limit, outage,
bad key, refusal) moves on to the next provider; two unusable answers end the run, since a
third model is unlikely to do better with the same brief and each call costs money.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from providers.base import ChatAnswer, ChatTurn, JSONChat, ProviderError
from studio.errors import StudioError
from studio.project.brief_toml import PROMPT_HINT_CHARS, BadAnswer, answer_to_toml
from studio.project.loader import ASPECT_SIZES, Project, ProjectError, parse_project

__all__ = [
    "DEFAULT_SHOTS",
    "MAX_BRIEF_CHARS",
    "MAX_SHOTS",
    "MIN_SHOTS",
    "TRIES_PER_PROVIDER",
    "BadAnswer",
    "BriefError",
    "Draft",
    "NoChatKeys",
    "NoUsableAnswer",
    "ProvidersFailed",
    "answer_to_toml",
    "chat_timeout",
    "check_answer",
    "correction_text",
    "draft_storyboard",
    "header_comment",
    "read_brief",
    "request_text",
    "system_prompt",
]

MIN_SHOTS, MAX_SHOTS, DEFAULT_SHOTS = 1, 200, 12
MAX_BRIEF_CHARS = 60_000
"""Longest brief sent (about 15k tokens): a brief, not a screenplay; bounds the cost of a call."""
TRIES_PER_PROVIDER = 2

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class BriefError(StudioError):
    """The brief file is missing, unreadable, empty or too long.

    Attributes:
        file: The brief as the user named it.
        reason: What is wrong.
    """

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


class NoChatKeys(StudioError):
    """Neither chat vendor has a key, so there is nobody to ask."""

    def __init__(self) -> None:
        super().__init__(
            "studio storyboard needs MISTRAL_API_KEY or GEMINI_API_KEY: set one in the environment "
            "or in .env (nothing was written)"
        )


class NoUsableAnswer(StudioError):
    """A provider answered every try, but never with a usable storyboard.

    Attributes:
        provider: The provider asked.
        model: Its model.
        reason: What was wrong with the last answer.
    """

    def __init__(self, provider: str, model: str, reason: str) -> None:
        super().__init__(
            f"{provider} ({model}) gave no usable storyboard in {TRIES_PER_PROVIDER} tries; "
            f"last problem: {reason} (nothing was written)"
        )
        self.provider = provider
        self.model = model
        self.reason = reason


class ProvidersFailed(StudioError):
    """Every provider failed (rate limit, outage, bad key, refusal...).

    Attributes:
        failures: One redacted line per provider tried.
    """

    def __init__(self, failures: Sequence[str]) -> None:
        super().__init__("no provider could draft the storyboard: " + "; ".join(failures) + " (nothing was written)")
        self.failures = tuple(failures)


@dataclass(frozen=True)
class Draft:
    """A validated project file drafted from a brief.

    Attributes:
        text: The ``project.toml`` text, header comment included, exactly as validated.
        project: The parsed project.
        provider: Provider whose answer was used.
        model: Model that wrote it.
        tries: Answers asked of that provider (1 or 2).
    """

    text: str
    project: Project
    provider: str
    model: str
    tries: int


# -- the brief -----------------------------------------------------------------------------------
def read_brief(path: Path, shown: str | None = None) -> str:
    """Read the brief as UTF-8 text.

    Args:
        path: The brief file.
        shown: How to name the file in errors (default: ``str(path)``).

    Raises:
        BriefError: Missing, not a file, unreadable, not UTF-8, blank or too long.
    """
    name = shown or str(path)
    if not path.exists():
        raise BriefError(name, "brief not found")
    if not path.is_file():
        raise BriefError(name, "not a file (give the brief's markdown or text file)")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BriefError(name, "not UTF-8 text") from None
    except OSError as exc:
        raise BriefError(name, f"cannot read file: {exc.strerror or exc}") from None
    if not text.strip():
        raise BriefError(name, "the brief is empty: describe the film, pack or campaign to storyboard")
    if len(text) > MAX_BRIEF_CHARS:
        raise BriefError(name, f"the brief is too long ({len(text)} characters, at most {MAX_BRIEF_CHARS})")
    return text.strip()


def chat_timeout(shots: int, base: float) -> float:
    """Seconds to allow one answer: long storyboards take minutes to generate, short ones don't."""
    return max(base, 60.0 + 3.0 * shots)


# -- what we ask ---------------------------------------------------------------------------------
def system_prompt(shots: int) -> str:
    """The instruction: the JSON shape, the rules of the project format, the shot count."""
    aspects = ", ".join(ASPECT_SIZES)
    return (
        "You are a storyboard artist for a render studio. From the creator's brief, plan a storyboard "
        f"of exactly {shots} shot{'s' if shots != 1 else ''} for an image generator.\n"
        "Answer with one JSON object and nothing else, in exactly this shape:\n"
        '{"project": {"name": "<short title>"},\n'
        ' "defaults": {"style": "<visual style added to every prompt>", '
        '"negative": "<things to keep out of every image>", "aspect": "<aspect>", "variants": <1 to 4>},\n'
        ' "shots": [{"id": "<id>", "prompt": "<what the image shows>"}]}\n'
        "Rules:\n"
        f'- "shots" has exactly {shots} entries, in story order.\n'
        '- "id": unique, 1 to 40 characters of a-z, 0-9, "-" and "_", such as "s01-harbour-dawn".\n'
        f'- "prompt": one self-contained visual description (subject, action, setting, framing, light), '
        f"at most {PROMPT_HINT_CHARS} characters, in English; do not repeat the style in it.\n"
        f'- "aspect": one of {aspects}; 16:9 suits film, 9:16 vertical video, 1:1 social posts.\n'
        '- "variants": takes to render per shot, a whole number from 1 to 4.\n'
        '- A shot may add "negative", "aspect" or "variants" only where it differs from "defaults".\n'
        "- Use no other fields."
    )


def request_text(brief: str, shots: int) -> str:
    """The first user message: the brief, fenced so its own text reads as material, not orders."""
    return (
        f"Brief:\n<<<\n{brief}\n>>>\n"
        f"Write the storyboard JSON for this brief with exactly {shots} shot{'s' if shots != 1 else ''}."
    )


def correction_text(reason: str, shots: int) -> str:
    """The retry message: what was wrong, and a request for the whole object again."""
    return (
        f"That answer cannot be used: {reason}\n"
        f"Answer again with the complete corrected JSON object (exactly {shots} shots), "
        "in the same shape, and nothing else."
    )


def header_comment(provider: str, model: str, brief_name: str) -> str:
    """The comment block on top of a drafted file: who wrote it, from what, and what next."""
    brief = _CONTROL_RE.sub(" ", brief_name)  # a newline in a path must not end the comment
    return (
        f"# Drafted by {provider} ({model}) with `studio storyboard` from the brief: {brief}\n"
        "# A first draft: edit names, prompts, aspect and variants freely. The format is described\n"
        "# in sample_projects/README.md; `studio run <folder> --check` validates it.\n"
    )


# -- what we get back ----------------------------------------------------------------------------
def check_answer(answer: ChatAnswer, *, shots: int, brief_name: str, project_file: Path) -> tuple[str, Project]:
    """Turn one answer into validated project text, exactly as it will be written.

    Args:
        answer: The model's answer.
        shots: Shot count asked for.
        brief_name: The brief as the user named it (for the header comment).
        project_file: Where the file will be written (names it in messages; relative paths in
            the project would start from its folder).

    Returns:
        ``(toml_text, project)``.

    Raises:
        BadAnswer: The answer cannot become a valid project with ``shots`` shots.
    """
    header = header_comment(answer.provider, answer.model, brief_name)
    text = answer_to_toml(answer.text, shots=shots, header=header, truncated=answer.truncated)
    try:
        project = parse_project(text, source=str(project_file), base_dir=project_file.parent)
    except ProjectError as err:
        raise BadAnswer(_where(err)) from None
    return text, project


async def draft_storyboard(
    brief: str,
    *,
    shots: int,
    chats: Sequence[JSONChat],
    brief_name: str,
    project_file: Path,
    on_note: Callable[[str], None] | None = None,
) -> Draft:
    """Ask each chat in turn until one writes a valid storyboard.

    Args:
        brief: The brief's text.
        shots: How many shots to plan (:data:`MIN_SHOTS`..:data:`MAX_SHOTS`).
        chats: Providers in order of preference (those with a key).
        brief_name: The brief as the user named it (for the header comment).
        project_file: Where the file will be written.
        on_note: Told, in one line, about each fallback and retry.

    Returns:
        The first valid draft.

    Raises:
        NoChatKeys: ``chats`` is empty.
        NoUsableAnswer: A provider answered twice, unusably both times.
        ProvidersFailed: Every provider failed.
    """
    if not MIN_SHOTS <= shots <= MAX_SHOTS:
        raise ValueError(f"shots must be between {MIN_SHOTS} and {MAX_SHOTS}")
    if not chats:
        raise NoChatKeys()
    note = on_note or (lambda _line: None)
    failures: list[str] = []
    for position, chat in enumerate(chats):
        try:
            return await _draft_with(chat, brief, shots, brief_name, project_file, note)
        except ProviderError as err:
            # ProviderError messages are already redacted: safe to show and to keep.
            failures.append(str(err))
            if position + 1 < len(chats):
                note(f"{err}; asking {chats[position + 1].name} instead")
    raise ProvidersFailed(failures)


async def _draft_with(
    chat: JSONChat, brief: str, shots: int, brief_name: str, project_file: Path, note: Callable[[str], None]
) -> Draft:
    system = system_prompt(shots)
    turns = [ChatTurn("user", request_text(brief, shots))]
    reason = ""
    for attempt in range(1, TRIES_PER_PROVIDER + 1):
        answer = await chat.ask(system, turns)
        try:
            text, project = check_answer(answer, shots=shots, brief_name=brief_name, project_file=project_file)
        except BadAnswer as bad:
            reason = bad.reason
            if attempt < TRIES_PER_PROVIDER:
                note(f"{chat.name}: unusable answer ({reason}); asking again")
            # Vendors refuse empty turns; the placeholder keeps the conversation well formed.
            turns += [ChatTurn("assistant", answer.text or "(empty)"), ChatTurn("user", correction_text(reason, shots))]
            continue
        return Draft(text=text, project=project, provider=answer.provider, model=answer.model, tries=attempt)
    raise NoUsableAnswer(chat.name, chat.model, reason)


def _where(err: ProjectError) -> str:
    """A validation message without the file name: the model never saw the file."""
    parts = []
    if err.shot is not None:
        parts.append(f"shot {err.shot!r}")
    if err.field is not None:
        parts.append(f"field {err.field!r}")
    parts.append(err.reason)
    return ": ".join(parts)
