"""`studio verify`: what a file's content credentials say, one changed pixel caught, one-line errors
on what is not a signed image, and a replay that still starts from a signed file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.batches.publish import publish_take
from studio.batches.replay import resolve_origin
from studio.catalog.store import Catalog
from studio.cli import main
from studio.credentials.certificates import Signing
from studio.credentials.verify import verify_bytes
from studio.storage.local import LocalAssetStore
from tests.studio.credential_files import (
    BATCH,
    add_batch,
    add_shot,
    encode,
    provider_signed,
    signing_in,
    with_one_pixel_changed,
)


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Signing, Catalog, LocalAssetStore]:
    """An upscaled image of a provider that signs its output, published with credentials."""
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    assets = LocalAssetStore(tmp_path / "assets")
    add_batch(catalog, assets, tmp_path / "published" / BATCH)
    signing, vendor = signing_in(tmp_path / "home"), signing_in(tmp_path / "vendor")
    shot = add_shot(
        catalog,
        assets,
        "s01",
        provider_signed(encode((30, 60, 200), "PNG"), vendor),
        provider="gemini",
        upscaled=encode((1, 2, 3), "PNG", (192, 128)),
    )
    return publish_take(catalog, assets, shot, f"{shot}/1", signing=signing), signing, catalog, assets


def test_verify_prints_signer_recipe_and_the_chain(
    published: tuple[Path, Signing, Catalog, LocalAssetStore], capsys: pytest.CaptureFixture[str]
) -> None:
    path, *_ = published

    code = main(["verify", str(path)])

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(f"{path}: content credentials valid (signer not on a trust list)")
    assert "signed by" in out and "studio install" in out and "no timestamp" in out
    assert "actions    c2pa.opened, c2pa.resized" in out
    assert f"take {BATCH}/s01/1 · gemini" in out and "seed 11" in out
    assert "made from  gemini image (parentOf)" in out and ", valid" in out
    assert "pixels     unchanged since signing" in out


def test_one_changed_pixel_makes_verify_say_so(
    published: tuple[Path, Signing, Catalog, LocalAssetStore], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, *_ = published
    tampered = tmp_path / "tampered.png"
    tampered.write_bytes(with_one_pixel_changed(path.read_bytes()))

    code = main(["verify", str(tampered)])

    out = capsys.readouterr().out
    assert code == 1
    assert "INVALID: the file was changed after signing" in out and "pixels     CHANGED after signing" in out
    assert main(["verify", "--json", str(tampered)]) == 1
    facts = json.loads(capsys.readouterr().out)
    assert facts["changed_after_signing"] is True and facts["state"] == "invalid"
    assert facts["recipe"]["take_id"] == f"{BATCH}/s01/1"  # the manifest still says what it was


def test_verify_json_holds_every_fact(
    published: tuple[Path, Signing, Catalog, LocalAssetStore], capsys: pytest.CaptureFixture[str]
) -> None:
    path, signing, *_ = published

    assert main(["verify", str(path), "--json"]) == 0

    facts = json.loads(capsys.readouterr().out)
    assert facts["state"] == "valid" and facts["changed_after_signing"] is False
    assert facts["signer"]["serial"] == signing.serial
    assert facts["recipe"]["size"] == [96, 64] and facts["recipe"]["upscale"] == 2
    (parent,) = facts["ingredients"]
    assert parent["relationship"] == "parentOf" and parent["valid"] is True and parent["depth"] == 1


def test_a_file_without_credentials_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(encode((9, 9, 9), "JPEG"))

    assert main(["verify", str(plain)]) == 1
    assert capsys.readouterr().out.strip() == f"{plain}: no content credentials"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.png", None, "no such file"),
        ("notes.txt", b"not an image", "this file is not a PNG, JPEG or WebP image"),
        ("folder", "dir", "is a folder, not an image file"),
    ],
)
def test_verify_fails_in_one_line_on_what_is_not_an_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | str | None, message: str
) -> None:
    target = tmp_path / name
    if content == "dir":
        target.mkdir()
    elif isinstance(content, bytes):
        target.write_bytes(content)

    assert main(["verify", str(target)]) == 2

    err = capsys.readouterr().err
    assert err == f"studio: {target}: {message}\n"


def test_a_replay_starts_from_a_signed_file(published: tuple[Path, Signing, Catalog, LocalAssetStore]) -> None:
    path, _signing, catalog, assets = published

    origin = resolve_origin(catalog, assets, str(path))

    assert (origin.take_id, origin.provider, origin.seed) == (f"{BATCH}/s01/1", "gemini", 11)
    assert verify_bytes(path.read_bytes()).intact  # reading the recipe did not touch the file
