"""The render cache without Temporal: the recipe's key, which providers may reuse, and the catalog step
that reuses an earlier identical render instead of writing a call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from studio.batches.launch import prepare_batch
from studio.catalog.models import Take
from studio.catalog.render_cache import find_cached
from studio.catalog.stages import begin_render
from studio.catalog.store import Catalog
from studio.catalog.tables import BATCH, TAKE
from studio.rendering.cache import cacheable, recipe_hash, take_recipe_hash
from studio.settings import Settings
from studio.states import TakeStatus
from studio.storage import AssetStore
from studio.views.cache_savings import cache_line, cache_savings
from studio.views.lineage import recipe_rows
from tests.studio.catalog_rows import add_batch
from tests.support.projects import write_project

RECIPE: dict[str, Any] = dict(
    provider="replicate",
    model="black-forest-labs/flux-schnell",
    seed=7,
    prompt="a lighthouse at dusk",
    negative="text",
    width=1344,
    height=768,
    params={"num_inference_steps": 4},
    init_key="sketch.png",
    mask_key="mask.png",
    strength=0.6,
    workflow_sha256="ab" * 32,
)
CHANGED: dict[str, Any] = dict(
    provider="fal",
    model="black-forest-labs/flux-dev",
    seed=8,
    prompt="a lighthouse at dawn",
    negative="",
    width=1024,
    height=1024,
    params={"num_inference_steps": 5},
    init_key="other.png",
    mask_key=None,
    strength=0.7,
    workflow_sha256="cd" * 32,
)


def test_the_hash_is_stable_and_ignores_key_order() -> None:
    first = recipe_hash(**RECIPE)
    assert first == recipe_hash(**{**RECIPE, "params": {"num_inference_steps": 4}})
    assert len(first) == 64 and int(first, 16) >= 0
    reordered = recipe_hash(**{**RECIPE, "params": {"b": 1, "a": [1, 2]}})
    assert reordered == recipe_hash(**{**RECIPE, "params": {"a": [1, 2], "b": 1}})
    # Pinned: the key may only change on purpose (RECIPE_VERSION), or every cached render is lost.
    assert first == "69146afe28f4081b59d11e6b02ef357fbc49dc21582a25fb67bfe76577d6a3ce"


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_every_field_of_the_recipe_changes_the_hash(field: str) -> None:
    assert recipe_hash(**RECIPE) != recipe_hash(**{**RECIPE, field: CHANGED[field]})


def test_only_seeded_providers_that_reproduce_exactly_are_cacheable() -> None:
    assert all(cacheable(name) for name in ("local", "replicate", "fal", "comfyui", "a1111", "forge"))
    assert not any(cacheable(name) for name in ("mistral", "pixtral", "gemini", "nobody"))


def _take(**fields: Any) -> Take:
    base: dict[str, Any] = dict(id="b/s/1", batch_id="b", shot_key="b/s", number=1, prompt="p", width=64, height=64)
    return Take(**{**base, "seed": 3, **fields})


def test_a_take_is_hashed_as_the_provider_would_get_it() -> None:
    take = _take(params={"providers": {"comfyui": {"workflow": f"{'ab' * 32}.json", "steps": 30}}})
    assert take_recipe_hash(take, "mistral", "mistral-medium-latest") is None  # never cached
    assert take_recipe_hash(_take(seed=None), "local", "local-procedural-v2") is None  # the vendor would draw one
    comfy = take_recipe_hash(take, "comfyui", "workflow")
    assert comfy is not None and comfy != take_recipe_hash(take, "local", "local-procedural-v2")
    # The other provider's options are not this provider's recipe.
    assert take_recipe_hash(take, "local", "m") == take_recipe_hash(_take(), "local", "m")
    # A1111 renders with the node's loaded checkpoint unless the take names one.
    assert take_recipe_hash(_take(), "a1111", "checkpoint") is None
    named = _take(params={"providers": {"a1111": {"checkpoint": "sdxl"}}})
    assert take_recipe_hash(named, "a1111", "checkpoint") is not None
    assert take_recipe_hash(take, "local", "m") != take_recipe_hash(take, "local", "other-model")


# -- the catalog step ---------------------------------------------------------------------------


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")


def _rendered(catalog: Catalog, take_id: str, key: str, *, reproducible: bool = True) -> None:
    """Mark ``take_id`` rendered by local with recipe ``key``, as the render activity stores it."""
    with catalog.engine.begin() as conn:
        conn.execute(
            update(TAKE)
            .where(TAKE.c.id == take_id)
            .values(
                status=TakeStatus.REVIEWED,
                provider="replicate",
                model="black-forest-labs/flux-schnell",
                seed_used=1,
                reproducible=reproducible,
                params={"renderer": "x"},
                asset_key="img.png",
                recipe_hash=key,
            )
        )


def _begin(catalog: Catalog, take_id: str, key: str | None = "k1") -> Any:
    return begin_render(catalog, take_id, provider="replicate", attempt=1, recipe=lambda _take: key)


def test_an_identical_earlier_render_is_reused_without_a_call(catalog: Catalog) -> None:
    first, second = add_batch(catalog, 2)
    _rendered(catalog, first, "k1")
    start = _begin(catalog, second)
    assert start.done and start.cached_from == first and start.attempt_id is None
    take = catalog.take(second)
    assert (take.status, take.asset_key, take.cached_from, take.recipe_hash) == ("rendered", "img.png", first, "k1")
    assert (take.provider, take.model, take.seed_used, take.params, take.cost_usd) == (
        "replicate",
        "black-forest-labs/flux-schnell",
        1,
        {"renderer": "x"},
        0.0,
    )
    assert catalog.attempts(take_id=second) == []
    again = _begin(catalog, second)  # a retried activity finds the take done, and copies nothing again
    assert again.done and catalog.take(second).cached_from == first
    with catalog.engine.connect() as conn:
        source = find_cached(conn, "k1")
    assert source is not None and source.id == first
    savings = cache_savings(catalog.batch_takes("b-1"), enabled=True)
    assert (savings.takes, savings.saved_usd) == (1, 0.003)
    assert cache_line(savings) == "render cache: 1 take reused from earlier identical takes (saved $0.003)"


@pytest.mark.parametrize("why", ["other recipe", "not reproducible", "no cache", "no hash"])
def test_no_reuse_without_a_reproducible_identical_render_and_the_batch_s_consent(catalog: Catalog, why: str) -> None:
    first, second = add_batch(catalog, 2)
    _rendered(catalog, first, "k2" if why == "other recipe" else "k1", reproducible=why != "not reproducible")
    if why == "no cache":
        with catalog.engine.begin() as conn:
            conn.execute(update(BATCH).values(use_cache=False))
    start = _begin(catalog, second, None if why == "no hash" else "k1")
    assert not start.done and start.attempt_id is not None and start.cached_from is None
    assert catalog.take(second).cached_from is None
    assert start.recipe_hash == (None if why == "no hash" else "k1")  # stored with the render, for later takes


def test_the_recipe_says_where_a_reused_image_came_from() -> None:
    rows = dict(recipe_rows(_take(provider="local", cached_from="a-1/s/1", asset_key="img.png")))
    assert rows["Render"] == "from cache: a-1/s/1 (same recipe, not rendered again, no cost)"
    assert "Render" not in dict(recipe_rows(_take(provider="local", asset_key="img.png")))


@pytest.mark.parametrize(
    ("line", "flag", "expected"),
    [("", None, True), ("cache = false", None, False), ("cache = true", False, False), ("", False, False)],
)
def test_cache_false_or_no_cache_turns_the_cache_off_for_the_batch(
    settings: Settings,
    catalog: Catalog,
    assets: AssetStore,
    tmp_path: Path,
    line: str,
    flag: bool | None,
    expected: bool,
) -> None:
    body = f'[project]\nname = "c"\n{line}\n[[shots]]\nid = "a"\nprompt = "p"\n'
    batch, project = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", body), use_cache=flag)
    assert project.cache is (line != "cache = false")
    assert catalog.batch(batch.id).use_cache is expected
