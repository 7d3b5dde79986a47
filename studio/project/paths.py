"""Paths in a project file: a shot's ``reference`` sketch, a ComfyUI ``workflow`` and ``[publish] path``.

All are checked where the project is checked, so a path that cannot work (a NUL, a name too
long for the file system, a sketch too large to decode) is refused before anything starts
instead of failing a batch forever. A project uploaded on the dashboard is held to stricter
rules (:class:`UploadRules`): it may read no file outside its upload and write only where the
operator allows, since whoever uploads it need not have any other access to the server.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from studio.project.display import PATH_SHOW_MAX, show
from studio.project.schema import Section

PATH_MAX = 1024
"""Longest path a project may give, in characters."""
NAME_MAX_BYTES = 255
"""Longest file or folder name in a path, in UTF-8 bytes (ext4, APFS and NTFS all stop near it)."""
MAX_REFERENCE_MEGAPIXELS = 50
"""Largest reference sketch, in megapixels: far above any render size, far below what would
exhaust a worker's memory when decoded (Pillow itself only refuses about 179 MP)."""


@dataclass(frozen=True)
class UploadRules:
    """What a project uploaded on the dashboard may read and write.

    Attributes:
        folder: The upload's own folder: every ``reference`` must resolve inside it.
        published: Where a relative ``publish.path`` starts (the studio's published folder).
        publish_roots: Folders ``publish.path`` must resolve inside (the published folder and
            any the operator allows with ``STUDIO_UPLOAD_PUBLISH_ROOTS``).
    """

    folder: Path
    published: Path
    publish_roots: tuple[Path, ...]


def resolve_path(base_dir: Path, relative: str) -> str:
    """Absolute, normalised path of ``relative`` (``~`` expanded) against the project folder."""
    # abspath rather than resolve(): keep symlinked project folders as the user sees them.
    return os.path.abspath(base_dir / Path(relative.strip()).expanduser())


def shown_path(path: str | os.PathLike[str]) -> str:
    """A path for a message: escaped and shortened, its file name kept."""
    return show(os.fspath(path), limit=PATH_SHOW_MAX, quote=False)


def image_problem(path: str) -> str | None:
    """Why ``path`` cannot serve as a reference sketch, or None when Pillow can read it.

    Only the header and structure are read, never the pixels: a file claiming 30000x30000 is
    refused by its size before anything is decoded.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns (on stderr) past ~89 MP and raises past ~179 MP; the cap below is lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                if width * height > MAX_REFERENCE_MEGAPIXELS * 1_000_000:
                    return (
                        f"image is {width}x{height} pixels ({width * height / 1e6:,.0f} MP); "
                        f"a reference may have at most {MAX_REFERENCE_MEGAPIXELS} MP"
                    )
                im.verify()
    except Image.DecompressionBombError:
        return f"image is larger than Pillow will open; a reference may have at most {MAX_REFERENCE_MEGAPIXELS} MP"
    except (OSError, SyntaxError, ValueError):  # what Pillow raises for unreadable or corrupt files
        return f"not an image Pillow can read: {shown_path(path)}"
    return None


def _inside(path: str, roots: tuple[Path, ...]) -> bool:
    # realpath on both sides: a symlink inside a root that points out of it does not count.
    real = Path(os.path.realpath(path))
    return any(real.is_relative_to(os.path.realpath(root)) for root in roots)


def _path_text(section: Section, key: str) -> str | None:
    """Read a path field: one line, no control characters, every name short enough to create."""
    given = section.text(key, nonempty=True, max_len=PATH_MAX)
    if given is None:
        return None
    for name in Path(given.strip()).parts:
        if len(name.encode("utf-8", "surrogatepass")) > NAME_MAX_BYTES:
            section.fail(key, f"a file or folder name in it is longer than {NAME_MAX_BYTES} bytes ({show(name)})")
    return given


def read_reference(
    section: Section, base_dir: Path, *, check_files: bool = True, uploads: UploadRules | None = None
) -> str | None:
    """Read a shot's ``reference``: the absolute path of a readable image, or None.

    Raises:
        Invalid: A bad path, a missing or unreadable file, an image too large, or (for an
            upload) a file outside the upload's folder.
    """
    found = _input_path(section, "reference", base_dir, uploads, "sketches")
    if found is None:
        return None
    reference = found[1]
    if check_files:
        if not os.path.isfile(reference):
            section.fail("reference", f"file not found: {shown_path(reference)}")
        problem = image_problem(reference)
        if problem is not None:
            section.fail("reference", problem)
    return reference


def read_workflow_path(section: Section, base_dir: Path, uploads: UploadRules | None = None) -> tuple[str, str] | None:
    """Read a ``workflow`` path (a ComfyUI workflow file): ``(as written, absolute path)``, or None.

    The file itself is read and checked by :mod:`studio.project.self_hosted`.

    Raises:
        Invalid: A bad path, or (for an upload) a file outside the upload's folder.
    """
    return _input_path(section, "workflow", base_dir, uploads, "workflows")


def _input_path(
    section: Section, key: str, base_dir: Path, uploads: UploadRules | None, what: str
) -> tuple[str, str] | None:
    """A file the project reads (``key``): ``(as written, absolute path)``, or None when unset.

    An uploaded project may read only files inside its own upload.
    """
    given = _path_text(section, key)
    if given is None:
        return None
    path = resolve_path(base_dir, given)
    if uploads is not None and not _inside(path, (uploads.folder,)):
        section.fail(
            key,
            f"must be inside the uploaded project's folder (got {shown_path(given)}); "
            f"a project with {what} is launched from its folder with `studio run`",
        )
    return given.strip(), path


def read_publish_path(section: Section, base_dir: Path, uploads: UploadRules | None = None) -> str | None:
    """Read ``[publish] path``: the absolute output folder, or None for the studio's choice.

    A relative path starts from the project folder, or for an upload from the studio's
    published folder; an upload's path must stay inside the allowed roots.
    """
    given = _path_text(section, "path")
    if given is None:
        return None
    path = resolve_path(uploads.published if uploads is not None else base_dir, given)
    if uploads is not None and not _inside(path, uploads.publish_roots):
        roots = ", ".join(shown_path(root) for root in uploads.publish_roots)
        section.fail("path", f"an uploaded project publishes inside {roots} (got {shown_path(given)})")
    return path
