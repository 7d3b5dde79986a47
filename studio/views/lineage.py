"""What the Shot page shows about a take's recipe and lineage, and how it asks for another like it.

Plain reads of :func:`studio.batches.lineage.take_lineage`, flattened for drawing: the page lists rows
and links; it does not walk trees or decide what a seed means.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from studio import ids
from studio.batches.lineage import LineageNode, credentials_text, take_lineage
from studio.batches.replay import MODES, VARY_STRENGTH, ReplayRequest
from studio.catalog.models import Pin, Take
from studio.catalog.store import Catalog
from studio.review.rework import where_in_image
from studio.storage.local import AssetStore

# A take varied for hours could have hundreds of descendants: the page lists the first ones.
MAX_SHOWN = 30
MAX_COUNT = 8
MODE_LABELS = {
    "exact": "Exact: same seed and recipe",
    "remix": "Remix: same recipe, new seeds",
    "vary-subtle": f"Vary (subtle): from this image at strength {VARY_STRENGTH['vary-subtle']}",
    "vary-strong": f"Vary (strong): from this image at strength {VARY_STRENGTH['vary-strong']}",
}


@dataclass(frozen=True)
class KinRow:
    """A take in a lineage list (an ancestor or a descendant), with where to open it.

    Attributes:
        take_id: ``<batch>/<shot>/<n>``.
        shot_key: Its shot, for a link to the Shot page.
        batch_id: Its batch, for a link to the Batch page.
        depth: 1 for a parent or a child, 2 for a grandparent or grandchild...
        label: One line about it: id, status, provider and seed.
    """

    take_id: str
    shot_key: str
    batch_id: str
    depth: int
    label: str


@dataclass(frozen=True)
class LineageView:
    """One take's recipe, where it came from and what was made from it.

    Attributes:
        take_id: The take.
        recipe: ``(field, value)`` rows, values as text.
        parents: Its ancestors in this catalog, nearest first.
        chain_end: Why the parent chain stops: ``root`` (made from a prompt), ``not_in_catalog``
            or ``cycle``; ``chain_end_id`` names the take then.
        chain_end_id: The ancestor not in this catalog, or met twice.
        children: Its descendants, depth first in the order they were made (at most ``MAX_SHOWN``).
        more_children: Descendants collected but not listed (beyond ``shown``).
        truncated: Even more exist than the lineage collects (:data:`studio.batches.lineage.MAX_DESCENDANTS`).
        published: Output files made from this take.
        replayable: Whether it has an image and a provider, so another can be made like it.
    """

    take_id: str
    recipe: list[tuple[str, str]]
    parents: tuple[KinRow, ...]
    chain_end: str
    chain_end_id: str | None
    children: tuple[KinRow, ...]
    more_children: int
    truncated: bool
    published: tuple[str, ...]
    replayable: bool


def seed_label(take: Take) -> str:
    """The seed as a user should read it: the number, or why there is none to replay with."""
    if take.seed_used is not None:
        return str(take.seed_used) + (
            " (not reproducible: the vendor does not promise it)" if take.reproducible is False else ""
        )
    if take.provider is None:
        return f"{take.seed} (planned; not rendered yet)" if take.seed is not None else "not rendered yet"
    return "not reproducible"


def recipe_rows(take: Take) -> list[tuple[str, str]]:
    """The take's recipe as ``(field, value)`` rows: provider, model, seed, prompts, size, params."""
    rows = [
        ("Provider", take.provider or "not rendered yet"),
        ("Model", take.model or "—"),
        ("Seed", seed_label(take)),
        ("Prompt", take.prompt),
        ("Negative", take.negative or "—"),
        ("Size", f"{take.width}×{take.height}"),
    ]
    if take.revised_prompt:
        rows.append(("Provider's revised prompt", take.revised_prompt))
    if take.cached_from:
        rows.append(("Render", cache_text(take.cached_from)))
    if take.init_key:
        rows.append(("Image-to-image", f"from {take.init_key[:12]}… at strength {take.strength}"))
    edit = edit_text(take)
    if edit:
        rows.append(("Edit", edit))
    if take.mask_key:
        rows.append(("Mask", take.mask_key))
    params = take.params or {}
    rows += [
        (f"param · {name}", value if isinstance(value, str) else json.dumps(value))
        for name, value in sorted(params.items())
    ]
    if not params:
        rows.append(("Params", "none"))
    return rows


def cache_text(source: str) -> str:
    """How a take whose image was reused reads: ``from cache: <take> (same recipe, not rendered again, no cost)``."""
    return f"from cache: {source} (same recipe, not rendered again, no cost)"


# How the edit reached the provider (the take's params["edit"], written when it was rendered).
EDIT_WAYS = {
    "mask": "sent as a mask",
    "words": "described in words: the provider takes no mask",
    "text": "prompt only: the provider cannot start from an image",
}


def edit_text(take: Take) -> str | None:
    """One line on a targeted rework, e.g. ``edit of take 2 inside pins 1, 2 (sent as a mask); note: …``.

    ``None`` for a take that is no edit of a pinned take.
    """
    edit = take.edit or {}
    parent = edit.get("parent") or take.parent_take_id
    if not edit or not isinstance(parent, str):
        return None
    numbers = [str(p.get("n")) for p in edit.get("pins") or [] if isinstance(p, dict)]
    of = f"take {ids.take_number(parent)}" if ids.is_take_id(parent) else parent
    inside = f" inside pin{'s' if len(numbers) != 1 else ''} {', '.join(numbers)}" if numbers else ""
    way = EDIT_WAYS.get(str((take.params or {}).get("edit")), "not rendered yet")
    note = f"; note: {edit['note']}" if edit.get("note") else ""
    return f"edit of {of}{inside} ({way}){note}"


def pin_line(pin: Pin) -> str:
    """One pin as a person reads it: number, where, text, who and when."""
    when = pin.created_at.strftime("%Y-%m-%d %H:%M UTC") if pin.created_at else "?"  # the catalog keeps UTC
    return (
        f"{pin.number}. {where_in_image(pin.x, pin.y)} (x {pin.x:.2f}, y {pin.y:.2f}, radius {pin.radius:.2f}): "
        f"{pin.text} — {pin.who}, {when}"
    )


def pin_json(pin: Pin) -> dict[str, Any]:
    """One pin as ``studio show --json`` prints it (stable keys)."""
    return {
        "n": pin.number,
        "x": pin.x,
        "y": pin.y,
        "radius": pin.radius,
        "text": pin.text,
        "who": pin.who,
        "created_at": pin.created_at.isoformat(timespec="seconds") if pin.created_at else None,
    }


def _kin(take: Take, depth: int) -> KinRow:
    seed = take.seed_used if take.seed_used is not None else take.seed
    parts = [take.id, take.status, take.provider or "not rendered", f"seed {seed}" if seed is not None else "no seed"]
    return KinRow(take.id, take.shot_key, take.batch_id, depth, " · ".join(parts))


def _flatten(nodes: tuple[LineageNode, ...], depth: int, into: list[KinRow]) -> None:
    for node in nodes:
        into.append(_kin(node.take, depth))
        _flatten(node.children, depth + 1, into)


def lineage_view(
    catalog: Catalog, take_id: str, *, shown: int = MAX_SHOWN, assets: AssetStore | None = None
) -> LineageView:
    """Everything the Shot page's "Recipe & lineage" shows about one take.

    Args:
        catalog: The catalog to read.
        take_id: The take.
        shown: List at most this many descendants.
        assets: The asset store; when given, a "Content credentials" row says whether the
            provider's original is signed (C2PA) and where it is kept.

    Raises:
        NotFound: No such take.
    """
    lineage = take_lineage(catalog, take_id, assets=assets)
    take = lineage.take
    recipe = recipe_rows(take)
    credentials = credentials_text(lineage)
    if credentials:
        recipe.append(("Content credentials", credentials))
    descendants: list[KinRow] = []
    _flatten(lineage.children, 1, descendants)
    end = "not_in_catalog" if lineage.missing_parent else "cycle" if lineage.cycle_at else "root"
    return LineageView(
        take_id=take.id,
        recipe=recipe,
        parents=tuple(_kin(parent, depth) for depth, parent in enumerate(lineage.parents, start=1)),
        chain_end=end,
        chain_end_id=lineage.missing_parent or lineage.cycle_at,
        children=tuple(descendants[:shown]),
        more_children=max(0, len(descendants) - shown),
        truncated=lineage.truncated,
        published=lineage.published,
        replayable=take.provider is not None and take.asset_key is not None,
    )


def replay_request(take_id: str, mode: str, count: int, append: str | None = None) -> ReplayRequest:
    """What "Make another like this" asks for: an exact replay is one take; blank text appends nothing.

    Raises:
        ValueError: ``mode`` is not one of :data:`studio.batches.replay.MODES`.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (use {', '.join(MODES)})")
    text = (append or "").strip()
    return ReplayRequest(
        take_id, mode=mode, count=1 if mode == "exact" else max(1, min(MAX_COUNT, count)), append=text or None
    )
