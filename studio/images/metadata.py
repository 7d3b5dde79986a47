"""Recipes inside image files: write a take's recipe into a PNG, JPEG or WebP, and read it back.

Each file carries the recipe twice, for two kinds of reader:

- AUTOMATIC1111 infotext (see :mod:`studio.images.infotext`), where image tools look for it: a PNG
  ``parameters`` text chunk; for JPEG and WebP the EXIF ``UserComment`` (UTF-16, as A1111 writes).
- The full studio recipe as JSON, for ``studio`` itself: a PNG ``studio`` iTXt chunk; for JPEG
  and WebP an XMP packet with a ``studio:recipe`` property.

A file that already carries C2PA content credentials is left byte for byte as it came: its
manifest signs a hash of the file, so writing anything into it would break the credentials.
Such a file, and any file this module cannot write into, gets a sidecar ``<file>.json`` from
the caller instead (:attr:`EmbedResult.needs_sidecar`, :func:`sidecar_path`).
"""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

from studio.errors import StudioError
from studio.images.containers import (
    MAX_JPEG_SEGMENT,
    Block,
    MalformedImage,
    blocks,
    c2pa_kind,
    exif_undefined_types,
    image_format,
    png_text,
    splice,
)
from studio.images.infotext import recipe_from_infotext, recipe_infotext

PARAMETERS_KEY = "parameters"
STUDIO_KEY = "studio"
XMP_NS = "urn:x-studio:recipe:1"
_X_NS = "adobe:ns:meta/"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RECIPE_TAG = f"{{{XMP_NS}}}recipe"
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_EXIF_HEADER = b"Exif\x00\x00"
_APP1 = b"\xe1"
_UNICODE, _ASCII = b"UNICODE\x00", b"ASCII\x00\x00\x00"
# What Pillow raises on an EXIF block it cannot parse.
_EXIF_ERRORS = (SyntaxError, ValueError, OSError, struct.error)

for _prefix, _uri in (("x", _X_NS), ("rdf", _RDF_NS), ("studio", XMP_NS)):
    ET.register_namespace(_prefix, _uri)

_MESSAGES = {
    "not-an-image": "this file is not a PNG, JPEG or WebP image, so it carries no studio recipe",
    "missing": "this file carries no studio recipe",
    "damaged-file": "this file is damaged, so its studio recipe cannot be read",
    "damaged-recipe": "this file's studio recipe is damaged and cannot be read",
}


class RecipeUnreadable(StudioError):
    """An image file has no recipe the studio can read.

    Attributes:
        reason: ``"not-an-image"``, ``"missing"``, ``"damaged-file"`` or ``"damaged-recipe"``.
        detail: What exactly went wrong, for logs (not shown to users).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(_MESSAGES[reason])
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class EmbedResult:
    """What :func:`embed_recipe` did.

    Attributes:
        data: The bytes to publish: the image with its recipe, or the input unchanged.
        format: ``"png"``, ``"jpeg"``, ``"webp"``, or ``None`` for another kind of file.
        embedded: Whether ``data`` carries the recipe.
        reason: Why not, when not: ``"c2pa"`` (credentials that a write would break),
            ``"unsupported-format"``, ``"damaged"`` (the container is broken), ``"too-large"``
            (over a JPEG segment's 64 KB) or ``"foreign-metadata"`` (EXIF or XMP already in the
            file that this module cannot parse, and will not overwrite).
        detail: More about ``reason``, for logs.
    """

    data: bytes
    format: str | None
    embedded: bool
    reason: str | None = None
    detail: str = ""

    @property
    def needs_sidecar(self) -> bool:
        """The caller should write the recipe to :func:`sidecar_path` instead."""
        return not self.embedded


class _CannotEmbed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def sidecar_path(path: Path) -> Path:
    """Where the recipe of ``path`` goes when it cannot go inside: ``<file>.json``."""
    return path.with_name(path.name + ".json")


def has_c2pa(image: bytes) -> bool:
    """Whether ``image`` carries C2PA content credentials (PNG ``caBX``, JPEG APP11 JUMBF, WebP ``C2PA``).

    Raises:
        MalformedImage: The file's structure is broken.
    """
    return find_c2pa(image) is not None


def find_c2pa(image: bytes) -> str | None:
    """Where ``image`` carries C2PA content credentials (``"png caBX chunk"``...), ``None`` if nowhere.

    Raises:
        MalformedImage: The file's structure is broken.
    """
    fmt = image_format(image)
    return c2pa_kind(blocks(image, fmt)) if fmt is not None else None


def embed_recipe(image: bytes, recipe: Mapping[str, Any]) -> EmbedResult:
    """Write ``recipe`` into ``image`` without touching its pixels.

    Writing again replaces the recipe written before; other metadata (EXIF tags, foreign XMP,
    ICC profiles, text chunks) is kept. The same image and recipe always give the same bytes.

    Args:
        image: A PNG, JPEG or WebP file.
        recipe: JSON-ready recipe (see :func:`studio.images.recipes.take_recipe`).

    Returns:
        The new bytes, or the input unchanged with the reason it was left alone.
    """
    fmt = image_format(image)
    if fmt is None:
        return EmbedResult(image, None, False, "unsupported-format", "not a PNG, JPEG or WebP file")
    try:
        if c2pa_kind(blocks(image, fmt)) is not None:
            return EmbedResult(image, fmt, False, "c2pa", "the file carries C2PA content credentials")
        writer = {"png": _embed_png, "jpeg": _embed_jpeg, "webp": _embed_webp}[fmt]
        return EmbedResult(writer(image, recipe), fmt, True)
    except MalformedImage as err:
        return EmbedResult(image, fmt, False, "damaged", err.detail)
    except _CannotEmbed as err:
        return EmbedResult(image, fmt, False, err.reason, err.detail)


def read_recipe(image: bytes) -> dict[str, Any]:
    """The recipe inside ``image``.

    The studio's JSON recipe when the file has one; otherwise a partial recipe parsed from
    AUTOMATIC1111 infotext (``"source": "infotext"``), so files from A1111 and tools that copy
    its format read too.

    Raises:
        RecipeUnreadable: Not an image, no recipe, or a recipe or file that is damaged.
    """
    fmt = image_format(image)
    if fmt is None:
        raise RecipeUnreadable("not-an-image")
    try:
        found = blocks(image, fmt)
        reader = {"png": _read_png, "jpeg": _read_jpeg, "webp": _read_webp}[fmt]
        studio_json, infotext = reader(found)
    except MalformedImage as err:
        raise RecipeUnreadable("damaged-file", err.detail) from None
    if studio_json is not None:
        try:
            recipe = json.loads(studio_json)
        except json.JSONDecodeError as err:
            raise RecipeUnreadable("damaged-recipe", str(err)) from None
        if not isinstance(recipe, dict):
            raise RecipeUnreadable("damaged-recipe", f"expected a JSON object, got {type(recipe).__name__}")
        return recipe
    if infotext and infotext.strip():
        return recipe_from_infotext(infotext)
    raise RecipeUnreadable("missing")


def read_recipe_file(path: Path) -> dict[str, Any]:
    """The recipe of a published file: inside it, or else in its sidecar.

    Raises:
        RecipeUnreadable: Neither holds a readable recipe.
        FileNotFoundError: ``path`` does not exist.
    """
    try:
        return read_recipe(path.read_bytes())
    except RecipeUnreadable as err:
        sidecar = sidecar_path(path)
        if err.reason not in ("missing", "not-an-image") or not sidecar.exists():
            raise
        try:
            recipe = json.loads(sidecar.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as bad:
            raise RecipeUnreadable("damaged-recipe", f"{sidecar.name}: {bad}") from None
        if not isinstance(recipe, dict):
            raise RecipeUnreadable("damaged-recipe", f"{sidecar.name}: not a JSON object") from None
        return recipe


# -- per format --------------------------------------------------------------------------------


def _embed_png(image: bytes, recipe: Mapping[str, Any]) -> bytes:
    info = PngInfo()
    info.add_text(PARAMETERS_KEY, recipe_infotext(recipe))  # iTXt by itself if not Latin-1
    info.add_itxt(STUDIO_KEY, json.dumps(recipe, ensure_ascii=False), zip=True)

    return splice(image, "png", drop=_is_ours, add=[(kind, payload) for kind, payload, _after in info.chunks])


def _is_ours(block: Block) -> bool:
    """A PNG text chunk holding the infotext or the studio recipe."""
    if block.kind not in (b"tEXt", b"zTXt", b"iTXt"):
        return False
    return block.payload.split(b"\0", 1)[0] in (PARAMETERS_KEY.encode(), STUDIO_KEY.encode())


def _embed_jpeg(image: bytes, recipe: Mapping[str, Any]) -> bytes:
    found = blocks(image, "jpeg")
    exif, xmp = _first(found, _is_exif), _first(found, _is_xmp)
    exif_payload = _exif_with_comment(exif.payload if exif else None, recipe_infotext(recipe))
    xmp_payload = _XMP_HEADER + _xmp_with_recipe(xmp.payload[len(_XMP_HEADER) :] if xmp else None, recipe)
    if max(len(exif_payload), len(xmp_payload)) > MAX_JPEG_SEGMENT:
        raise _CannotEmbed("too-large", "the recipe does not fit in a 64 KB JPEG segment")
    return splice(
        image, "jpeg", drop=lambda b: _is_exif(b) or _is_xmp(b), add=[(_APP1, exif_payload), (_APP1, xmp_payload)]
    )


def _embed_webp(image: bytes, recipe: Mapping[str, Any]) -> bytes:
    found = blocks(image, "webp")
    exif = _first(found, lambda b: b.kind == b"EXIF")
    xmp = _first(found, lambda b: b.kind == b"XMP ")
    # The WebP EXIF chunk holds the bare TIFF structure, without JPEG's "Exif\0\0" header.
    exif_payload = _exif_with_comment(exif.payload if exif else None, recipe_infotext(recipe))[len(_EXIF_HEADER) :]
    xmp_payload = _xmp_with_recipe(xmp.payload if xmp else None, recipe)
    return splice(
        image,
        "webp",
        drop=lambda b: b.kind in (b"EXIF", b"XMP "),
        add=[(b"EXIF", exif_payload), (b"XMP ", xmp_payload)],
    )


def _read_png(found: list[Block]) -> tuple[str | None, str | None]:
    texts: dict[str, str] = {}
    for block in found:
        if not _is_ours(block):
            continue  # a damaged chunk of someone else's does not make the recipe unreadable
        pair = png_text(block)
        if pair is not None:
            texts.setdefault(pair[0], pair[1])
    return texts.get(STUDIO_KEY), texts.get(PARAMETERS_KEY)


def _read_jpeg(found: list[Block]) -> tuple[str | None, str | None]:
    exif, xmp = _first(found, _is_exif), _first(found, _is_xmp)
    return _read_exif_xmp(exif.payload if exif else None, xmp.payload[len(_XMP_HEADER) :] if xmp else None)


def _read_webp(found: list[Block]) -> tuple[str | None, str | None]:
    exif = _first(found, lambda b: b.kind == b"EXIF")
    xmp = _first(found, lambda b: b.kind == b"XMP ")
    return _read_exif_xmp(exif.payload if exif else None, xmp.payload if xmp else None)


def _read_exif_xmp(exif: bytes | None, xmp: bytes | None) -> tuple[str | None, str | None]:
    studio_json = _xmp_recipe(xmp) if xmp else None
    if studio_json is not None or not exif:
        return studio_json, None
    return None, _user_comment(exif)


def _first(found: list[Block], match: Callable[[Block], bool]) -> Block | None:
    return next((b for b in found if match(b)), None)


def _is_exif(block: Block) -> bool:
    return block.kind == _APP1 and block.payload.startswith(_EXIF_HEADER)


def _is_xmp(block: Block) -> bool:
    return block.kind == _APP1 and block.payload.startswith(_XMP_HEADER)


# -- EXIF --------------------------------------------------------------------------------------


def _exif_with_comment(existing: bytes | None, comment: str) -> bytes:
    """EXIF (with its ``Exif\\0\\0`` header) holding ``comment`` as UserComment, other tags kept."""
    exif = Image.Exif()
    try:
        if existing:
            exif.load(existing)
        # Big-endian with UTF-16BE text: A1111 (via piexif) writes and reads exactly that, and
        # readers that follow the EXIF byte order agree with it.
        exif.endian = ">"
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = _UNICODE + comment.encode("utf-16-be")
        # Pillow writes the comment as BYTE; the EXIF spec says UNDEFINED with the charset prefix.
        return exif_undefined_types(exif.tobytes(), len(_EXIF_HEADER))
    except (*_EXIF_ERRORS, TypeError) as err:
        raise _CannotEmbed("foreign-metadata", f"existing EXIF cannot be rewritten: {err}") from None
    except MalformedImage as err:
        raise _CannotEmbed("foreign-metadata", f"existing EXIF cannot be rewritten: {err.detail}") from None


def _user_comment(data: bytes) -> str | None:
    exif = Image.Exif()
    try:
        exif.load(data)
        raw = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.UserComment)
    except _EXIF_ERRORS as err:
        raise MalformedImage("exif", str(err)) from None
    if raw is None or isinstance(raw, str):
        return raw
    prefix, body = bytes(raw[:8]), bytes(raw[8:])
    if prefix == _UNICODE:
        return body.decode("utf-16-be" if exif.endian == ">" else "utf-16-le", errors="replace")
    if prefix == _ASCII:
        return body.decode("ascii", errors="replace").rstrip("\0")
    return bytes(raw).lstrip(b"\0").decode("utf-8", errors="replace").rstrip("\0")


# -- XMP ---------------------------------------------------------------------------------------


def _xmp_with_recipe(existing: bytes | None, recipe: Mapping[str, Any]) -> bytes:
    """An XMP packet with the recipe; properties of other namespaces in ``existing`` are kept."""
    rdf_tag, description_tag = f"{{{_RDF_NS}}}RDF", f"{{{_RDF_NS}}}Description"
    if existing:
        try:
            root = ET.fromstring(existing.rstrip(b"\0"))  # some writers pad the packet with NULs
        except ET.ParseError as err:
            raise _CannotEmbed("foreign-metadata", f"existing XMP is unreadable: {err}") from None
        rdf = root if root.tag == rdf_tag else root.find(f".//{rdf_tag}")
        if rdf is None:
            raise _CannotEmbed("foreign-metadata", "existing XMP has no rdf:RDF")
        for description in rdf.findall(description_tag):
            for old in description.findall(_RECIPE_TAG):
                description.remove(old)
            description.attrib.pop(_RECIPE_TAG, None)
            if len(description) == 0 and set(description.attrib) <= {f"{{{_RDF_NS}}}about"}:
                rdf.remove(description)
    else:
        root = ET.Element(f"{{{_X_NS}}}xmpmeta")
        rdf = ET.SubElement(root, rdf_tag)
    description = ET.SubElement(rdf, description_tag, {f"{{{_RDF_NS}}}about": ""})
    # ASCII-only JSON: every character is then valid in XML 1.0, whatever the prompt holds.
    ET.SubElement(description, _RECIPE_TAG).text = json.dumps(recipe, ensure_ascii=True)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>{body}<?xpacket end="w"?>'.encode()


def _xmp_recipe(packet: bytes) -> str | None:
    try:
        root = ET.fromstring(packet.rstrip(b"\0"))
    except ET.ParseError as err:
        raise RecipeUnreadable("damaged-recipe", f"XMP: {err}") from None
    for element in root.iter():
        if element.tag == _RECIPE_TAG:
            return element.text or ""
        if _RECIPE_TAG in element.attrib:  # XMP tools may rewrite a simple property as an attribute
            return element.attrib[_RECIPE_TAG]
    return None


__all__ = [
    "EmbedResult",
    "RecipeUnreadable",
    "embed_recipe",
    "find_c2pa",
    "has_c2pa",
    "read_recipe",
    "read_recipe_file",
    "sidecar_path",
]
