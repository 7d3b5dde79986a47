"""A project uploaded on the dashboard reads only its own upload and publishes only where allowed.

The CLI keeps its freedom (a project on disk may name any sketch and any output folder); an
upload comes from someone who need not have any other access to the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from studio.batches.launch import prepare_batch
from studio.batches.preview import load_upload, save_upload, upload_folder
from studio.catalog.store import Catalog
from studio.project.loader import ProjectError, load_project
from studio.settings import Settings
from studio.storage import open_asset_store

HEAD = '[project]\nname = "Upload"\n'
ONE_SHOT = '[[shots]]\nid = "s01"\nprompt = "a cat"\n'


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field


@pytest.fixture
def secret_image(tmp_path: Path) -> Path:
    """An image elsewhere on the server that an upload must not read into the asset store."""
    path = tmp_path / "private" / "secret.png"
    path.parent.mkdir()
    Image.new("RGB", (16, 16), "red").save(path)
    return path


def refusal(settings: Settings, text: str) -> str:
    with pytest.raises(ProjectError) as info:
        load_upload(settings, "project.toml", text.encode())
    return str(info.value)


def test_an_upload_may_not_read_images_elsewhere_on_the_server(settings: Settings, secret_image: Path) -> None:
    message = refusal(settings, HEAD + ONE_SHOT + f'reference = "{secret_image}"\n')
    assert message == (
        f"project.toml: shot 's01': field 'reference': must be inside the uploaded project's folder "
        f"(got {secret_image}); a project with sketches is launched from its folder with `studio run`"
    )
    assert "must be inside the uploaded project's folder" in refusal(
        settings, HEAD + ONE_SHOT + 'reference = "../../../private/secret.png"\n'
    )
    assert "must be inside" in refusal(settings, HEAD + ONE_SHOT + 'reference = "~/secret.png"\n')


def test_an_upload_publishes_under_the_published_folder(settings: Settings, tmp_path: Path) -> None:
    message = refusal(settings, HEAD + f'[publish]\npath = "{tmp_path / "anywhere"}"\n' + ONE_SHOT)
    assert message == (
        f"project.toml: field 'publish.path': an uploaded project publishes inside "
        f"{settings.published_dir} (got {tmp_path / 'anywhere'})"
    )
    assert "publishes inside" in refusal(settings, HEAD + '[publish]\npath = "../../etc"\n' + ONE_SHOT)
    project = load_upload(settings, "project.toml", (HEAD + '[publish]\npath = "ep42"\n' + ONE_SHOT).encode())
    assert project.publish.path == str(settings.published_dir / "ep42")  # relative: from the published folder


def test_the_operator_may_allow_more_publish_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = HEAD + f'[publish]\npath = "{tmp_path / "renders" / "client-a"}"\n' + ONE_SHOT
    assert "publishes inside" in refusal(Settings(home=tmp_path / "home", _env_file=None), text)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    monkeypatch.setenv("STUDIO_UPLOAD_PUBLISH_ROOTS", f'["{tmp_path / "renders"}"]')
    settings = Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    assert load_upload(settings, "project.toml", text.encode()).publish.path == str(tmp_path / "renders" / "client-a")


def test_the_cli_keeps_its_freedom(settings: Settings, tmp_path: Path, secret_image: Path) -> None:
    text = HEAD + f'[publish]\npath = "{tmp_path / "anywhere"}"\n' + ONE_SHOT + f'reference = "{secret_image}"\n'
    assert "field 'publish.path'" in refusal(settings, text)  # refused as an upload
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "project.toml").write_text(text)
    project = load_project(folder)  # the same file, launched from its folder
    assert project.shots[0].reference == str(secret_image)
    assert project.publish.path == str(tmp_path / "anywhere")


def test_launching_an_upload_folder_applies_the_upload_rules(settings: Settings, tmp_path: Path) -> None:
    # Whoever hands prepare_batch a folder under HOME/uploads gets the Launch page's rules, not the CLI's.
    data = (HEAD + f'[publish]\npath = "{tmp_path / "anywhere"}"\n' + ONE_SHOT).encode()
    folder = upload_folder(settings, data)
    folder.mkdir(parents=True)
    (folder / "project.toml").write_bytes(data)
    catalog = Catalog.open(settings.catalog_url)
    with pytest.raises(ProjectError, match="an uploaded project publishes inside"):
        prepare_batch(settings, catalog, open_asset_store(settings), folder)
    assert catalog.batches() == []

    good = (HEAD + '[publish]\npath = "ep42"\n' + ONE_SHOT).encode()
    batch, _ = prepare_batch(settings, catalog, open_asset_store(settings), save_upload(settings, "p.toml", good))
    assert Path(batch.output_dir).parent == settings.published_dir / "ep42"
