"""A batch through the real worker publishes files signed with this install's content credentials."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client

from pipelines.client.batches import wait_batch
from studio.catalog.store import Catalog
from studio.credentials.certificates import signing_from_settings
from studio.credentials.verify import verify_file
from studio.images.metadata import read_recipe
from studio.settings import Settings
from tests.support.projects import write_project

TINY = """
[project]
name = "Signed Kites"
seed = 7

[defaults]
size = "256x256"
variants = 1
upscale = 2

[[shots]]
id = "kite"
prompt = "a red kite over a green hill"
"""


async def test_a_batch_publishes_signed_files(
    worker: None, launch, client: Client, catalog: Catalog, settings: Settings, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "kites", TINY))
    assert await wait_batch(client, batch_id) == {"published": 1}

    (publication,) = catalog.publications(batch_id)
    path = Path(publication.path)
    found = verify_file(path)
    assert found.intact and not found.changed_after_signing
    assert found.signer is not None and found.signer.serial == signing_from_settings(settings).serial
    assert found.recipe == read_recipe(path.read_bytes()) and found.recipe["upscale"] == 2
    assert found.actions == ["c2pa.created", "c2pa.resized"]
