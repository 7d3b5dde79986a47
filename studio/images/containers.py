"""The containers of PNG, JPEG and WebP files, at the byte level: list their metadata blocks, and
add or drop blocks without touching the image data.

Publishing writes a recipe into a file by splicing blocks in rather than re-encoding through an
image library: a JPEG or lossy WebP saved again loses quality every time, and even a PNG saved
again changes bytes, compression and any chunk the library does not know. Splicing leaves every
other byte as it was, so the pixels are those that were rendered.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from studio.errors import StudioError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8"
_SOS, _EOI = 0xDA, 0xD9
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RST0..7 carry no length
MAX_JPEG_SEGMENT = 65533  # the 16-bit length counts itself

# VP8X flag bits (WebP container spec, "Extended File Format").
WEBP_ALPHA, WEBP_EXIF, WEBP_XMP = 0x10, 0x08, 0x04

_APP11 = b"\xeb"
_TIFF_BYTE, _TIFF_UNDEFINED = 1, 7
_EXIF_IFD_POINTER = 0x8769
# Exif IFD tags the EXIF spec (CIPA DC-008) types UNDEFINED: ExifVersion, ComponentsConfiguration,
# MakerNote, UserComment, FlashpixVersion, FileSource, SceneType, CFAPattern.
EXIF_UNDEFINED_TAGS = frozenset({0x9000, 0x9101, 0x927C, 0x9286, 0xA000, 0xA300, 0xA301, 0xA302})


class MalformedImage(StudioError):
    """The bytes say PNG, JPEG or WebP but their structure is broken.

    Attributes:
        fmt: ``"png"``, ``"jpeg"``, ``"webp"`` (or ``"exif"`` for an EXIF block).
        detail: What is wrong, for logs.
    """

    def __init__(self, fmt: str, detail: str) -> None:
        super().__init__(f"this {fmt.upper()} data is damaged ({detail})")
        self.fmt = fmt
        self.detail = detail


@dataclass(frozen=True)
class Block:
    """One chunk (PNG, WebP) or marker segment (JPEG).

    Attributes:
        kind: PNG/WebP chunk type (``b"tEXt"``, ``b"XMP "``) or, for JPEG, the marker byte
            as one byte (``b"\\xe1"`` is APP1).
        payload: The block's data, without its header, length or CRC.
        start: Offset of the whole block in the file.
        end: Offset just past it (padding included).
    """

    kind: bytes
    payload: bytes
    start: int
    end: int


def image_format(data: bytes) -> str | None:
    """``"png"``, ``"jpeg"`` or ``"webp"`` from the file's first bytes; ``None`` otherwise."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(_JPEG_SOI + b"\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def blocks(data: bytes, fmt: str) -> list[Block]:
    """The blocks of a ``fmt`` file; for JPEG, the segments before the image data.

    Raises:
        MalformedImage: A length runs past the end of the file, or a marker is missing.
    """
    reader = {"png": _png_blocks, "jpeg": _jpeg_blocks, "webp": _webp_blocks}[fmt]
    return list(reader(data))


def splice(data: bytes, fmt: str, *, drop: Callable[[Block], bool], add: Sequence[tuple[bytes, bytes]]) -> bytes:
    """A copy of the file without the blocks ``drop`` selects and with ``add`` (kind, payload).

    Where new blocks go: PNG before the first IDAT (readers that stop at the image data still
    see them); JPEG after SOI and any APP0 (JFIF must stay first); WebP at the end, as the
    extended format orders EXIF and XMP after the image, with the VP8X flags set for them.
    """
    found = blocks(data, fmt)
    if fmt == "png":
        return _png_splice(data, found, drop, add)
    if fmt == "jpeg":
        return _jpeg_splice(data, found, drop, add)
    return _webp_splice(data, found, drop, add)


def c2pa_kind(found: Sequence[Block]) -> str | None:
    """Where C2PA content credentials sit among a file's blocks, or ``None`` when there are none.

    Returns:
        ``"png caBX chunk"``, ``"jpeg APP11 JUMBF"`` or ``"webp C2PA chunk"``.
    """
    for block in found:
        if block.kind == b"caBX":
            return "png caBX chunk"
        if block.kind == b"C2PA":
            return "webp C2PA chunk"
        # Only the first APP11 segment of a manifest store names "c2pa".
        if is_c2pa_block(block) and b"c2pa" in block.payload:
            return "jpeg APP11 JUMBF"
    return None


def is_c2pa_block(block: Block) -> bool:
    """Whether ``block`` holds (part of) C2PA credentials: a PNG ``caBX`` chunk, a WebP ``C2PA``
    chunk, or a JPEG APP11 segment of JUMBF boxes (common identifier "JP"; a manifest store may
    spread over several)."""
    return block.kind in (b"caBX", b"C2PA") or (block.kind == _APP11 and block.payload[:2] == b"JP")


def without_c2pa(image: bytes) -> bytes:
    """``image`` with any C2PA credentials taken out, every other byte kept; ``image`` itself when
    it carries none, or when its structure is too broken to take them out (whoever reads it next
    reports that)."""
    fmt = image_format(image)
    try:
        if fmt is None or c2pa_kind(blocks(image, fmt)) is None:
            return image
        return splice(image, fmt, drop=is_c2pa_block, add=[])
    except MalformedImage:
        return image


def exif_undefined_types(exif: bytes, start: int = 0) -> bytes:
    """``exif`` with the Exif IFD's BYTE entries that the EXIF spec types UNDEFINED retyped so.

    Pillow writes every ``bytes`` value it has no type for as BYTE (type 1), and loses the type
    of such tags when it rewrites EXIF it read, while the spec (and ``exiftool -validate``) want
    UNDEFINED (type 7) for :data:`EXIF_UNDEFINED_TAGS`, ``UserComment`` among them. Both types
    store one byte per count, so only the two type bytes of each entry change.

    Args:
        exif: EXIF data: a TIFF structure starting at ``start`` (6 after JPEG's ``Exif\0\0``).
        start: Offset of the TIFF header in ``exif``.

    Raises:
        MalformedImage: The TIFF structure is broken.
    """
    order = {b"MM": ">", b"II": "<"}.get(exif[start : start + 2])
    if order is None or len(exif) < start + 8:
        raise MalformedImage("exif", "no TIFF header")
    out = bytearray(exif)

    def entries(ifd: int) -> Iterator[tuple[int, int, int]]:
        """(position, tag, type) of each entry of the IFD at TIFF offset ``ifd``."""
        position = start + ifd
        if position + 2 > len(exif):
            raise MalformedImage("exif", f"IFD at {ifd} runs past the end")
        (count,) = struct.unpack(order + "H", exif[position : position + 2])
        if position + 2 + 12 * count > len(exif):
            raise MalformedImage("exif", f"IFD at {ifd} runs past the end")
        for index in range(count):
            entry = position + 2 + 12 * index
            tag, kind = struct.unpack(order + "HH", exif[entry : entry + 4])
            yield entry, tag, kind

    (first,) = struct.unpack(order + "I", exif[start + 4 : start + 8])
    for entry, tag, _kind in entries(first):
        if tag != _EXIF_IFD_POINTER:
            continue
        (exif_ifd,) = struct.unpack(order + "I", exif[entry + 8 : entry + 12])
        for sub, sub_tag, sub_kind in entries(exif_ifd):
            if sub_tag in EXIF_UNDEFINED_TAGS and sub_kind == _TIFF_BYTE:
                out[sub + 2 : sub + 4] = struct.pack(order + "H", _TIFF_UNDEFINED)
    return bytes(out)


def png_text(block: Block) -> tuple[str, str] | None:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk; ``None`` for other chunks.

    Raises:
        MalformedImage: The chunk's layout or compression is broken.
    """
    if block.kind not in (b"tEXt", b"zTXt", b"iTXt"):
        return None
    keyword, sep, rest = block.payload.partition(b"\0")
    if not sep:
        raise MalformedImage("png", f"{block.kind.decode()} chunk without a keyword")
    try:
        if block.kind == b"tEXt":
            return keyword.decode("latin-1"), rest.decode("latin-1")
        if block.kind == b"zTXt":
            return keyword.decode("latin-1"), zlib.decompress(rest[1:]).decode("latin-1")
        compressed, _method = rest[:1] == b"\x01", rest[1:2]
        _lang, _, rest = rest[2:].partition(b"\0")
        _translated, _, text = rest.partition(b"\0")
        raw = zlib.decompress(text) if compressed else text
        return keyword.decode("latin-1"), raw.decode("utf-8")
    except (zlib.error, UnicodeDecodeError) as err:
        raise MalformedImage("png", f"{keyword.decode('latin-1')!r} text chunk: {err}") from None


def _png_blocks(data: bytes) -> Iterator[Block]:
    position = len(PNG_SIGNATURE)
    while position < len(data):
        if position + 12 > len(data):
            raise MalformedImage("png", "a chunk is cut short")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if end > len(data):
            raise MalformedImage("png", f"chunk {kind!r} runs past the end of the file")
        yield Block(kind, data[position + 8 : end - 4], position, end)
        if kind == b"IEND":
            return
        position = end
    raise MalformedImage("png", "no IEND chunk")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_splice(
    data: bytes, found: list[Block], drop: Callable[[Block], bool], add: Sequence[tuple[bytes, bytes]]
) -> bytes:
    if not any(b.kind == b"IDAT" for b in found):
        raise MalformedImage("png", "no image data (IDAT)")
    out = [PNG_SIGNATURE]
    added = False
    for block in found:
        if block.kind == b"IDAT" and not added:
            out.extend(_png_chunk(kind, payload) for kind, payload in add)
            added = True
        if not drop(block):
            out.append(data[block.start : block.end])
    return b"".join(out)


def _jpeg_blocks(data: bytes) -> Iterator[Block]:
    position = 2
    while True:
        if position + 2 > len(data) or data[position] != 0xFF:
            raise MalformedImage("jpeg", f"expected a marker at byte {position}")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _STANDALONE:
            yield Block(bytes([marker]), b"", position, position + 2)
            position += 2
            continue
        if marker in (_SOS, _EOI):
            return  # what follows is entropy-coded image data: copied, never parsed
        if position + 4 > len(data):
            raise MalformedImage("jpeg", "a segment is cut short")
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise MalformedImage("jpeg", f"segment 0x{marker:02X} runs past the end of the file")
        yield Block(bytes([marker]), data[position + 4 : end], position, end)
        position = end


def _jpeg_splice(
    data: bytes, found: list[Block], drop: Callable[[Block], bool], add: Sequence[tuple[bytes, bytes]]
) -> bytes:
    for _kind, payload in add:
        if len(payload) > MAX_JPEG_SEGMENT:
            raise ValueError(f"a JPEG segment holds at most {MAX_JPEG_SEGMENT} bytes (got {len(payload)})")
    new = b"".join(b"\xff" + kind + struct.pack(">H", len(payload) + 2) + payload for kind, payload in add)
    out = [_JPEG_SOI]
    insert_at = 0
    while insert_at < len(found) and found[insert_at].kind == b"\xe0":
        insert_at += 1
    for index, block in enumerate(found):
        if index == insert_at:
            out.append(new)
        if not drop(block):
            out.append(data[block.start : block.end])
    if insert_at == len(found):
        out.append(new)
    out.append(data[found[-1].end if found else 2 :])
    return b"".join(out)


def _webp_blocks(data: bytes) -> Iterator[Block]:
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 > len(data):
        raise MalformedImage("webp", "the RIFF size runs past the end of the file")
    limit, position = riff_size + 8, 12
    while position < limit:
        if position + 8 > limit:
            raise MalformedImage("webp", "a chunk is cut short")
        kind, length = struct.unpack("<4sI", data[position : position + 8])
        end = position + 8 + length
        if end > limit:
            raise MalformedImage("webp", f"chunk {kind!r} runs past the end of the file")
        yield Block(kind, data[position + 8 : end], position, end + (length & 1))
        position = end + (length & 1)


def _webp_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def _webp_splice(
    data: bytes, found: list[Block], drop: Callable[[Block], bool], add: Sequence[tuple[bytes, bytes]]
) -> bytes:
    if not found:
        raise MalformedImage("webp", "no chunks")
    flags = {b"EXIF": WEBP_EXIF, b"XMP ": WEBP_XMP}
    kept = [b for b in found if not drop(b)]
    present = {b.kind for b in kept} | {kind for kind, _ in add}
    wanted = sum(bit for kind, bit in flags.items() if kind in present)
    first = found[0]
    if first.kind == b"VP8X":
        vp8x = bytearray(first.payload)
        vp8x[0] = (vp8x[0] & ~(WEBP_EXIF | WEBP_XMP)) | wanted
        body = [_webp_chunk(b"VP8X", bytes(vp8x))] + [data[b.start : b.end] for b in kept if b.kind != b"VP8X"]
    else:
        # A simple-format file (one VP8 or VP8L chunk) has no room for metadata: it becomes
        # the extended format, which only adds a VP8X header saying the canvas size.
        width, height, alpha = _webp_canvas(first)
        header = struct.pack("<B3s", wanted | (WEBP_ALPHA if alpha else 0), b"\0\0\0")
        header += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        body = [_webp_chunk(b"VP8X", header)] + [data[b.start : b.end] for b in kept]
    body.extend(_webp_chunk(kind, payload) for kind, payload in add)
    content = b"WEBP" + b"".join(body)
    return b"RIFF" + struct.pack("<I", len(content)) + content


def _webp_canvas(block: Block) -> tuple[int, int, bool]:
    payload = block.payload
    if block.kind == b"VP8 " and len(payload) >= 10 and payload[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", payload[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if block.kind == b"VP8L" and len(payload) >= 5 and payload[0] == 0x2F:
        (bits,) = struct.unpack("<I", payload[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise MalformedImage("webp", f"unexpected first chunk {block.kind!r}")


__all__ = [
    "EXIF_UNDEFINED_TAGS",
    "Block",
    "MalformedImage",
    "blocks",
    "c2pa_kind",
    "exif_undefined_types",
    "image_format",
    "is_c2pa_block",
    "png_text",
    "splice",
    "without_c2pa",
]
