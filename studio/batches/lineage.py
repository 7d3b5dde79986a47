"""Where a take came from and what was made from it; searching takes.

Plain reads of the catalog (no Temporal): ``studio show`` and ``studio find`` print what these
return, and the dashboard can draw the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.catalog.models import Take
from studio.catalog.store import Catalog
from studio.errors import NotFound
from studio.images.recipes import provider_credentials, recipe_of
from studio.states import TakeStatus
from studio.storage.local import AssetMissing, AssetStore, AssetStoreError

# A take replayed in a loop for hours could have thousands of descendants: show the first ones.
MAX_DESCENDANTS = 200


@dataclass(frozen=True)
class LineageNode:
    """A take made from another one, with what was made from it in turn.

    Attributes:
        take: The take.
        children: Takes made from it, oldest first.
    """

    take: Take
    children: tuple[LineageNode, ...] = ()

    def count(self) -> int:
        """This take and all its descendants shown."""
        return 1 + sum(child.count() for child in self.children)


@dataclass(frozen=True)
class Lineage:
    """One take's recipe, its ancestry and its descendants.

    Attributes:
        take: The take asked about.
        recipe: Its recipe (:func:`studio.images.recipes.recipe_of`).
        parents: Its parent, its parent's parent... nearest first, as far as this catalog knows.
        missing_parent: The first ancestor id this catalog does not hold (the take was replayed
            from a file made elsewhere, or the row is gone); the chain stops there.
        cycle_at: An ancestor id met twice (a corrupt catalog); the chain stops before repeating.
        children: Takes replayed or varied from this one, each with its own, oldest first.
        truncated: More descendants exist than :data:`MAX_DESCENDANTS`; only the first are shown.
        published: Files live in an output folder that were made from this take.
        provider_credentials: The provider's original when it carries C2PA credentials
            (:func:`studio.images.recipes.provider_credentials`); ``None`` when it carries none or
            the asset store was not read.
        credentials_unknown: Why the render could not be checked for credentials (not in the
            asset store, or the store cannot be read); ``None`` when it was, or was not asked.
    """

    take: Take
    recipe: dict[str, Any]
    parents: tuple[Take, ...] = ()
    missing_parent: str | None = None
    cycle_at: str | None = None
    children: tuple[LineageNode, ...] = ()
    truncated: bool = False
    published: tuple[str, ...] = ()
    provider_credentials: dict[str, Any] | None = None
    credentials_unknown: str | None = None

    @property
    def descendants(self) -> int:
        """How many descendants are shown."""
        return sum(node.count() for node in self.children)


def take_lineage(
    catalog: Catalog, take_id: str, *, max_descendants: int = MAX_DESCENDANTS, assets: AssetStore | None = None
) -> Lineage:
    """Everything ``studio show TAKE`` prints about one take.

    Args:
        catalog: The catalog to read.
        take_id: ``<batch>/<shot>/<n>``.
        max_descendants: Stop collecting descendants after this many.
        assets: The asset store; when given, the take's render is read to say whether it
            carries the provider's C2PA credentials.

    Raises:
        NotFound: No such take.
    """
    take = catalog.take(take_id)
    parents, missing, cycle = _ancestors(catalog, take)
    children, truncated = _descendants(catalog, take, max_descendants)
    credentials, unknown = None, None
    if assets is not None and take.asset_key is not None:
        try:
            credentials = provider_credentials(take, assets.get(take.asset_key))
        except AssetMissing:
            unknown = "the render is not in the asset store"
        except AssetStoreError as err:
            unknown = f"the asset store cannot be read ({err.reason})"  # lineage still shows
    return Lineage(
        take=take,
        recipe=recipe_of(take),
        parents=tuple(parents),
        missing_parent=missing,
        cycle_at=cycle,
        children=children,
        truncated=truncated,
        published=tuple(pub.path for pub in catalog.take_publications(take.id)),
        provider_credentials=credentials,
        credentials_unknown=unknown,
    )


def credentials_text(lineage: Lineage) -> str | None:
    """One line on the provider's C2PA credentials for ``studio show`` and the Shot page.

    ``None`` when the render carries none (or the store was not read): nothing to say.
    """
    if lineage.credentials_unknown:
        return f"unknown: {lineage.credentials_unknown}"
    found = lineage.provider_credentials
    if found is None:
        return None
    if found["in_published_file"]:
        return f"{found['carries']} ({found['where']}), kept: the final image is the provider's original"
    # An upscale has new pixels and no manifest: say where the signed original is.
    return (
        f"{found['carries']} ({found['where']}) in the provider's original only, "
        f"kept in the asset store as {found['asset_key']}"
    )


def _ancestors(catalog: Catalog, take: Take) -> tuple[list[Take], str | None, str | None]:
    seen = {take.id}
    parents: list[Take] = []
    parent_id = take.parent_take_id
    while parent_id is not None:
        if parent_id in seen:
            return parents, None, parent_id
        seen.add(parent_id)
        try:
            parent = catalog.take(parent_id)
        except NotFound:
            return parents, parent_id, None
        parents.append(parent)
        parent_id = parent.parent_take_id
    return parents, None, None


def _descendants(catalog: Catalog, root: Take, limit: int) -> tuple[tuple[LineageNode, ...], bool]:
    # Breadth-first, one query per generation; ``seen`` keeps a corrupt cycle from looping.
    seen = {root.id}
    kids: dict[str, list[Take]] = {}
    frontier = [root.id]
    truncated = False
    while frontier and not truncated:
        next_frontier = []
        for child in catalog.child_takes(frontier):
            if child.id in seen:
                continue
            if len(seen) > limit:
                truncated = True
                break
            seen.add(child.id)
            kids.setdefault(child.parent_take_id or "", []).append(child)
            next_frontier.append(child.id)
        frontier = next_frontier

    def build(take_id: str) -> tuple[LineageNode, ...]:
        return tuple(LineageNode(child, build(child.id)) for child in kids.get(take_id, []))

    return build(root.id), truncated


def find_takes(
    catalog: Catalog,
    *,
    prompt: str | None = None,
    seed: int | None = None,
    provider: str | None = None,
    approved: bool = False,
    batch: str | None = None,
    limit: int = 50,
) -> list[Take]:
    """Takes matching every filter given, newest first (no filter: the newest takes).

    Args:
        catalog: The catalog to search.
        prompt: Words that begin words of the prompt, any order, case-insensitive.
        seed: The seed used or the seed planned.
        provider: The provider that rendered it (``local``, ``mistral``...).
        approved: Only takes chosen at a gate or published (status ``approved``).
        batch: Only this batch's takes.
        limit: At most this many.

    Raises:
        ValueError: ``limit`` is not positive.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1 (got {limit})")
    return catalog.search_takes(
        prompt=prompt,
        seed=seed,
        provider=provider,
        status=TakeStatus.APPROVED if approved else None,
        batch_id=batch,
        limit=limit,
    )


def take_summary(take: Take) -> dict[str, Any]:
    """One line about a take, as ``studio find --json`` prints it (stable keys)."""
    return {
        "take": take.id,
        "batch": take.batch_id,
        "status": take.status,
        "provider": take.provider,
        "model": take.model,
        "seed": take.seed_used if take.seed_used is not None else take.seed,
        "review_score": take.review_score,
        "prompt": take.prompt,
        "parent_take_id": take.parent_take_id,
        "created_at": take.created_at.isoformat(timespec="seconds") if take.created_at else None,
    }


def lineage_json(lineage: Lineage) -> dict[str, Any]:
    """The lineage as ``studio show --json`` prints it (stable keys).

    ``chain_end`` says why the parent chain stops: ``root`` (a take made from a prompt),
    ``not_in_catalog`` (``missing_parent`` names the id) or ``cycle``.
    """
    take = lineage.take
    chain_end = "not_in_catalog" if lineage.missing_parent else "cycle" if lineage.cycle_at else "root"

    def node(n: LineageNode) -> dict[str, Any]:
        return {**take_summary(n.take), "children": [node(c) for c in n.children]}

    return {
        "recipe": lineage.recipe,
        "take": {
            **take_summary(take),
            "shot_key": take.shot_key,
            "round": take.round,
            "seed_planned": take.seed,
            "init_key": take.init_key,
            "strength": take.strength,
            "cost_usd": round(take.cost_usd, 6),
            "error": take.error,
            "published": list(lineage.published),
            "provider_credentials": lineage.provider_credentials,
            "credentials_unknown": lineage.credentials_unknown,
            "cached_from": take.cached_from,  # the take whose identical render it reused (render cache)
        },
        "parents": [take_summary(p) for p in lineage.parents],
        "chain_end": chain_end,
        "missing_parent": lineage.missing_parent,
        "cycle_at": lineage.cycle_at,
        "children": [node(c) for c in lineage.children],
        "descendants": lineage.descendants,
        "truncated": lineage.truncated,
    }
