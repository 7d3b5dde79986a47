"""The Shot page's "Recipe & lineage" and "Make another like this", against a real worker."""

from __future__ import annotations

from pathlib import Path

from studio.catalog.store import Catalog
from studio.review.sharing import share_url
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.support.projects import write_project
from tests.ui.app_harness import new_app, populate_batch, run, texts, wait_for
from tests.ui.markdown_tables import field_values

PROJECT = """
[project]
name = "Kites"
seed = 11
[defaults]
size = "128x96"
variants = 2
upscale = 1
[[shots]]
id = "kite"
prompt = "a red kite over a green hill"
negative = "people"
"""


def links(at) -> list[str]:
    return [p.value for p in at.page_link]


def batch_links(at) -> list[str]:
    """The batches the page links to (query strings of its links to the Batch page)."""
    return [p.proto.query_string for p in at.page_link if p.proto.page == "batch"]


async def test_shot_page_shows_lineage_and_makes_another_in_each_mode(
    app_env: Settings, worker: None, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = await populate_batch(app_env, catalog, assets, write_project(tmp_path / "p", PROJECT))
    origin = catalog.take(f"{batch_id}/kite/1")

    at = await run(new_app("app_pages/shot.py", shot=f"{batch_id}/kite"))
    assert [e.label for e in at.expander] == ["Recipe & lineage"] * 2
    (recipe, _) = [r for r in (field_values(m.value) for m in at.markdown) if r]  # one per take
    assert recipe["Provider"] == "local" and recipe["Seed"] == str(origin.seed_used)
    assert recipe["Prompt"] == origin.prompt and recipe["Negative"] == "people" and recipe["Size"] == "128×96"
    assert "Its prompt (no parent take)." in texts(at) and "Nothing yet: make another like it below." in texts(at)
    # An exact replay is one image: the count is fixed at 1.
    at.selectbox(key="replay-mode-1").set_value("exact")
    await run(at)
    assert at.number_input(key="replay-count-exact-1").disabled

    # A remix of take 1: two new takes with new seeds and an appended prompt, as a batch of its own.
    at.selectbox(key="replay-mode-1").set_value("remix")
    await run(at)
    at.number_input(key="replay-count-1").set_value(2)
    at.text_input(key="replay-append-1").set_value("at dusk")
    await run(at)
    at.button(key="replay-1").click()
    await run(at)
    assert not at.error, texts(at)
    (replay,) = [b for b in catalog.batches() if b.kind == "replay"]
    assert replay.parent_batch_id == batch_id and replay.project_name == f"remix of {origin.id}"
    assert f"Open the new batch {replay.id}" in links(at)
    takes = catalog.batch_takes(replay.id)
    assert len(takes) == 2 and {t.parent_take_id for t in takes} == {origin.id}
    assert all(t.prompt == f"{origin.prompt}, at dusk" for t in takes)
    await wait_for(lambda: catalog.batch(replay.id).state == "published", "the replay batch to publish")

    # The original take now lists its children; a child lists its parent, both with links.
    at = await run(new_app("app_pages/shot.py", shot=f"{batch_id}/kite"))
    child_links = [label for label in links(at) if label.startswith(f"{replay.id}/")]
    assert len(child_links) == 2 and all(" · approved · local · seed " in label for label in child_links)
    assert f"batch={replay.id}" in batch_links(at)
    child = takes[0]
    at = await run(new_app("app_pages/shot.py", shot=child.shot_key))
    assert any(label.startswith(f"{origin.id} · approved · local") for label in links(at))
    assert f"batch={batch_id}" in batch_links(at)

    # A vary mode on a provider that takes no input image is refused, and nothing is written.
    catalog.update_take(f"{batch_id}/kite/2", provider="mistral")
    at = await run(new_app("app_pages/shot.py", shot=f"{batch_id}/kite"))
    at.selectbox(key="replay-mode-2").set_value("vary-subtle")
    await run(at)
    at.button(key="replay-2").click()
    await run(at)
    (error,) = at.error
    assert error.value.startswith(f"cannot replay {batch_id}/kite/2: mistral cannot start from an image")
    assert len([b for b in catalog.batches() if b.kind == "replay"]) == 1

    # The client's link never offers recipes or replays.
    client = await run(new_app(share=share_url(app_env, batch_id).split("share=", 1)[1]))
    assert not client.expander and not [b for b in client.button if (b.key or "").startswith("replay-")]
