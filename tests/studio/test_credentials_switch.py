"""A batch's ``[publish] credentials`` switch is read from its project file once, not per shot."""

from __future__ import annotations

from pathlib import Path

from studio.catalog.store import Catalog
from studio.credentials.signing import credentials_wanted
from studio.storage.local import LocalAssetStore
from tests.studio.credential_files import BATCH, add_batch

OFF = '[project]\nname = "Switch read once"\n\n[publish]\ncredentials = false\n'


def test_the_switch_is_read_once_per_project_file(tmp_path: Path) -> None:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    assets = LocalAssetStore(tmp_path / "assets")
    add_batch(catalog, assets, tmp_path / "published", project=OFF)
    batch = catalog.batch(BATCH)
    assert credentials_wanted(catalog, assets, batch) is False

    # Every published shot asks again: a 10,000-shot project file parsed each time made a big
    # batch's per-shot cost grow with its size. The answer stands without the file.
    assets.path(batch.project_key).unlink()

    assert credentials_wanted(catalog, assets, batch) is False
    other = batch.model_copy(update={"project_key": assets.put(b'[project]\nname = "On"\n', "text/plain")})
    assert credentials_wanted(catalog, assets, other) is True
