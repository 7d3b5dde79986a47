"""Recipes inside PNG, JPEG and WebP files: written, read back (also by Pillow), pixels untouched,
C2PA-carrying files left alone, and clear errors for files without a readable recipe."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

from studio.images.infotext import recipe_infotext
from studio.images.metadata import (
    RecipeUnreadable,
    embed_recipe,
    has_c2pa,
    read_recipe,
    read_recipe_file,
    sidecar_path,
)

RECIPE: dict[str, Any] = {
    "recipe_version": 1,
    "take_id": "film-a1b2c3/s01/2",
    "batch_id": "film-a1b2c3",
    "shot_id": "s01",
    "provider": "fal",
    "model": "fal-ai/flux/dev",
    "seed": 77,
    "prompt": 'the keeper climbs the stairs, "storm" outside\nwide shot: low angle',
    "negative": "blurry, text",
    "size": [64, 48],
    "params": {"num_inference_steps": 28, "guidance_scale": 3.5},
    "parent_take_id": None,
    "image_sha256": "ab" * 32,
}


def _image(mode: str = "RGB") -> Image.Image:
    im = Image.linear_gradient("L").resize((64, 48))
    rgb = Image.merge("RGB", (im, im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), im.rotate(90).resize((64, 48))))
    if mode == "RGBA":
        rgb.putalpha(im)
    return rgb


def _encode(im: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def _pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.mode, im.size, im.tobytes()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _a1111_user_comment(raw: bytes) -> str:
    """What piexif.helper.UserComment.load (A1111's reader) makes of a UserComment."""
    prefix, body = raw[:8], raw[8:]
    assert prefix == b"UNICODE\x00"
    return body.decode("utf_16_be")


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_png_round_trip_keeps_pixels_and_other_chunks(mode: str) -> None:
    info = PngInfo()
    info.add_text("Author", "the studio's tests")
    original = _encode(_image(mode), "PNG", pnginfo=info)

    result = embed_recipe(original, RECIPE)

    assert result.embedded and not result.needs_sidecar and result.format == "png"
    assert _pixels(result.data) == _pixels(original)
    assert read_recipe(result.data) == RECIPE
    with Image.open(io.BytesIO(result.data)) as im:  # Pillow reads it as any PNG reader would
        assert im.info["parameters"] == recipe_infotext(RECIPE)
        assert json.loads(im.info["studio"]) == RECIPE
        assert im.info["Author"] == "the studio's tests"


def test_embedding_again_replaces_the_recipe_and_is_deterministic() -> None:
    original = _encode(_image(), "PNG")
    first = embed_recipe(original, RECIPE).data
    assert embed_recipe(original, RECIPE).data == first
    changed = {**RECIPE, "seed": 78}
    second = embed_recipe(first, changed).data
    assert read_recipe(second) == changed
    assert second.count(b"parameters") == 1 and second.count(b"iTXtstudio") == 1
    assert embed_recipe(second, RECIPE).data == first


def test_jpeg_round_trip_keeps_pixels_and_exif() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Studio Cam"
    exif[ExifTags.Base.Orientation] = 1
    original = _encode(_image(), "JPEG", quality=90, exif=exif.tobytes())

    result = embed_recipe(original, RECIPE)

    assert result.embedded and result.format == "jpeg"
    assert _pixels(result.data) == _pixels(original)  # spliced, not re-encoded
    assert read_recipe(result.data) == RECIPE
    with Image.open(io.BytesIO(result.data)) as im:
        read_exif = im.getexif()
        assert read_exif[ExifTags.Base.Make] == "Studio Cam"
        comment = read_exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment]
        assert _a1111_user_comment(comment) == recipe_infotext(RECIPE)
        assert b"urn:x-studio:recipe:1" in im.info["xmp"]
    assert embed_recipe(result.data, RECIPE).data == result.data


def test_jpeg_keeps_foreign_xmp() -> None:
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        b'Iptc4xmpExt:DigitalSourceType="trainedAlgorithmicMedia"/></rdf:RDF></x:xmpmeta>'
    )
    original = _encode(_image(), "JPEG", xmp=xmp)
    result = embed_recipe(original, RECIPE)
    assert result.embedded and read_recipe(result.data) == RECIPE
    with Image.open(io.BytesIO(result.data)) as im:
        assert b"trainedAlgorithmicMedia" in im.info["xmp"]


@pytest.mark.parametrize(
    ("mode", "options", "first_chunk"),
    [
        ("RGB", {"quality": 80}, b"VP8 "),  # simple lossy: becomes the extended format
        ("RGBA", {"lossless": True}, b"VP8L"),  # simple lossless with alpha
        ("RGB", {"quality": 80, "exif": b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"}, b"VP8X"),
    ],
)
def test_webp_round_trip(mode: str, options: dict[str, Any], first_chunk: bytes) -> None:
    original = _encode(_image(mode), "WEBP", **options)
    assert original[12:16] == first_chunk
    result = embed_recipe(original, RECIPE)
    assert result.embedded and result.format == "webp" and result.data[12:16] == b"VP8X"
    assert _pixels(result.data) == _pixels(original)
    assert read_recipe(result.data) == RECIPE
    with Image.open(io.BytesIO(result.data)) as im:
        comment = im.getexif().get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment]
        assert _a1111_user_comment(comment) == recipe_infotext(RECIPE)
        assert b"urn:x-studio:recipe:1" in im.info["xmp"]
    assert embed_recipe(result.data, RECIPE).data == result.data


# -- C2PA credentials are never touched --------------------------------------------------------


def _png_with_cabx() -> bytes:
    plain = _encode(_image(), "PNG")
    after_ihdr = 8 + 8 + 13 + 4
    return plain[:after_ihdr] + _png_chunk(b"caBX", b"\x00\x00\x00\x10jumb" + b"c2pa" * 4) + plain[after_ihdr:]


def _jpeg_with_jumbf() -> bytes:
    plain = _encode(_image(), "JPEG")
    # APP11: JPEG XT header ("JP", box instance, sequence), then a JUMBF superbox labelled c2pa.
    description = b"jumd" + b"c2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71" + b"\x03" + b"c2pa\x00"
    box = struct.pack(">I", 8 + 4 + len(description)) + b"jumb" + struct.pack(">I", 4 + len(description)) + description
    payload = b"JP" + b"\x00\x01" + b"\x00\x00\x00\x01" + box
    segment = b"\xff\xeb" + struct.pack(">H", len(payload) + 2) + payload
    return plain[:2] + segment + plain[2:]


def _webp_with_c2pa() -> bytes:
    plain = _encode(_image(), "WEBP", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00")
    chunk = b"C2PA" + struct.pack("<I", 8) + b"jumbc2pa"
    body = plain[8:] + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("make", [_png_with_cabx, _jpeg_with_jumbf, _webp_with_c2pa])
def test_a_file_with_c2pa_credentials_is_left_byte_for_byte(make: Any) -> None:
    original = make()
    assert _pixels(original)  # still a valid image for Pillow
    assert has_c2pa(original)
    result = embed_recipe(original, RECIPE)
    assert not result.embedded and result.needs_sidecar and result.reason == "c2pa"
    assert result.data == original


def test_files_without_c2pa_are_not_mistaken_for_it() -> None:
    assert not has_c2pa(_encode(_image(), "PNG"))
    assert not has_c2pa(_encode(_image(), "JPEG"))
    assert not has_c2pa(b"GIF89a")


def test_other_formats_get_a_sidecar() -> None:
    gif = _encode(_image(), "GIF")
    result = embed_recipe(gif, RECIPE)
    assert result.needs_sidecar and result.reason == "unsupported-format" and result.data == gif


def test_read_recipe_file_falls_back_to_the_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "s01.png"
    path.write_bytes(_png_with_cabx())
    with pytest.raises(RecipeUnreadable):
        read_recipe_file(path)
    sidecar_path(path).write_text(json.dumps(RECIPE))
    assert sidecar_path(path).name == "s01.png.json"
    assert read_recipe_file(path) == RECIPE


# -- files without a readable recipe ----------------------------------------------------------


def test_a_plain_png_carries_no_recipe() -> None:
    with pytest.raises(RecipeUnreadable) as caught:
        read_recipe(_encode(_image(), "PNG"))
    assert str(caught.value) == "this file carries no studio recipe" and caught.value.reason == "missing"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_a_plain_jpeg_or_webp_carries_no_recipe(fmt: str) -> None:
    with pytest.raises(RecipeUnreadable, match="carries no studio recipe"):
        read_recipe(_encode(_image(), fmt))


def test_corrupt_recipe_json_is_reported_as_damaged() -> None:
    info = PngInfo()
    info.add_itxt("studio", '{"prompt": "cut sho', zip=True)
    with pytest.raises(RecipeUnreadable) as caught:
        read_recipe(_encode(_image(), "PNG", pnginfo=info))
    assert caught.value.reason == "damaged-recipe"
    assert str(caught.value) == "this file's studio recipe is damaged and cannot be read"

    info = PngInfo()
    info.add_text("studio", "[1, 2]")  # valid JSON, but not a recipe
    with pytest.raises(RecipeUnreadable, match="damaged"):
        read_recipe(_encode(_image(), "PNG", pnginfo=info))


def test_corrupt_xmp_is_reported_as_damaged() -> None:
    with pytest.raises(RecipeUnreadable, match="damaged"):
        read_recipe(_encode(_image(), "JPEG", xmp=b"<x:xmpmeta <<< not xml"))


def test_damaged_files_and_non_images() -> None:
    png = embed_recipe(_encode(_image(), "PNG"), RECIPE).data
    with pytest.raises(RecipeUnreadable) as caught:
        read_recipe(png[:60])
    assert caught.value.reason == "damaged-file"
    with pytest.raises(RecipeUnreadable) as caught:
        read_recipe(b"not an image at all")
    assert caught.value.reason == "not-an-image" and "not a PNG, JPEG or WebP" in str(caught.value)
    truncated = embed_recipe(png[:60], RECIPE)
    assert not truncated.embedded and truncated.reason == "damaged" and truncated.data == png[:60]


# -- files from AUTOMATIC1111 ------------------------------------------------------------------

A1111_TEXT = (
    "a red fox in snow, detailed\nNegative prompt: lowres\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 123, Size: 64x48, Model: sd15"
)


def test_an_a1111_png_reads_from_its_parameters() -> None:
    info = PngInfo()
    info.add_text("parameters", A1111_TEXT)
    recipe = read_recipe(_encode(_image(), "PNG", pnginfo=info))
    assert recipe["source"] == "infotext" and recipe["prompt"] == "a red fox in snow, detailed"
    assert recipe["negative"] == "lowres" and recipe["seed"] == 123 and recipe["size"] == [64, 48]
    assert recipe["model"] == "sd15" and recipe["params"] == {"steps": 20, "sampler": "Euler a", "cfg": 7.0}


def test_an_a1111_jpeg_reads_from_its_user_comment() -> None:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = b"UNICODE\x00" + A1111_TEXT.encode("utf_16_be")
    recipe = read_recipe(_encode(_image(), "JPEG", exif=exif.tobytes()))
    assert recipe["seed"] == 123 and recipe["prompt"] == "a red fox in snow, detailed"


def test_a_recipe_merged_into_another_description_is_replaced_in_place() -> None:
    # What an XMP editor may leave: our property beside others in one rdf:Description.
    old = json.dumps({**RECIPE, "seed": 1}).replace('"', "&quot;").encode()
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        b'xmlns:studio="urn:x-studio:recipe:1" studio:recipe="' + old + b'"><dc:format>image/jpeg</dc:format>'
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    original = _encode(_image(), "JPEG", xmp=xmp)
    assert read_recipe(original)["seed"] == 1  # the attribute form reads too
    result = embed_recipe(original, RECIPE)
    assert read_recipe(result.data) == RECIPE
    with Image.open(io.BytesIO(result.data)) as im:
        packet = im.info["xmp"]
        assert b"image/jpeg</dc:format>" in packet
        assert packet.count(b"<studio:recipe>") == 1 and b'studio:recipe="' not in packet


# -- EXIF as the spec types it ----------------------------------------------------------------


def _exif_ifd_entries(tiff: bytes) -> dict[int, tuple[int, bytes]]:
    """Tag -> (type, raw value bytes) of the Exif IFD, read straight from the TIFF structure."""
    order = {b"MM": ">", b"II": "<"}[tiff[:2]]
    sizes = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8}

    def ifd(offset: int) -> dict[int, tuple[int, bytes]]:
        (count,) = struct.unpack(order + "H", tiff[offset : offset + 2])
        found = {}
        for n in range(count):
            tag, kind, length, value = struct.unpack(order + "HHI4s", tiff[offset + 2 + 12 * n : offset + 14 + 12 * n])
            size = sizes[kind] * length
            if size > 4:
                (at,) = struct.unpack(order + "I", value)
                value = tiff[at : at + size]
            found[tag] = (kind, value[:size])
        return found

    (first,) = struct.unpack(order + "I", tiff[4:8])
    (pointer,) = struct.unpack(order + "I", ifd(first)[0x8769][1])
    return ifd(pointer)


def _raw_exif(data: bytes) -> bytes:
    """The TIFF structure of a JPEG's APP1 Exif segment or a WebP's EXIF chunk."""
    if data.startswith(b"RIFF"):
        at = data.index(b"EXIF", 12)
        (length,) = struct.unpack("<I", data[at + 4 : at + 8])
        return data[at + 8 : at + 8 + length]
    at = data.index(b"Exif\x00\x00") - 4  # APP1 marker and length come first
    assert data[at : at + 2] == b"\xff\xe1"
    (length,) = struct.unpack(">H", data[at + 2 : at + 4])
    return data[at + 10 : at + 2 + length]


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_user_comment_is_undefined_with_its_charset_prefix(fmt: str) -> None:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[0x9000] = b"0232"  # ExifVersion: UNDEFINED too, which Pillow forgets
    exif[ExifTags.Base.Make] = "Studio Cam"
    data = embed_recipe(_encode(_image(), fmt, exif=exif.tobytes()), RECIPE).data

    entries = _exif_ifd_entries(_raw_exif(data))
    kind, value = entries[ExifTags.Base.UserComment]
    assert kind == 7  # UNDEFINED, as EXIF 2.3 section 4.6.5 says; Pillow alone writes BYTE (1)
    assert value[:8] == b"UNICODE\x00" and value[8:].decode("utf-16-be") == recipe_infotext(RECIPE)
    assert entries[0x9000] == (7, b"0232")


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed (libimage-exiftool-perl)")
@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_exiftool_validate_finds_nothing_wrong_with_the_user_comment(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"shot.{fmt.lower()}"
    path.write_bytes(embed_recipe(_encode(_image(), fmt), RECIPE).data)
    out = subprocess.run(
        ["exiftool", "-validate", "-warning", "-a", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "UserComment" not in out
    read = subprocess.run(["exiftool", "-b", "-UserComment", str(path)], capture_output=True, check=True).stdout
    assert read.decode("utf-8") == recipe_infotext(RECIPE)  # exiftool decodes the UNICODE prefix
