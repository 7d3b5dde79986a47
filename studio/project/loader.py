"""Load and validate a project file (``project.toml``): a storyboard of shots to render.

The format is documented for users in ``sample_projects/README.md``. Loading either returns a
fully resolved, immutable :class:`Project` (every shot carries its final size, variants,
style, chain and workflow, and every path is absolute; each workflow file is checked too) or raises :class:`ProjectError` for the *first*
problem found, as one line naming the file, the shot and the field. Which keys exist and what
each allows comes from the field table (:mod:`studio.project.fields`), the same table the JSON
Schema for editors is generated from (`studio schema`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.priority import DEFAULT_PRIORITY, FAIRNESS_KEY_MAX_BYTES
from studio.project.display import LINE_SHOW_MAX, PATH_SHOW_MAX, show
from studio.project.fields import (
    APPROVAL,
    BUDGET,
    DEFAULT_ASPECT,
    DEFAULT_REFERENCE_STRENGTH,
    DEFAULT_UPSCALE,
    DEFAULT_VARIANTS,
    DEFAULTS,
    MAX_BUDGET_USD,
    MAX_NAME,
    MAX_PROMPT,
    MAX_SHOTS,
    PROJECT,
    PUBLISH,
    SEED_LIMIT,
    SHOTS,
    TOP_KEYS,
    Table,
)
from studio.project.paths import UploadRules, read_publish_path, read_reference
from studio.project.reading import read, read_look
from studio.project.schema import (
    ASPECT_SIZES,
    KNOWN_PROVIDERS,
    Invalid,
    Section,
    got,
    slugify,
    toml_location,
)
from studio.project.self_hosted import SelfHosted
from studio.project.specs import ApprovalSpec, Project, PublishSpec, ShotSpec

__all__ = [
    "ASPECT_SIZES",
    "KNOWN_PROVIDERS",
    "MAX_BUDGET_USD",
    "MAX_NAME",
    "MAX_PROMPT",
    "MAX_SHOTS",
    "SEED_LIMIT",
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
DEFAULT_SIZE = ASPECT_SIZES[DEFAULT_ASPECT]


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
    root.reject_unknown(TOP_KEYS)

    project = _table(root, PROJECT)
    # A required field is read or refused, never None.
    name: str = read(project, PROJECT["name"]).strip()
    slug = slugify(name)
    if not slug:
        project.fail("name", "needs at least one letter or digit to derive a folder name")
    seed = read(project, PROJECT["seed"])
    chain = read(project, PROJECT["chain"])
    priority = read(project, PROJECT["priority"]) or DEFAULT_PRIORITY
    client = _read_client(project)
    look = read_look(_table(root, DEFAULTS))
    approval = _read_approval(_table(root, APPROVAL))
    publish = _read_publish(_table(root, PUBLISH), base_dir, uploads)
    budget_usd = read(_table(root, BUDGET), BUDGET["usd"])
    hosted = SelfHosted(base_dir, uploads, check_files)
    hosted.read(root)
    shots = _read_shots(root, look, chain, hosted)
    return Project(
        name=name,
        slug=slug,
        seed=seed,
        chain=chain,
        approval=approval,
        publish=publish,
        budget_usd=budget_usd,
        shots=shots,
        source=source,
        options=hosted.options,
        workflows=hosted.workflows,
        priority=priority,
        client=client,
        cache=read(project, PROJECT["cache"]) is not False,
    )


def _table(root: Section, table: Table) -> Section:
    """The ``[table]`` of the file, refusing keys it does not have; empty when absent (all defaults)."""
    section = root.table(table.name, required=table.required) or Section({}, table.name)
    section.reject_unknown(table.keys, TOP_KEYS)
    return section


def _read_client(section: Section) -> str | None:
    """The fairness key: Temporal takes at most 64 bytes, which the field's length cannot say."""
    client: str | None = read(section, PROJECT["client"])
    if client is not None:
        client = client.strip()
        if len(client.encode("utf-8")) > FAIRNESS_KEY_MAX_BYTES:
            section.fail("client", f"at most {FAIRNESS_KEY_MAX_BYTES} bytes in UTF-8 (got {len(client.encode())})")
    return client


def _read_approval(section: Section) -> ApprovalSpec:
    required = read(section, APPROVAL["required"])
    on_expiry = read(section, APPROVAL["on_expiry"])
    return ApprovalSpec(
        required=bool(required),
        deadline_seconds=read(section, APPROVAL["deadline"]),
        on_expiry=on_expiry or APPROVAL["on_expiry"].default,
        watermark=bool(read(section, APPROVAL["watermark"])),
    )


def _read_publish(section: Section, base_dir: Path, uploads: UploadRules | None) -> PublishSpec:
    target = read(section, PUBLISH["target"]) or PUBLISH["target"].default
    credentials = read(section, PUBLISH["credentials"])
    return PublishSpec(
        target=target,
        path=read_publish_path(section, base_dir, uploads),
        credentials=PUBLISH["credentials"].default if credentials is None else bool(credentials),
    )


def _read_shots(
    root: Section,
    look: dict[str, Any],
    chain: tuple[str, ...] | None,
    hosted: SelfHosted,
) -> tuple[ShotSpec, ...]:
    raw = root.data.get(SHOTS.name)
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
        shot_id: str = read(Section(item, f"shots[{number}]"), SHOTS["id"])
        section = Section(item, shot=shot_id)
        if shot_id in first_seen:
            section.fail("id", f"duplicate shot id (already used by shots[{first_seen[shot_id]}])")
        first_seen[shot_id] = number
        shots.append(_read_shot(shot_id, section, look, chain, hosted))
    return tuple(shots)


def _read_shot(
    shot_id: str,
    section: Section,
    defaults: dict[str, Any],
    chain: tuple[str, ...] | None,
    hosted: SelfHosted,
) -> ShotSpec:
    section.reject_unknown(SHOTS.keys)
    prompt: str = read(section, SHOTS["prompt"])
    look = {**defaults, **read_look(section)}
    width, height = look.get("size", DEFAULT_SIZE)
    shot_chain = read(section, SHOTS["chain"])
    seed = read(section, SHOTS["seed"])
    reference = read_reference(section, hosted.base_dir, check_files=hosted.check_files, uploads=hosted.uploads)
    chain = shot_chain if shot_chain is not None else chain
    return ShotSpec(
        id=shot_id,
        prompt=prompt.strip(),
        negative=look.get("negative", ""),
        width=width,
        height=height,
        variants=look.get("variants", DEFAULT_VARIANTS),
        seed=seed,
        upscale=look.get("upscale", DEFAULT_UPSCALE),
        chain=chain,
        reference=reference,
        style=look.get("style", ""),
        reference_strength=look.get("reference_strength", DEFAULT_REFERENCE_STRENGTH),
        workflow=hosted.shot_workflow(section, chain),
    )
