"""The certificate content credentials are signed with: a self-made one made once per install (key
0600), or the creator's own from STUDIO_C2PA_CERT / STUDIO_C2PA_KEY; the key text ends up nowhere
but its own file; and the project's ``[publish] credentials`` switch."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from studio.batches.publish import publish_take, write_manifest
from studio.catalog.store import Catalog
from studio.cli import main
from studio.credentials.certificates import CERT_FILE, FOLDER, KEY_FILE, signing_from_settings
from studio.credentials.errors import CredentialsError
from studio.credentials.verify import verify_file
from studio.images.metadata import read_recipe_file
from studio.project.loader import ProjectError, parse_project
from studio.settings import Settings
from studio.storage.local import LocalAssetStore
from tests.studio.credential_files import BATCH, add_batch, add_shot, encode, provider_signed, signing_in


def _settings(home: Path, **fields: str) -> Settings:
    return Settings(home=home, _env_file=None, **fields)  # type: ignore[call-arg]  # init-only option


def test_a_self_made_certificate_is_made_once_with_a_private_key(tmp_path: Path) -> None:
    first = signing_in(tmp_path)
    again = signing_in(tmp_path)

    key_file = tmp_path / FOLDER / KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert (first.cert_pem, first.serial) == (again.cert_pem, again.serial) and first.self_made
    assert first.key.get_secret_value() == key_file.read_bytes()
    assert "PRIVATE KEY" not in repr(first) and "PRIVATE KEY" not in str(first)
    assert [p.name for p in (tmp_path).iterdir()] == [FOLDER]  # no staging folder left behind


def test_the_creators_own_certificate_from_files_or_text(tmp_path: Path) -> None:
    own = signing_in(tmp_path / "ca")  # any chain the SDK accepts stands in for a CA-issued one
    cert, key = tmp_path / "ca" / FOLDER / CERT_FILE, tmp_path / "ca" / FOLDER / KEY_FILE

    by_path = signing_from_settings(_settings(tmp_path / "home", c2pa_cert=str(cert), c2pa_key=str(key)))
    by_text = signing_from_settings(
        _settings(tmp_path / "home", c2pa_cert=cert.read_text(), c2pa_key=key.read_text(), c2pa_tsa_url="")
    )

    assert by_path.serial == by_text.serial == own.serial and not by_path.self_made
    assert by_text.tsa_url is None  # an empty URL means none: no network
    assert not (tmp_path / "home" / FOLDER).exists()  # nothing self-made when the creator's is set


def test_a_certificate_setting_that_cannot_work_says_why_without_the_key(tmp_path: Path) -> None:
    signing_in(tmp_path / "ca")
    cert = tmp_path / "ca" / FOLDER / CERT_FILE
    stranger = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cases = {
        "STUDIO_C2PA_KEY is not set": _settings(tmp_path, c2pa_cert=str(cert)),
        "the key does not belong to the first certificate": _settings(
            tmp_path, c2pa_cert=str(cert), c2pa_key=stranger.decode()
        ),
        "the key is not an unencrypted PEM private key": _settings(
            tmp_path, c2pa_cert=str(cert), c2pa_key="-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----"
        ),
        "cannot read": _settings(tmp_path, c2pa_cert=str(cert), c2pa_key=str(tmp_path / "nope.pem")),
    }
    for words, settings in cases.items():
        with pytest.raises(CredentialsError) as caught:
            signing_from_settings(settings)
        assert words in str(caught.value) and caught.value.reason == "certificate"
        assert "c2VjcmV0" not in str(caught.value) and stranger.decode().splitlines()[1] not in str(caught.value)


def test_the_key_appears_nowhere_but_its_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    assets = LocalAssetStore(tmp_path / "assets")
    out = tmp_path / "published" / BATCH
    add_batch(catalog, assets, out)
    signing, vendor = signing_in(tmp_path / "home"), signing_in(tmp_path / "vendor")
    shots = [
        add_shot(catalog, assets, "s01", encode((1, 1, 1), "PNG")),
        add_shot(catalog, assets, "s02", provider_signed(encode((2, 2, 2), "JPEG"), vendor), provider="gemini"),
    ]
    paths = [publish_take(catalog, assets, shot, f"{shot}/1", signing=signing) for shot in shots]
    write_manifest(catalog, BATCH)
    for path in paths:
        assert main(["verify", "--json", str(path)]) == 0

    # Every line of the key's body, in every place the studio writes or prints.
    secret_lines = [
        line.encode() for line in signing.key.get_secret_value().decode().splitlines() if "-----" not in line
    ]
    everywhere = [
        (tmp_path / "catalog.db").read_bytes(),
        (out / "manifest.json").read_bytes(),
        *(p.read_bytes() for p in paths),
        *(str(read_recipe_file(p)).encode() for p in paths),
        *(p.read_bytes() for p in (tmp_path / "assets").rglob("*") if p.is_file()),
        caplog.text.encode(),
        str(capsys.readouterr()).encode(),
    ]
    assert secret_lines and all(line not in blob for line in secret_lines for blob in everywhere)
    assert all(verify_file(p).intact for p in paths)


def test_the_project_switch_reads_and_defaults_on(tmp_path: Path) -> None:
    shots = '\n[[shots]]\nid = "s"\nprompt = "p"\n'

    def parse(publish: str) -> bool:
        text = f'[project]\nname = "A"\n{publish}{shots}'
        return parse_project(text, source="project.toml", base_dir=tmp_path).publish.credentials

    assert parse("") is True and parse("\n[publish]\ncredentials = false\n") is False
    with pytest.raises(ProjectError, match="credentials"):
        parse('\n[publish]\ncredentials = "no"\n')
