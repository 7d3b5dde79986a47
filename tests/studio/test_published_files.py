"""Published files as other tools see them: the PyPI ``sd-parsers`` reads every one, an upscaled
file says how it was upscaled, a provider's signed original is named and kept, and files are
readable like any file the user writes. Every file here is made by the real publish code."""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from studio.batches.publish import CONTACT_SHEET, MANIFEST, publish_take, write_manifest
from studio.catalog.models import Batch, Shot, Take
from studio.catalog.stages import begin_call
from studio.catalog.store import Catalog
from studio.images.metadata import has_c2pa, read_recipe_file, sidecar_path
from studio.storage.local import LocalAssetStore
from tests.support.sd_reader import sd_parse

BATCH = "keeper-d4e5f6"
VERSION = "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637"
PROMPT = 'the keeper climbs the stairs, "storm" outside\nwide shot: low angle'
NEGATIVE = "blurry, text"
W, H = 96, 64


def _encode(colour: tuple[int, int, int], fmt: str, size: tuple[int, int] = (W, H)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def _with_cabx(png: bytes) -> bytes:
    """The PNG with a C2PA manifest store chunk, as a vendor that signs its images sends it."""
    payload = b"\x00\x00\x00\x10jumbc2pa"
    chunk = struct.pack(">I", len(payload)) + b"caBX" + payload + struct.pack(">I", zlib.crc32(b"caBX" + payload))
    return png[:33] + chunk + png[33:]


def _with_jumbf(jpeg: bytes) -> bytes:
    """The JPEG with a C2PA manifest store in APP11 (JPEG XT header, then a JUMBF box labelled c2pa)."""
    description = b"jumd" + b"c2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71" + b"\x03" + b"c2pa\x00"
    box = struct.pack(">I", 12 + len(description)) + b"jumb" + struct.pack(">I", 4 + len(description)) + description
    payload = b"JP\x00\x01\x00\x00\x00\x01" + box
    return jpeg[:2] + b"\xff\xeb" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


# shot id -> (render bytes, provider, model, seed, params, upscaled by: None, "local" or a paid provider)
SHOTS: dict[str, tuple[bytes, str, str, int | None, dict[str, Any], str | None]] = {
    "s01": (_encode((200, 120, 40), "PNG"), "local", "local-procedural-v1", 11, {"renderer": "procedural"}, None),
    "s02": (
        _encode((30, 60, 200), "JPEG"),
        "fal",
        "fal-ai/flux/dev",
        5,
        {"num_inference_steps": 28, "guidance_scale": 3.5, "seed": 5},
        None,
    ),
    "s03": (
        _encode((10, 160, 10), "WEBP"),
        "replicate",
        f"black-forest-labs/flux-dev:{VERSION}",
        7,
        {"aspect_ratio": "3:2", "go_fast": False, "seed": 7},
        None,
    ),
    "s04": (
        _encode((90, 90, 20), "PNG"),
        "mistral",
        "mistral-medium-latest",
        None,
        {"model": "mistral-medium-latest"},
        "local",
    ),
    "s05": (
        _with_cabx(_encode((120, 10, 90), "PNG")),
        "gemini",
        "gemini-2.5-flash-image",
        9,
        {"model": "gemini-2.5-flash-image", "generationConfig": {"seed": 9}},
        "fal",
    ),
    # Signed and not upscaled: published byte for byte (a write would break the credentials).
    "s06": (_with_jumbf(_encode((60, 60, 60), "JPEG")), "gemini", "gemini-2.5-flash-image", 3, {}, None),
}
SIGNED_AS_DELIVERED = {"s06"}


def _store(catalog: Catalog, assets: LocalAssetStore) -> None:
    """Shots and takes as the workers leave them: rendered, some upscaled 2x, reviewed.

    Long because it writes every kind of published file the readers are tested on.
    """
    catalog.add_batch(
        Batch(
            id=BATCH,
            project_name="The Keeper",
            project_slug="keeper",
            project_source="project.toml",
            project_key="0" * 64 + ".txt",
            seed=99,
            output_dir=str(Path(assets.root).parent / "published" / BATCH),
        )
    )
    shots, takes = [], []
    for position, (shot_id, (render, provider, model, seed, params, upscaler)) in enumerate(SHOTS.items()):
        shot_key = f"{BATCH}/{shot_id}"
        with Image.open(io.BytesIO(render)) as im:
            mime = im.get_format_mimetype()
        shots.append(
            Shot(
                key=shot_key,
                batch_id=BATCH,
                shot_id=shot_id,
                position=position,
                prompt=PROMPT,
                negative=NEGATIVE,
                width=W,
                height=H,
                variants=1,
                upscale=2 if upscaler else 1,
                final_take_id=f"{shot_key}/1",
            )
        )
        takes.append(
            Take(
                id=f"{shot_key}/1",
                batch_id=BATCH,
                shot_key=shot_key,
                number=1,
                status="reviewed",
                seed=seed,
                seed_used=seed,
                provider=provider,
                model=model,
                prompt=PROMPT,
                negative=NEGATIVE,
                width=W,
                height=H,
                params=params,
                asset_key=assets.put(render, mime),
            )
        )
    catalog.add_shots(BATCH, shots, takes)
    for take in takes:
        upscaler = SHOTS[take.shot_key.rsplit("/", 1)[1]][5]
        if upscaler is None:
            catalog.update_take(take.id, final_key=take.asset_key)  # what review records without an upscale
            continue
        final = assets.put(_encode((1, 2, 3), "PNG", (2 * W, 2 * H)), "image/png")
        if upscaler == "local":  # in-process and free: the worker writes no attempt row for it
            catalog.update_take(take.id, status="upscaled", final_key=final)
        else:  # a paid upscale: written down before the call, completed with its result
            attempt_id, _ = begin_call(catalog, take.id, stage="upscale", provider=upscaler, attempt=1, price=0.01)
            catalog.complete_attempt(attempt_id, take.id, {"status": "upscaled", "final_key": final})


@pytest.fixture
def studio(tmp_path: Path) -> tuple[Catalog, LocalAssetStore]:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    assets = LocalAssetStore(tmp_path / "assets")
    _store(catalog, assets)
    return catalog, assets


def _publish(catalog: Catalog, assets: LocalAssetStore) -> dict[str, Path]:
    paths = {
        shot.shot_id: publish_take(catalog, assets, shot.key, shot.final_take_id)
        for shot in catalog.shots(BATCH)
        if shot.final_take_id
    }
    write_manifest(catalog, BATCH)
    return paths


def test_sd_parsers_reads_every_published_png_jpeg_and_webp(studio: tuple[Catalog, LocalAssetStore]) -> None:
    paths = _publish(*studio)
    assert sorted(p.suffix for p in paths.values()) == [".jpg", ".jpg", ".png", ".png", ".png", ".webp"]
    for shot_id, path in paths.items():
        if shot_id in SIGNED_AS_DELIVERED:
            assert sd_parse(path) is None and sidecar_path(path).exists()  # the recipe sits beside it
            continue
        _render, _provider, model, seed, _params, upscaler = SHOTS[shot_id]
        info = sd_parse(path)  # the PyPI package, on the file as published
        assert info is not None, f"sd-parsers read nothing from {path.name}"
        assert [p.value for p in info.prompts] == [PROMPT]
        assert [p.value for p in info.negative_prompts] == [NEGATIVE]
        (sampler,) = info.samplers
        assert sampler.parameters.get("seed") == (None if seed is None else str(seed))
        assert info.metadata["Size"] == f"{W}x{H}"  # the render size, also on an upscaled file
        (found,) = info.models
        name, _, version = model.partition(":")
        assert (found.name, found.hash) == (name, version or None)
        if upscaler:
            assert info.metadata["Postprocess upscale by"] == "2"
            assert info.metadata["Postprocess upscaler"] == upscaler
            with Image.open(path) as im:
                assert im.size == (2 * W, 2 * H)
        else:
            assert "Postprocess upscale by" not in info.metadata


def test_the_sampler_line_says_what_the_vendor_used_or_that_it_does_not_say(
    studio: tuple[Catalog, LocalAssetStore],
) -> None:
    paths = _publish(*studio)
    samplers = {}
    for shot_id, path in paths.items():
        if shot_id in SIGNED_AS_DELIVERED:
            continue
        (sampler,) = sd_parse(path).samplers
        samplers[shot_id] = (sampler.name, sampler.parameters.get("steps"), sampler.parameters.get("cfg_scale"))
    assert samplers == {
        "s01": ("none (procedural)", "none", "none"),  # the local renderer does not diffuse at all
        "s02": ("fal (unknown)", "28", "3.5"),  # what the take asked for, read from its params
        "s03": ("replicate (unknown)", "unknown", "unknown"),
        "s04": ("mistral (unknown)", "unknown", "unknown"),
        "s05": ("gemini (unknown)", "unknown", "unknown"),
    }


def test_an_upscale_names_the_providers_signed_original_which_stays_in_the_store(
    studio: tuple[Catalog, LocalAssetStore],
) -> None:
    catalog, assets = studio
    paths = _publish(catalog, assets)
    take = catalog.take(f"{BATCH}/s05/1")

    recipe = read_recipe_file(paths["s05"])

    assert not has_c2pa(paths["s05"].read_bytes())  # new pixels: the vendor's manifest cannot follow
    assert not sidecar_path(paths["s05"]).exists()  # so the recipe could be written inside
    assert recipe["provider_credentials"] == {
        "asset_key": take.asset_key,
        "carries": "C2PA content credentials",
        "where": "png caBX chunk",
        "in_published_file": False,
    }
    assert has_c2pa(assets.get(take.asset_key))  # the signed original, byte for byte
    assert recipe["upscaler"] == "fal" and recipe["final_key"] == take.final_key
    for shot_id in ("s01", "s04"):
        assert read_recipe_file(paths[shot_id])["provider_credentials"] is None
    delivered = catalog.take(f"{BATCH}/s06/1")
    assert paths["s06"].read_bytes() == assets.get(delivered.asset_key)
    assert read_recipe_file(paths["s06"])["provider_credentials"] == {
        "asset_key": delivered.asset_key,
        "carries": "C2PA content credentials",
        "where": "jpeg APP11 JUMBF",
        "in_published_file": True,
    }
    manifest = json.loads((paths["s05"].parent / MANIFEST).read_text())
    assert {line["shot"]: line["recipe"] for line in manifest["files"]}["s05"] == recipe


def test_the_manifest_of_a_file_gone_from_disk_holds_what_the_catalog_knows(
    studio: tuple[Catalog, LocalAssetStore],
) -> None:
    catalog, assets = studio
    paths = _publish(catalog, assets)
    paths["s05"].unlink()
    write_manifest(catalog, BATCH)
    lines = {line["shot"]: line["recipe"] for line in json.loads((paths["s01"].parent / MANIFEST).read_text())["files"]}
    assert lines["s05"]["take_id"] == f"{BATCH}/s05/1" and lines["s05"]["upscaler"] == "fal"
    # Whether the original is signed is only known from the store, which the manifest writer
    # does not read: the key is left out rather than saying "none".
    assert "provider_credentials" not in lines["s05"]
    assert lines["s01"]["provider_credentials"] is None


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_published_files_are_readable_as_the_umask_says(
    studio: tuple[Catalog, LocalAssetStore], mask: int, mode: int
) -> None:
    catalog, assets = studio
    old = os.umask(mask)
    try:
        paths = _publish(catalog, assets)
    finally:
        os.umask(old)
    out = paths["s01"].parent
    written = [*paths.values(), sidecar_path(paths["s06"]), out / MANIFEST, out / CONTACT_SHEET]
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path.name  # mkstemp alone makes them 0600
    assert not list(out.glob(".tmp-*"))  # no temp file left behind
