"""Load and validate a project file (``project.toml``): a storyboard of shots to render.

The format is documented for users in ``sample_projects/README.md``. Loading either returns a
fully resolved, immutable :class:`Project` (every shot carries its final size, variants,
style and chain, and every path is absolute) or raises :class:`ProjectError` for the *first*
problem found, as one line naming the file, the shot and the field.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.project.display import LINE_SHOW_MAX, PATH_SHOW_MAX, show
from studio.project.paths import UploadRules, read_publish_path, read_reference
from studio.project.schema import (
    ASPECT_SIZES,
    EXPIRY_ACTIONS,
    KNOWN_PROVIDERS,
    PUBLISH_TARGETS,
    Invalid,
    Section,
    got,
    read_look,
    slugify,
    toml_location,
)

__all__ = [
    "ASPECT_SIZES",
    "KNOWN_PROVIDERS",
    "ApprovalSpec",
    "Project",
    "ProjectError",
    "PublishSpec",
    "ShotSpec",
    "UploadRules",
    "load_project",
    "parse_project",
]

PROJECT_FILE = "project.toml"
MAX_SHOTS = 10_000
MAX_PROMPT = 4000
MAX_NAME = 200
SEED_LIMIT = 2**32
"""Seeds are below this: every vendor takes an unsigned 32-bit seed, and SQLite stores 64 bits at most."""
MAX_BUDGET_USD = 100_000.0
"""Largest ``[budget] usd``; more is a typo, and the budget arithmetic stays exact well below it."""
DEFAULT_SIZE = ASPECT_SIZES["1:1"]
DEFAULT_VARIANTS = 1
DEFAULT_UPSCALE = 2
# A storyboard sketch fixes the composition; 0.75 lets the render replace its pencil look.
DEFAULT_REFERENCE_STRENGTH = 0.75

_TOP_KEYS = ("project", "defaults", "approval", "publish", "budget", "shots")
_PROJECT_KEYS = ("name", "seed", "chain")
# Keys that shape an image: allowed in [defaults] and overridable in every shot.
_LOOK_KEYS = ("style", "negative", "aspect", "size", "variants", "upscale", "reference_strength")
_SHOT_KEYS = ("id", "prompt", *_LOOK_KEYS, "chain", "seed", "reference")
_APPROVAL_KEYS = ("required", "deadline", "on_expiry")
_PUBLISH_KEYS = ("target", "path")
_BUDGET_KEYS = ("usd",)
_SHOT_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")


class ProjectError(StudioError):
    """A project file is missing, is not valid TOML, or breaks a rule of the format.

    ``str(error)`` is a single line: ``<file>: [line N: ][shot '<id>': ][field '<f>': ]<reason>``.

    Attributes:
        file: The project file (or folder) as the user gave it.
        shot: Id of the offending shot, or None.
        field: Offending field: dotted for tables (``"defaults.aspect"``), bare inside a shot
            named by ``shot`` (``"variants"``), indexed when the shot has no usable id
            (``"shots[3].id"``, counting from 1). None for file-level problems.
        reason: What is wrong, without the location.
        line: Line number for TOML syntax errors, else None.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        shot: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file = file
        self.shot = shot
        self.field = field
        self.reason = reason
        self.line = line
        # The CLI prints this as one line: every part is escaped and shortened (a file name can
        # hold an escape sequence, a key can be 5,000 characters long), the reason last of all.
        parts = [show(file, limit=PATH_SHOW_MAX, quote=False)]
        if line is not None:
            parts.append(f"line {line}")
        if shot is not None:
            parts.append(f"shot {show(shot)}")
        if field is not None:
            parts.append(f"field {show(field)}")
        parts.append(show(reason, limit=LINE_SHOW_MAX, quote=False))
        super().__init__(": ".join(parts))


@dataclass(frozen=True)
class ShotSpec:
    """One shot of the storyboard, with project defaults already applied.

    Attributes:
        id: Unique shot id (``[A-Za-z0-9_-]{1,40}``).
        prompt: The prompt as written, without the style.
        negative: Negative prompt ("" when none).
        width: Image width in pixels.
        height: Image height in pixels.
        variants: Takes to render for this shot (1..16).
        seed: This shot's own seed, or None to derive one from the batch seed.
        upscale: Upscale factor (1 = none, up to 4).
        chain: Provider chain for this shot (its own, else the project's), or None.
        reference: Absolute path of a storyboard sketch image, or None.
        style: Style appended to the prompt ("" when none).
        reference_strength: How far a render may move from the sketch (0..1; 1 = ignore it).
    """

    id: str
    prompt: str
    negative: str
    width: int
    height: int
    variants: int
    seed: int | None
    upscale: int
    chain: tuple[str, ...] | None
    reference: str | None
    style: str = ""
    reference_strength: float = DEFAULT_REFERENCE_STRENGTH

    @property
    def full_prompt(self) -> str:
        """The prompt sent to providers: ``"<prompt>, <style>"``, or the prompt alone."""
        return f"{self.prompt}, {self.style}" if self.style else self.prompt


@dataclass(frozen=True)
class ApprovalSpec:
    """Whether a human must approve takes before publishing, and what happens if nobody does.

    Attributes:
        required: Hold the batch for review before publishing.
        deadline_seconds: How long to wait for a review, or None to wait forever.
        on_expiry: ``"hold"``, ``"approve-best"`` or ``"reject"`` once the deadline passes.
    """

    required: bool = False
    deadline_seconds: int | None = None
    on_expiry: str = "hold"


@dataclass(frozen=True)
class PublishSpec:
    """Where approved takes go.

    Attributes:
        target: Publishing target; only ``"folder"`` exists for now.
        path: Absolute output folder, or None to let the studio choose.
    """

    target: str = "folder"
    path: str | None = None


@dataclass(frozen=True)
class Project:
    """A validated project file.

    Attributes:
        name: Display name.
        slug: Folder-safe name derived from ``name`` (``a-z``, ``0-9`` and ``-``).
        seed: Batch seed, or None to draw one per batch.
        chain: Project-wide provider chain, or None for the studio default.
        approval: Review settings.
        publish: Publishing settings.
        budget_usd: Spending cap for a batch in US dollars, or None for no cap.
        shots: The shots, in file order.
        source: Path of the TOML file as given.
    """

    name: str
    slug: str
    seed: int | None
    chain: tuple[str, ...] | None
    approval: ApprovalSpec
    publish: PublishSpec
    budget_usd: float | None
    shots: tuple[ShotSpec, ...]
    source: str

    @property
    def total_takes(self) -> int:
        """Number of images a batch renders: the sum of every shot's variants."""
        return sum(shot.variants for shot in self.shots)


def load_project(path: str | os.PathLike[str], *, uploads: UploadRules | None = None) -> Project:
    """Load a project from a folder holding ``project.toml``, or from the TOML file itself.

    Args:
        path: The folder or the file. Relative paths inside the project (``reference``,
            ``publish.path``) are resolved against the folder holding the file.
        uploads: The rules of a project uploaded on the dashboard, or None (the CLI's freedom).

    Returns:
        The validated project.

    Raises:
        ProjectError: The file is missing, unreadable, not TOML, or invalid.
    """
    given = source = os.fspath(path)
    try:
        file, source = _project_file(given)
        # utf-8-sig: tolerate the byte-order mark some Windows editors add.
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProjectError(source, "not UTF-8 text (TOML files must be UTF-8)") from None
    except OSError as exc:  # unreadable, or a name too long for the file system
        raise ProjectError(source, f"cannot read file: {exc.strerror or exc}") from None
    return parse_project(text, source=source, base_dir=Path(os.path.abspath(file)).parent, uploads=uploads)


def _project_file(given: str) -> tuple[Path, str]:
    """The TOML file a path names, and how to name it in messages."""
    target = Path(given)
    if target.is_file():
        return target, given
    if target.is_dir() or target.suffix != ".toml":
        # A path that is neither an existing file nor ends in .toml is read as a folder.
        file = target / PROJECT_FILE
        if not file.is_file():
            raise ProjectError(given, f"no {PROJECT_FILE} in this folder")
        return file, os.path.join(given, PROJECT_FILE)
    raise ProjectError(given, "file not found")


def parse_project(
    text: str, *, source: str, base_dir: Path, check_files: bool = True, uploads: UploadRules | None = None
) -> Project:
    """Parse and validate project TOML text.

    Args:
        text: The TOML document.
        source: Name of the file, used in error messages and kept as ``Project.source``.
        base_dir: Folder that relative paths (``reference``, ``publish.path``) start from.
        check_files: Check that referenced files exist and are images. A batch's storyboard stage
            parses the project again after launch, when the sketches are already stored.
        uploads: For a project uploaded on the dashboard, where it may read and publish.

    Returns:
        The validated project.

    Raises:
        ProjectError: For the first problem found.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, reason = toml_location(str(exc), text)
        raise ProjectError(source, f"invalid TOML: {reason}", line=line) from None
    except ValueError:  # tomllib lets int() refuse a number of more than 4300 digits
        raise ProjectError(source, "invalid TOML: a number has thousands of digits") from None
    except RecursionError:
        raise ProjectError(source, "invalid TOML: arrays or tables nested too deeply") from None
    try:
        return _build(data, source, Path(os.path.abspath(base_dir)), check_files, uploads)
    except Invalid as exc:
        raise ProjectError(source, exc.reason, shot=exc.shot, field=exc.field) from None


def _build(
    data: dict[str, Any], source: str, base_dir: Path, check_files: bool, uploads: UploadRules | None
) -> Project:
    root = Section(data)
    root.reject_unknown(_TOP_KEYS)

    project = root.table("project", required=True)
    assert project is not None  # required=True either returns a table or raises
    project.reject_unknown(_PROJECT_KEYS, _TOP_KEYS)
    name = project.text("name", required=True, nonempty=True, max_len=MAX_NAME)
    assert name is not None
    name = name.strip()
    slug = slugify(name)
    if not slug:
        project.fail("name", "needs at least one letter or digit to derive a folder name")
    seed = project.integer("seed", 0, SEED_LIMIT - 1)
    chain = project.providers("chain")

    defaults = root.table("defaults") or Section({}, "defaults")
    defaults.reject_unknown(_LOOK_KEYS, _TOP_KEYS)
    look = read_look(defaults)

    return Project(
        name=name,
        slug=slug,
        seed=seed,
        chain=chain,
        approval=_read_approval(root.table("approval")),
        publish=_read_publish(root.table("publish"), base_dir, uploads),
        budget_usd=_read_budget(root.table("budget")),
        shots=_read_shots(root, look, chain, base_dir, check_files, uploads),
        source=source,
    )


def _read_approval(section: Section | None) -> ApprovalSpec:
    if section is None:
        return ApprovalSpec()
    section.reject_unknown(_APPROVAL_KEYS, _TOP_KEYS)
    required = section.boolean("required")
    on_expiry = section.choice("on_expiry", EXPIRY_ACTIONS)
    return ApprovalSpec(
        required=bool(required),
        deadline_seconds=section.duration("deadline"),
        on_expiry=on_expiry or "hold",
    )


def _read_publish(section: Section | None, base_dir: Path, uploads: UploadRules | None) -> PublishSpec:
    if section is None:
        return PublishSpec()
    section.reject_unknown(_PUBLISH_KEYS, _TOP_KEYS)
    target = section.choice("target", PUBLISH_TARGETS) or "folder"
    return PublishSpec(target=target, path=read_publish_path(section, base_dir, uploads))


def _read_budget(section: Section | None) -> float | None:
    if section is None:
        return None
    section.reject_unknown(_BUDGET_KEYS, _TOP_KEYS)
    return section.positive_number("usd", MAX_BUDGET_USD)


def _read_shots(
    root: Section,
    look: dict[str, Any],
    chain: tuple[str, ...] | None,
    base_dir: Path,
    check_files: bool,
    uploads: UploadRules | None,
) -> tuple[ShotSpec, ...]:
    raw = root.data.get("shots")
    if raw is None or raw == []:
        root.fail("shots", "at least one [[shots]] entry is required")
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        root.fail("shots", f"expected an array of tables ([[shots]]), got {got(raw)}")
    if len(raw) > MAX_SHOTS:
        root.fail("shots", f"at most {MAX_SHOTS} shots are allowed (got {len(raw)})")

    first_seen: dict[str, int] = {}
    shots: list[ShotSpec] = []
    for number, item in enumerate(raw, 1):
        # Until the id is known to be good, the shot can only be named by its position.
        anonymous = Section(item, f"shots[{number}]")
        shot_id = anonymous.text("id", required=True)
        assert shot_id is not None
        if _SHOT_ID_RE.fullmatch(shot_id) is None:
            anonymous.fail("id", f"must be 1 to 40 of A-Z a-z 0-9 _ - (got {show(shot_id)})")
        section = Section(item, shot=shot_id)
        if shot_id in first_seen:
            section.fail("id", f"duplicate shot id (already used by shots[{first_seen[shot_id]}])")
        first_seen[shot_id] = number
        shots.append(_read_shot(section, look, chain, base_dir, check_files, uploads))
    return tuple(shots)


def _read_shot(
    section: Section,
    defaults: dict[str, Any],
    chain: tuple[str, ...] | None,
    base_dir: Path,
    check_files: bool,
    uploads: UploadRules | None,
) -> ShotSpec:
    section.reject_unknown(_SHOT_KEYS)
    assert section.shot is not None  # _read_shots names the shot once its id is known good
    prompt = section.text("prompt", required=True, nonempty=True, max_len=MAX_PROMPT, prose=True)
    assert prompt is not None
    look = {**defaults, **read_look(section)}
    width, height = look.get("size", DEFAULT_SIZE)
    shot_chain = section.providers("chain")
    seed = section.integer("seed", 0, SEED_LIMIT - 1)
    reference = read_reference(section, base_dir, check_files=check_files, uploads=uploads)
    return ShotSpec(
        id=section.shot,
        prompt=prompt.strip(),
        negative=look.get("negative", ""),
        width=width,
        height=height,
        variants=look.get("variants", DEFAULT_VARIANTS),
        seed=seed,
        upscale=look.get("upscale", DEFAULT_UPSCALE),
        chain=shot_chain if shot_chain is not None else chain,
        reference=reference,
        style=look.get("style", ""),
        reference_strength=look.get("reference_strength", DEFAULT_REFERENCE_STRENGTH),
    )
