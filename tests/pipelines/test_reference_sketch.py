"""A shot's storyboard sketch reaches the renderer as the image to start from."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from temporalio.client import Client

from pipelines.client.batches import wait_batch
from studio.catalog.store import Catalog
from studio.storage.local import AssetStore
from tests.support.projects import write_project

PROJECT = """
[project]
name = "Sketch test"
seed = 11
[defaults]
size = "64x64"
upscale = 1
[[shots]]
id = "drawn"
prompt = "a boat on a lake"
reference = "sketches/boat.png"
reference_strength = 0.4
[[shots]]
id = "plain"
prompt = "a boat on a lake"
seed = {seed}
"""


async def test_sketch_is_stored_with_the_batch_and_rendered_from(
    worker: None, launch, client: Client, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    folder = tmp_path / "p"
    (folder / "sketches").mkdir(parents=True)
    sketch = Image.new("RGB", (64, 64), "white")
    sketch.paste((0, 0, 0), (8, 40, 56, 48))  # a black hull line
    sketch.save(folder / "sketches" / "boat.png")
    # Render the unsketched twin with the same seed the sketched shot derives, to compare.
    from studio.project.storyboard import derive_seed

    body = PROJECT.format(seed=derive_seed(11, "drawn", 1))
    batch_id = await launch(write_project(folder, body))
    (folder / "sketches" / "boat.png").unlink()  # the batch no longer needs the project folder
    assert await wait_batch(client, batch_id) == {"published": 2}

    drawn, plain = (catalog.takes(f"{batch_id}/{shot}")[0] for shot in ("drawn", "plain"))
    assert drawn.init_key is not None and drawn.strength == 0.4 and drawn.params.get("strength") == 0.4
    assert plain.init_key is None and plain.strength is None
    assert catalog.shot(f"{batch_id}/drawn").reference_key == drawn.init_key
    with Image.open(__import__("io").BytesIO(assets.get(drawn.init_key))) as stored:
        assert stored.size == (64, 64)
    assert drawn.seed == plain.seed and drawn.asset_key != plain.asset_key
