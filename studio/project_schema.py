"""Checks for project files: typed reads from TOML tables that fail with a one-line reason.

Kept apart from :mod:`studio.project` so that module says *what* a project is, while this one
says *how* a TOML table is checked. Nothing here knows the file name: a failed check raises
:class:`Invalid` carrying the field path and the shot id, and :mod:`studio.project` adds the
file to turn it into a :class:`~studio.project.ProjectError`.

Validation is hand-written rather than done with pydantic models: every message has to be a
single line that names the file, the shot and the field, and translating pydantic's error list
into that shape would cost more code than checking a handful of fields directly.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from PIL import Image

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

KNOWN_PROVIDERS = ("local", "mistral", "pixtral", "gemini", "replicate", "fal")
"""Provider names a ``chain`` may list (``pixtral`` is an alias of ``mistral``, kept as given)."""

EXPIRY_ACTIONS = ("hold", "approve-best", "reject")
PUBLISH_TARGETS = ("folder",)
SIZE_MIN, SIZE_MAX, SIZE_STEP = 64, 2048, 8
SLUG_MAX = 64

_SIZE_RE = re.compile(r"(\d+)x(\d+)")
_DURATION_RE = re.compile(r"(\d+)([smhd])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Long enough to recognise a value, short enough to keep the message on one readable line.
_SHOW_MAX = 60


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


def toml_type(value: Any) -> str:
    """Name a parsed TOML value's type the way the TOML spec does, with an article."""
    # bool before int: in Python ``True`` is an int, in TOML it is not.
    for kind, name in (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (list, "an array"),
        (dict, "a table"),
        (_dt.datetime, "a date-time"),
        (_dt.date, "a date"),
        (_dt.time, "a time"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def show(value: Any) -> str:
    """Short single-line rendering of a user value, spelled as in TOML where Python differs."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        text = value.isoformat()
    else:
        text = repr(value)  # repr escapes newlines inside strings, keeping messages on one line
    return text if len(text) <= _SHOW_MAX else text[: _SHOW_MAX - 3] + "..."


def got(value: Any) -> str:
    """Describe a wrong value for an "expected X, got Y" message."""
    if isinstance(value, (dict, list)):
        return toml_type(value)
    return f"{toml_type(value)} ({show(value)})"


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
        self, key: str, *, required: bool = False, nonempty: bool = False, max_len: int | None = None
    ) -> str | None:
        """Read a string; ``nonempty`` refuses blank text, ``max_len`` caps its length."""
        if key not in self.data:
            if required:
                self.fail(key, "is required")
            return None
        value: str = self._typed(key, str, "a string")
        if nonempty and not value.strip():
            self.fail(key, "must not be empty")
        if max_len is not None and len(value) > max_len:
            self.fail(key, f"must be at most {max_len} characters (got {len(value)})")
        return value

    def integer(self, key: str, lo: int, hi: int | None = None) -> int | None:
        """Read an integer in ``lo..hi`` (inclusive; no upper bound when ``hi`` is None)."""
        if key not in self.data:
            return None
        value: int = self._typed(key, int, "an integer")
        if hi is None and value < lo:
            self.fail(key, f"must be {lo} or more (got {value})")
        if hi is not None and not lo <= value <= hi:
            self.fail(key, f"must be between {lo} and {hi} (got {value})")
        return value

    def boolean(self, key: str) -> bool | None:
        """Read ``true``/``false``."""
        return self._typed(key, bool, "true or false") if key in self.data else None

    def positive_number(self, key: str) -> float | None:
        """Read a finite number > 0 (integers are accepted: ``usd = 5`` means 5.0)."""
        if key not in self.data:
            return None
        value = float(self._typed(key, (int, float), "a number"))
        if not math.isfinite(value) or value <= 0:
            self.fail(key, f"must be a number greater than 0 (got {show(self.data[key])})")
        return value

    def fraction(self, key: str) -> float | None:
        """Read a number greater than 0 and at most 1 (a strength)."""
        if key not in self.data:
            return None
        value = float(self._typed(key, (int, float), "a number"))
        if not 0.0 < value <= 1.0:
            self.fail(key, f"must be greater than 0 and at most 1 (got {show(self.data[key])})")
        return value

    def choice(self, key: str, options: Sequence[str]) -> str | None:
        """Read a string that must be one of ``options``."""
        value = self.text(key)
        if value is not None and value not in options:
            if len(options) == 1:
                self.fail(key, f"only {options[0]!r} is supported for now (got {show(value)})")
            self.fail(key, f"must be one of {', '.join(options)} (got {show(value)})")
        return value

    def providers(self, key: str) -> tuple[str, ...] | None:
        """Read a provider chain: a non-empty array of distinct names from KNOWN_PROVIDERS."""
        if key not in self.data:
            return None
        names: list[Any] = self._typed(key, list, "an array of provider names")
        if not names:
            self.fail(key, "must list at least one provider")
        for position, name in enumerate(names, 1):
            if not isinstance(name, str):
                self.fail(key, f"expected provider names, got {got(name)} at position {position}")
            if name not in KNOWN_PROVIDERS:
                known = ", ".join(KNOWN_PROVIDERS)
                self.fail(key, f"unknown provider {show(name)} (use one of {known})")
            if names.index(name) != position - 1:
                self.fail(key, f"lists provider {show(name)} twice")
        return tuple(names)

    def duration(self, key: str) -> int | None:
        """Read a duration such as ``"90s"``, ``"30m"``, ``"48h"`` or ``"7d"``, in seconds."""
        value = self._text_for(key, "a duration string such as '48h'")
        if value is None:
            return None
        match = _DURATION_RE.fullmatch(value.strip())
        if match is None:
            self.fail(key, f"invalid duration {show(value)} (use a number and s, m, h or d: 90s, 30m, 48h, 7d)")
        seconds = int(match.group(1)) * _DURATION_UNITS[match.group(2)]
        if seconds <= 0:
            self.fail(key, f"must be longer than zero (got {show(value)})")
        return seconds

    def image_size(self) -> tuple[int, int] | None:
        """Read ``aspect`` or ``size`` (never both) as ``(width, height)``; None if neither."""
        if self.has("aspect") and self.has("size"):
            self.fail("size", "set either 'aspect' or 'size', not both")
        aspect = self._text_for("aspect", "an aspect string such as '16:9'")
        if aspect is not None:
            if aspect not in ASPECT_SIZES:
                self.fail("aspect", f"unknown aspect {show(aspect)} (use one of {', '.join(ASPECT_SIZES)})")
            return ASPECT_SIZES[aspect]
        size = self._text_for("size", "a size string such as '1024x576'")
        if size is None:
            return None
        match = _SIZE_RE.fullmatch(size.strip())
        if match is None:
            self.fail("size", f"expected WIDTHxHEIGHT such as '1024x576' (got {show(size)})")
        width, height = int(match.group(1)), int(match.group(2))
        for label, pixels in (("width", width), ("height", height)):
            if not SIZE_MIN <= pixels <= SIZE_MAX:
                self.fail("size", f"{label} must be between {SIZE_MIN} and {SIZE_MAX} (got {pixels})")
            if pixels % SIZE_STEP:
                self.fail("size", f"{label} must be a multiple of {SIZE_STEP} (got {pixels})")
        return width, height

    def _text_for(self, key: str, expected: str) -> str | None:
        # Like text(), but the type error says what kind of string is wanted.
        return self._typed(key, str, expected) if key in self.data else None


def read_look(section: Section) -> dict[str, Any]:
    """Read the image-shaping keys that are set; absent keys are left out so overrides merge."""
    look: dict[str, Any] = {}
    for key in ("style", "negative"):
        value = section.text(key)
        if value is not None:
            look[key] = value.strip()
    size = section.image_size()
    if size is not None:
        look["size"] = size
    variants = section.integer("variants", 1, 16)
    if variants is not None:
        look["variants"] = variants
    upscale = section.integer("upscale", 1, 4)
    if upscale is not None:
        look["upscale"] = upscale
    strength = section.fraction("reference_strength")
    if strength is not None:
        look["reference_strength"] = strength
    return look


def is_image_file(path: str) -> bool:
    """Whether ``path`` holds an image Pillow can decode (header and structure, not every pixel)."""
    try:
        with Image.open(path) as im:
            im.verify()
    except (OSError, SyntaxError, ValueError):  # what Pillow raises for unreadable or corrupt files
        return False
    return True


def resolve_path(base_dir: Path, relative: str) -> str:
    """Absolute, normalised path of ``relative`` (``~`` expanded) against the project folder."""
    # abspath rather than resolve(): keep symlinked project folders as the user sees them.
    return os.path.abspath(base_dir / Path(relative.strip()).expanduser())


_TOML_WHERE_RE = re.compile(r"\s*\(at line (\d+), column \d+\)$")


def toml_location(message: str, text: str) -> tuple[int, str]:
    """Split tomllib's "... (at line 7, column 5)" into the line and the bare message."""
    match = _TOML_WHERE_RE.search(message)
    if match is not None:
        return int(match.group(1)), message[: match.start()]
    # "(at end of document)": the problem is on the last line.
    return max(1, len(text.splitlines())), message
