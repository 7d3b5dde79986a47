"""Checks for project files: typed reads from TOML tables that fail with a one-line reason.

Kept apart from :mod:`studio.project.fields` (which fields exist, with their bounds and choices:
the one definition that both the checker and the JSON Schema read) and :mod:`studio.project.loader`
(what a project is): this module says *how* a TOML value is checked and how a refusal reads.
Nothing here knows the file name: a failed check raises
:class:`Invalid` carrying the field path and the shot id, and :mod:`studio.project.loader` adds the
file to turn it into a :class:`~studio.project.loader.ProjectError`.

Validation is hand-written rather than done with pydantic models: every message has to be a
single line that names the file, the shot and the field, and translating pydantic's error list
into that shape would cost more code than checking a handful of fields directly. For the same
reason the JSON Schema is generated *from* the field table rather than used to check.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from providers.table import KNOWN_NAMES
from studio.project.display import got, show, toml_type
from studio.rendering.chain import canonical

__all__ = ["Invalid", "Section", "got", "show", "slugify", "toml_location", "toml_type"]

ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "4:3": (1152, 864),
    "3:4": (864, 1152),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
    "21:9": (1536, 640),
}
"""Pixel size for each aspect name; all are multiples of 64, near one megapixel."""

KNOWN_PROVIDERS = KNOWN_NAMES  # every provider of the provider table, then its aliases
"""Provider names a ``chain`` may list (``pixtral`` is an alias of ``mistral``, kept as given)."""

EXPIRY_ACTIONS = ("hold", "approve-best", "reject")
PUBLISH_TARGETS = ("folder",)
SIZE_MIN, SIZE_MAX, SIZE_STEP = 64, 2048, 8
SLUG_MAX = 64

TEXT_MAX = 200
"""Default cap on a string field's length (names, choices); prose fields set their own."""
STYLE_MAX = 1000
NEGATIVE_MAX = 2000
MAX_DEADLINE_DAYS = 365
"""Longest approval deadline: Temporal timers and Python's timedelta both have limits, a year is plenty."""

# ASCII digits only: Python's \d and int() also take Arabic-Indic or full-width digits, which no
# vendor, timer or file name expects. Digit runs are length-checked before int() ever sees them.
SIZE_RE = re.compile(r"([0-9]+)x([0-9]+)", re.ASCII)
DURATION_RE = re.compile(r"([0-9]+)([smhd])", re.ASCII)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Enough digits for any value in range; more would only slow int() down or overflow it.
_MAX_DIGITS = 12
# Whitespace that prose (a prompt, a style) may hold; every other C0/C1 control is refused.
_PROSE_WHITESPACE = frozenset("\t\n\r")


class Invalid(Exception):
    """A failed check, before the file name is known.

    Attributes:
        field: Dotted path of the offending field (``"defaults.aspect"``, ``"shots[3].id"``,
            or ``"variants"`` when ``shot`` already names the shot).
        reason: What is wrong, one line.
        shot: Id of the shot the field belongs to, when it has a usable one.
    """

    def __init__(self, field: str | None, reason: str, shot: str | None = None) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.shot = shot


def slugify(name: str) -> str:
    """Derive a folder-safe slug: lowercase ASCII letters, digits and single dashes.

    Accents are folded (``"Café"`` -> ``"cafe"``) so European titles keep their words.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


class Section:
    """One TOML table under validation; knows its own path so failures can name fields.

    Args:
        data: The parsed table.
        prefix: Dotted path of the table (``"defaults"``, ``"shots[3]"``, ``""`` for the root
            or for a shot already named by ``shot``).
        shot: Id of the shot this table describes, if any.
    """

    def __init__(self, data: Mapping[str, Any], prefix: str = "", shot: str | None = None) -> None:
        self.data = data
        self.prefix = prefix
        self.shot = shot

    def path(self, key: str) -> str:
        """Full field path of ``key`` for messages."""
        return f"{self.prefix}.{key}" if self.prefix else key

    def fail(self, key: str, reason: str) -> NoReturn:
        """Raise :class:`Invalid` for ``key`` in this table."""
        raise Invalid(self.path(key), reason, self.shot)

    def has(self, key: str) -> bool:
        """Whether ``key`` is set in this table."""
        return key in self.data

    def reject_unknown(self, allowed: Sequence[str], top_level: Sequence[str] = ()) -> None:
        """Fail on the first key not in ``allowed``, suggesting the nearest known one (typos).

        ``top_level`` names root keys: in TOML every ``key = value`` below a ``[table]`` header
        belongs to that table, so ``shots = ...`` written after ``[project]`` lands in it.
        """
        for key in self.data:
            if key in allowed:
                continue
            if key in top_level:
                self.fail(key, f"unknown field ({key!r} belongs at the top level, not under a [table] header)")
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.fail(key, f"unknown field{hint}")

    def _typed(self, key: str, kind: type | tuple[type, ...], expected: str) -> Any:
        value = self.data[key]
        # ``variants = true`` is a typo, not a 1: refuse bools wherever a number is expected.
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            self.fail(key, f"expected {expected}, got {got(value)}")
        return value

    def table(self, key: str, *, required: bool = False) -> Section | None:
        """Read a sub-table (``[key]``); ``None`` when absent and not required."""
        if key not in self.data:
            if required:
                self.fail(key, f"is required: add a [{self.path(key)}] table")
            return None
        self._typed(key, dict, f"a table ([{self.path(key)}])")
        return Section(self.data[key], self.path(key), self.shot)

    def text(
        self,
        key: str,
        *,
        required: bool = False,
        nonempty: bool = False,
        max_len: int = TEXT_MAX,
        prose: bool = False,
    ) -> str | None:
        """Read a string of at most ``max_len`` characters without control characters.

        Args:
            key: The field.
            required: Fail when the field is absent.
            nonempty: Refuse blank text.
            max_len: Longest text accepted.
            prose: Allow tabs and line breaks (prompts, styles); names, ids and paths are one line.
        """
        if key not in self.data:
            if required:
                self.fail(key, "is required")
            return None
        value: str = self._typed(key, str, "a string")
        if len(value) > max_len:
            self.fail(key, f"must be at most {max_len} characters (got {len(value)})")
        bad = next((char for char in value if _refused(char, prose)), None)
        if bad is not None:
            # A NUL cannot be stored in Postgres or used in a path, and an escape sequence would
            # act on every terminal that prints the value later: refuse them at the door.
            kind = "control characters other than tabs and line breaks" if prose else "control characters"
            self.fail(key, f"must not contain {kind} (found {show(bad)} at position {value.index(bad) + 1})")
        if nonempty and not value.strip():
            self.fail(key, "must not be empty")
        return value

    def integer(self, key: str, lo: int, hi: int | None = None) -> int | None:
        """Read an integer in ``lo..hi`` (inclusive; no upper bound when ``hi`` is None)."""
        if key not in self.data:
            return None
        value: int = self._typed(key, int, "an integer")
        if hi is None and value < lo:
            self.fail(key, f"must be {lo} or more (got {show(value)})")
        if hi is not None and not lo <= value <= hi:
            self.fail(key, f"must be between {lo} and {hi} (got {show(value)})")
        return value

    def boolean(self, key: str) -> bool | None:
        """Read ``true``/``false``."""
        return self._typed(key, bool, "true or false") if key in self.data else None

    def positive_number(self, key: str, hi: float) -> float | None:
        """Read a finite number greater than 0 and at most ``hi`` (``usd = 5`` means 5.0)."""
        if key not in self.data:
            return None
        value = self._float(key)
        if not 0 < value <= hi:
            self.fail(key, f"must be greater than 0 and at most {hi:g} (got {show(self.data[key])})")
        return value

    def _float(self, key: str) -> float:
        # float() of an integer with hundreds of digits raises OverflowError; call it out of range.
        value = self._typed(key, (int, float), "a number")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        return number if math.isfinite(number) else math.inf

    def choice(self, key: str, options: Sequence[str]) -> str | None:
        """Read a string that must be one of ``options``."""
        value = self.text(key)
        if value is not None and value not in options:
            if len(options) == 1:
                self.fail(key, f"only {options[0]!r} is supported for now (got {show(value)})")
            self.fail(key, f"must be one of {', '.join(options)} (got {show(value)})")
        return value

    def providers(self, key: str) -> tuple[str, ...] | None:
        """Read a provider chain: a non-empty array of distinct providers from KNOWN_PROVIDERS."""
        if key not in self.data:
            return None
        names: list[Any] = self._typed(key, list, "an array of provider names")
        if not names:
            self.fail(key, "must list at least one provider")
        seen: dict[str, str] = {}  # provider -> the name it was first listed under
        for position, name in enumerate(names, 1):
            if not isinstance(name, str):
                self.fail(key, f"expected provider names, got {got(name)} at position {position}")
            if name not in KNOWN_PROVIDERS:
                known = ", ".join(KNOWN_PROVIDERS)
                self.fail(key, f"unknown provider {show(name)} (use one of {known})")
            # ``pixtral`` is Mistral under another name: listing both would call Mistral twice.
            earlier = seen.setdefault(canonical(name), name)
            if len(seen) < position:
                also = "" if earlier == name else f" ({show(earlier)} and {show(name)} are the same provider)"
                self.fail(key, f"lists provider {show(canonical(name))} twice{also}")
        return tuple(names)

    def duration(self, key: str) -> int | None:
        """Read a duration such as ``"90s"``, ``"30m"``, ``"48h"`` or ``"7d"``, in seconds (up to a year)."""
        value = self._text_for(key, "a duration string such as '48h'")
        if value is None:
            return None
        match = DURATION_RE.fullmatch(value.strip())
        if match is None:
            self.fail(
                key,
                f"invalid duration {show(value)} ({_ascii_hint(value)}use a number and s, m, h or d: "
                "90s, 30m, 48h, 7d)",
            )
        digits, unit = match.groups()
        cap = MAX_DEADLINE_DAYS * _DURATION_UNITS["d"]
        seconds = int(digits) * _DURATION_UNITS[unit] if len(digits) <= _MAX_DIGITS else cap + 1
        if seconds <= 0:
            self.fail(key, f"must be longer than zero (got {show(value)})")
        if seconds > cap:
            self.fail(key, f"must be at most {MAX_DEADLINE_DAYS}d (got {show(value)})")
        return seconds

    def aspect(self, key: str) -> tuple[int, int] | None:
        """Read a named aspect ratio (``"16:9"``) as the ``(width, height)`` it renders at."""
        aspect = self._text_for(key, "an aspect string such as '16:9'")
        if aspect is None:
            return None
        if aspect not in ASPECT_SIZES:
            self.fail(key, f"unknown aspect {show(aspect)} (use one of {', '.join(ASPECT_SIZES)})")
        return ASPECT_SIZES[aspect]

    def size(self, key: str) -> tuple[int, int] | None:
        """Read an exact size ``"WIDTHxHEIGHT"`` as ``(width, height)``."""
        size = self._text_for(key, "a size string such as '1024x576'")
        if size is None:
            return None
        match = SIZE_RE.fullmatch(size.strip())
        if match is None:
            self.fail(key, f"expected WIDTHxHEIGHT such as '1024x576' ({_ascii_hint(size)}got {show(size)})")
        for label, digits in zip(("width", "height"), match.groups(), strict=True):
            if len(digits) > _MAX_DIGITS or not SIZE_MIN <= int(digits) <= SIZE_MAX:
                shown = show(digits, quote=False)
                self.fail(key, f"{label} must be between {SIZE_MIN} and {SIZE_MAX} (got {shown})")
            if int(digits) % SIZE_STEP:
                self.fail(key, f"{label} must be a multiple of {SIZE_STEP} (got {int(digits)})")
        return int(match.group(1)), int(match.group(2))

    def _text_for(self, key: str, expected: str) -> str | None:
        # Like text(), but the type error says what kind of string is wanted.
        return self._typed(key, str, expected) if key in self.data else None


def _refused(char: str, prose: bool) -> bool:
    """Whether a string field may not hold ``char``: C0/C1 controls, and in one-line fields
    the Unicode line and paragraph separators too."""
    if prose and char in _PROSE_WHITESPACE:
        return False
    category = unicodedata.category(char)
    return category == "Cc" or (not prose and category in ("Zl", "Zp"))


def _ascii_hint(value: str) -> str:
    # ``int()`` reads "٤٨" as 48, so say why a value that looks numeric is refused.
    if any(char.isdigit() and not char.isascii() for char in value):
        return "digits must be ASCII 0-9; "
    return ""


_TOML_WHERE_RE = re.compile(r"\s*\(at line (\d+), column \d+\)$")


def toml_location(message: str, text: str) -> tuple[int, str]:
    """Split tomllib's "... (at line 7, column 5)" into the line and the bare message."""
    match = _TOML_WHERE_RE.search(message)
    if match is not None:
        return int(match.group(1)), message[: match.start()]
    # "(at end of document)": the problem is on the last line.
    return max(1, len(text.splitlines())), message
