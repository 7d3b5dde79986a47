"""Published files carry C2PA content credentials that c2pa's own Reader validates: every format,
a provider's signed image kept as the parent ingredient (upscaled too), the recipe signed, files
left alone on re-publish, and none at all when the project says ``credentials = false``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import c2pa
import pytest

from studio.batches.publish import publish_take, unpublish_batch, write_manifest
from studio.catalog.store import Catalog
from studio.credentials.certificates import Signing
from studio.credentials.manifest import PROCEDURAL, RECIPE_LABEL, TRAINED
from studio.credentials.verify import verify_file
from studio.images.containers import blocks, splice
from studio.images.metadata import has_c2pa, read_recipe, read_recipe_file, sidecar_path
from studio.storage.local import LocalAssetStore
from tests.studio.credential_files import (
    BATCH,
    PROMPT,
    H,
    W,
    add_batch,
    add_shot,
    encode,
    provider_signed,
    signing_in,
)
from tests.support.sd_reader import sd_parse

Studio = tuple[Catalog, LocalAssetStore, Path]


@pytest.fixture
def studio(tmp_path: Path) -> Studio:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    return catalog, LocalAssetStore(tmp_path / "assets"), tmp_path / "published" / BATCH


@pytest.fixture
def signing(tmp_path: Path) -> Signing:
    return signing_in(tmp_path / "home")


@pytest.fixture
def vendor(tmp_path: Path) -> Signing:
    """A second certificate: the vendor's, which signs what the provider delivers."""
    return signing_in(tmp_path / "vendor-home")


def _reader(path: Path) -> tuple[str, dict[str, Any]]:
    """c2pa's own verdict on a file: validation state and the active manifest, with ``_signed``:
    its assertions as signed (from the crJSON report, which keeps lists of numbers as numbers)."""
    data = path.read_bytes()
    mime = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}[path.suffix]
    with c2pa.Reader(mime, io.BytesIO(data)) as reader:
        store = json.loads(reader.json())
        signed = {m["label"]: m["assertions"] for m in json.loads(reader.crjson())["manifests"]}
        active = store["active_manifest"]
        return reader.get_validation_state(), store["manifests"][active] | {"_store": store, "_signed": signed[active]}


def _assertion(manifest: dict[str, Any], label: str) -> Any:
    return manifest["_signed"][label]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_every_format_is_published_with_credentials_c2pa_validates(studio: Studio, signing: Signing, fmt: str) -> None:
    catalog, assets, out = studio
    add_batch(catalog, assets, out)
    shot = add_shot(catalog, assets, "s01", encode((200, 120, 40), fmt))

    path = publish_take(catalog, assets, shot, f"{shot}/1", signing=signing)

    state, manifest = _reader(path)
    assert state == "Valid"  # intact; "Trusted" would need a certificate on a trust list
    recipe = read_recipe(path.read_bytes())  # the recipe is still inside the file, outside the manifest
    assert _assertion(manifest, RECIPE_LABEL) == recipe and recipe["take_id"] == f"{shot}/1"
    (action,) = _assertion(manifest, "c2pa.actions.v2")["actions"]
    # The local renderer is procedural, not a trained model: the manifest says so.
    assert action == {"action": "c2pa.created", "digitalSourceType": PROCEDURAL}
    assert manifest["signature_info"]["cert_serial_number"] == signing.serial
    assert not sidecar_path(path).exists()


def test_a_signed_png_still_reads_in_sd_parsers(studio: Studio, signing: Signing) -> None:
    catalog, assets, out = studio
    add_batch(catalog, assets, out)
    shot = add_shot(catalog, assets, "s01", encode((10, 20, 30), "PNG"))

    path = publish_take(catalog, assets, shot, f"{shot}/1", signing=signing)

    assert has_c2pa(path.read_bytes())
    info = sd_parse(path)
    assert info is not None and [p.value for p in info.prompts] == [PROMPT]
    assert info.metadata["Size"] == f"{W}x{H}"


def test_an_upscaled_provider_signed_image_keeps_the_vendor_manifest_as_parent(
    studio: Studio, signing: Signing, vendor: Signing
) -> None:
    catalog, assets, out = studio
    add_batch(catalog, assets, out)
    delivered = provider_signed(encode((30, 60, 200), "PNG"), vendor)
    shot = add_shot(
        catalog, assets, "s01", delivered, provider="gemini", upscaled=encode((1, 2, 3), "PNG", (2 * W, 2 * H))
    )

    path = publish_take(catalog, assets, shot, f"{shot}/1", signing=signing)

    state, manifest = _reader(path)
    assert state == "Valid"
    actions = [a["action"] for a in _assertion(manifest, "c2pa.actions.v2")["actions"]]
    assert actions == ["c2pa.opened", "c2pa.resized"]
    (parent,) = manifest["ingredients"]
    assert parent["relationship"] == "parentOf"
    vendor_manifest = manifest["_store"]["manifests"][parent["active_manifest"]]
    assert vendor_manifest["signature_info"]["cert_serial_number"] == vendor.serial
    failures = parent["validation_results"]["activeManifest"].get("failure", [])
    assert [f["code"] for f in failures] == ["signingCredential.untrusted"]  # valid; its root is on no list
    # studio verify's reading of the same chain.
    found = verify_file(path)
    assert found.intact and [(link.depth, link.valid) for link in found.ingredients] == [(1, True)]
    assert found.ingredients[0].signer is not None and found.ingredients[0].signer.serial == vendor.serial
    assert (
        found.recipe is not None
        and found.recipe["provider_credentials"]["asset_key"] == catalog.take(f"{shot}/1").asset_key
    )


def test_a_provider_signed_image_published_as_delivered_carries_both_manifests(
    studio: Studio, signing: Signing, vendor: Signing
) -> None:
    catalog, assets, out = studio
    add_batch(catalog, assets, out)
    delivered = provider_signed(encode((30, 60, 200), "JPEG"), vendor)
    shot = add_shot(catalog, assets, "s01", delivered, provider="gemini")

    path = publish_take(catalog, assets, shot, f"{shot}/1", signing=signing)

    state, manifest = _reader(path)
    assert state == "Valid"
    assert [a["action"] for a in _assertion(manifest, "c2pa.actions.v2")["actions"]] == ["c2pa.opened"]
    assert manifest["ingredients"][0]["relationship"] == "parentOf"
    # The recipe now goes inside the file: the vendor's manifest is kept inside ours, not broken.
    assert read_recipe(path.read_bytes())["take_id"] == f"{shot}/1" and not sidecar_path(path).exists()


def test_a_vendor_manifest_the_sdk_cannot_read_still_publishes_with_the_image_as_parent(
    studio: Studio, signing: Signing, vendor: Signing
) -> None:
    catalog, assets, out = studio
    add_batch(catalog, assets, out)
    signed = provider_signed(encode((30, 60, 200), "PNG"), vendor)
    (store,) = [b.payload for b in blocks(signed, "png") if b.kind == b"caBX"]
    damaged = store.replace(b"jumd", b"junk", 1)  # the vendor's manifest store, damaged (its CRC fine)
    delivered = splice(signed, "png", drop=lambda b: b.kind == b"caBX", add=[(b"caBX", damaged)])
    shot = add_shot(catalog, assets, "s01", delivered, provider="gemini")

    path = publish_take(catalog, assets, shot, f"{shot}/1", signing=signing)

    found = verify_file(path)
    assert found.intact and found.actions == ["c2pa.opened"]
    (parent,) = found.ingredients
    assert parent.relationship == "parentOf" and parent.signer is None  # no vendor credentials to keep
    assert found.recipe is not None and found.recipe["provider_credentials"] is not None


def test_a_model_render_is_marked_trained_algorithmic_media(studio: Studio, signing: Signing) -> None:
    catalog, assets, out = studio
    add_batch(catalog, assets, out)
    shot = add_shot(catalog, assets, "s01", encode((5, 5, 5), "PNG"), provider="gemini")

    path = publish_take(catalog, assets, shot, f"{shot}/1", signing=signing)

    assert verify_file(path).source_type == TRAINED


def test_republishing_leaves_a_signed_file_alone_until_the_signer_changes(
    studio: Studio, signing: Signing, vendor: Signing
) -> None:
    catalog, assets, out = studio
    add_batch(catalog, assets, out)
    shot = add_shot(catalog, assets, "s01", encode((200, 120, 40), "WEBP"))
    first = publish_take(catalog, assets, shot, f"{shot}/1", signing=signing).read_bytes()

    again = publish_take(catalog, assets, shot, f"{shot}/1", signing=signing)

    assert again.read_bytes() == first and len(catalog.publications(BATCH)) == 1
    write_manifest(catalog, BATCH)
    assert json.loads((out / "manifest.json").read_text())["files"][0]["recipe"] == read_recipe_file(again)
    # Signing as someone else (the creator's own certificate now) signs it again.
    resigned = publish_take(catalog, assets, shot, f"{shot}/1", signing=vendor)
    found = verify_file(resigned)
    assert found.intact and found.signer is not None and found.signer.serial == vendor.serial
    # Unpublish takes the signed file down as before.
    assert resigned in unpublish_batch(catalog, BATCH) and not resigned.exists()


def test_credentials_false_publishes_without_a_manifest(studio: Studio, signing: Signing, vendor: Signing) -> None:
    catalog, assets, out = studio
    add_batch(catalog, assets, out, project='[project]\nname = "Credits"\n\n[publish]\ncredentials = false\n')
    plain = add_shot(catalog, assets, "s01", encode((200, 120, 40), "PNG"))
    delivered = provider_signed(encode((30, 60, 200), "PNG"), vendor)
    signed = add_shot(catalog, assets, "s02", delivered, provider="gemini", position=1)

    path = publish_take(catalog, assets, plain, f"{plain}/1", signing=signing)
    as_delivered = publish_take(catalog, assets, signed, f"{signed}/1", signing=signing)

    assert not has_c2pa(path.read_bytes()) and verify_file(path).state == "none"
    assert read_recipe(path.read_bytes())["take_id"] == f"{plain}/1"
    # As before credentials existed: the vendor's file byte for byte, its recipe beside it.
    assert as_delivered.read_bytes() == delivered and sidecar_path(as_delivered).exists()
