"""Replays: "make another like that one", planned as a small batch of its own.

A replay batch holds one shot per new take, each take linked to the take it came from
(``parent_take_id``) and the batch to the original batch (``parent_batch_id``). The rows are
written here, before the batch workflow starts; the workflow then renders, reviews and
publishes them like any batch, so a replay is as durable as the batch it came from.

Modes:
    exact: the same provider, model, seed, prompt and parameters (one take).
    remix: the same recipe with new seeds.
    vary-subtle / vary-strong: image-to-image from the chosen take at strength 0.5 / 0.85.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers import table
from studio.catalog.models import Batch, Shot, Take
from studio.catalog.store import Catalog
from studio.errors import NotFound, StudioError
from studio.ids import is_take_id, new_batch_id, shot_key, take_id
from studio.images.metadata import read_recipe_file
from studio.project.fields import COMFYUI
from studio.project.storyboard import derive_seed, new_batch_seed
from studio.rendering.params import WORKFLOW_PARAM
from studio.settings import Settings
from studio.states import ShotStage
from studio.storage.local import AssetStore

MODES = ("exact", "remix", "vary-subtle", "vary-strong")
VARY_STRENGTH = {"vary-subtle": 0.5, "vary-strong": 0.85}
# Providers whose adapters send an input image (the provider table's image-to-image column).
IMAGE_INPUT = table.IMAGE_INPUT
MAX_COUNT = 16
# Recipe params the studio adds about a delivery, not sent to the vendor.
DELIVERY_PARAMS = ("delivered_size", "init_image_ignored", "edit")


class ReplayError(StudioError):
    """A replay that cannot be planned.

    Attributes:
        source: The take id or file asked for.
        reason: Why.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"cannot replay {source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True)
class ReplayRequest:
    """What ``studio replay`` was asked for.

    Attributes:
        source: A take id (``<batch>/<shot>/<n>``) or the path of an image the studio made.
        mode: One of :data:`MODES`.
        count: New takes to make (exact: 1).
        prompt: A prompt replacing the original, or ``None``.
        append: Text appended to the prompt, or ``None``.
        provider: Render with this provider instead of the original's.
    """

    source: str
    mode: str = "exact"
    count: int = 1
    prompt: str | None = None
    append: str | None = None
    provider: str | None = None


@dataclass(frozen=True)
class Origin:
    """The take a replay starts from, from the catalog or from a file's recipe.

    Attributes:
        take_id: Its id (it may belong to another studio's catalog).
        batch_id: Its batch, when this catalog has it.
        shot_id: Its shot id.
        provider: Who rendered it.
        model: Which model.
        seed: The seed actually used, or ``None`` (vendors without seeds).
        reproducible: Whether the vendor promises the same image for the same recipe.
        prompt: Its prompt.
        negative: Its negative prompt.
        size: Requested (width, height).
        params: Vendor parameters sent.
        upscale: Its shot's upscale factor.
        image_key: Asset key of its rendered image (what image-to-image starts from).
        init_key: The image it was itself rendered from, if any.
        strength: And how far from it.
        mask_key: The mask it was edited inside (a targeted rework), if any.
        edit: That edit's note, pins and words (:mod:`studio.review.rework`), if any.
    """

    take_id: str
    batch_id: str | None
    shot_id: str
    provider: str
    model: str | None
    seed: int | None
    reproducible: bool
    prompt: str
    negative: str
    size: tuple[int, int]
    params: dict[str, Any]
    upscale: int
    image_key: str | None
    init_key: str | None = None
    strength: float | None = None
    mask_key: str | None = None
    edit: dict[str, Any] | None = None


def origin_of_take(catalog: Catalog, take: Take) -> Origin:
    """The replay origin of a take in this catalog."""
    if take.provider is None or take.asset_key is None:
        raise ReplayError(take.id, f"it was never rendered (status: {take.status})")
    shot = catalog.shot(take.shot_key)
    return Origin(
        take_id=take.id,
        batch_id=take.batch_id,
        shot_id=shot.shot_id,
        provider=take.provider,
        model=take.model,
        seed=take.seed_used,
        reproducible=bool(take.reproducible),
        prompt=take.prompt,
        negative=take.negative,
        size=(take.width, take.height),
        params=dict(take.params or {}),
        upscale=shot.upscale,
        image_key=take.asset_key,
        init_key=take.init_key,
        strength=take.strength,
        mask_key=take.mask_key,
        edit=take.edit,
    )


def origin_of_file(catalog: Catalog, assets: AssetStore, path: Path) -> Origin:
    """The replay origin of an image file the studio published (its embedded recipe, or sidecar).

    The take is looked up in this catalog first; a file made by another studio replays from
    its recipe alone, and its pixels are what image-to-image starts from.
    """
    recipe = read_recipe_file(path)  # RecipeUnreadable: a clear error for no or damaged metadata
    known = recipe.get("take_id")
    if isinstance(known, str):
        try:
            return origin_of_take(catalog, catalog.take(known))
        except NotFound:
            pass  # made elsewhere: the recipe is all there is
    size = recipe.get("size") or [None, None]
    provider = recipe.get("provider")
    if not isinstance(provider, str) or not isinstance(recipe.get("prompt"), str) or None in size:
        raise ReplayError(str(path), "its recipe lacks the provider, prompt or size")
    data = path.read_bytes()
    image_key = assets.put(data, _mime_of(path))
    return Origin(
        take_id=str(known or path.name),
        batch_id=None,
        shot_id=str(recipe.get("shot_id") or path.stem),
        provider=provider,
        model=recipe.get("model"),
        seed=recipe.get("seed"),
        reproducible=bool(recipe.get("reproducible", recipe.get("seed") is not None)),
        prompt=recipe["prompt"],
        negative=str(recipe.get("negative") or ""),
        size=(int(size[0]), int(size[1])),
        params=dict(recipe.get("params") or {}),
        upscale=int(recipe.get("upscale") or 1),
        image_key=image_key,
        init_key=None,
        strength=recipe.get("strength"),
    )


def _mime_of(path: Path) -> str:
    return {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}.get(path.suffix.lower(), "image/png")


def resolve_origin(catalog: Catalog, assets: AssetStore, source: str) -> Origin:
    """A take id or an image path, as a replay origin.

    Raises:
        ReplayError / NotFound / RecipeUnreadable: With a message naming what is wrong.
    """
    path = Path(source).expanduser()
    if path.is_file():
        return origin_of_file(catalog, assets, path)
    if is_take_id(source):
        return origin_of_take(catalog, catalog.take(source))
    raise ReplayError(source, "it is neither a take id (BATCH/SHOT/N) nor an image file that exists")


def check_request(req: ReplayRequest, origin: Origin) -> str:
    """Validate a request against its origin; returns the provider to render with.

    Raises:
        ReplayError: Unknown mode, bad count, exact with several takes, a vary mode on a
            provider that cannot take an input image, or ComfyUI without a workflow to render.
    """
    if req.mode not in MODES:
        raise ReplayError(req.source, f"unknown mode {req.mode!r} (use {', '.join(MODES)})")
    if not 1 <= req.count <= MAX_COUNT:
        raise ReplayError(req.source, f"--count must be between 1 and {MAX_COUNT} (got {req.count})")
    if req.mode == "exact" and req.count != 1:
        raise ReplayError(req.source, "an exact replay makes one image; use --mode remix for several")
    if req.prompt is not None and req.append is not None:
        raise ReplayError(req.source, "give --prompt or --append, not both")
    if req.prompt is not None and not req.prompt.strip():
        raise ReplayError(req.source, "--prompt must not be empty")
    provider = req.provider or origin.provider
    if req.mode in VARY_STRENGTH and provider not in IMAGE_INPUT:
        raise ReplayError(
            req.source,
            f"{provider} cannot start from an image; pick one that can with "
            f"--provider ({', '.join(sorted(IMAGE_INPUT))})",
        )
    if req.mode in VARY_STRENGTH and origin.image_key is None:
        raise ReplayError(req.source, "its image is not in this studio's asset store")
    if provider == COMFYUI and (origin.provider != COMFYUI or WORKFLOW_PARAM not in origin.params):
        raise ReplayError(
            req.source,
            f"{COMFYUI} renders a workflow of your own, and this take was not made with one: replay a take "
            f"{COMFYUI} made, or launch a project that names one in [providers.{COMFYUI}]",
        )
    return provider


def replay_takes(req: ReplayRequest, origin: Origin, provider: str, batch_seed: int) -> list[dict[str, Any]]:
    """The new takes' recipes (seed, prompt, params, input image), one per take: a plain decision."""
    prompt = origin.prompt
    if req.prompt is not None:
        prompt = req.prompt.strip()
    elif req.append:
        prompt = f"{origin.prompt}, {req.append.strip()}"
    params = {k: v for k, v in origin.params.items() if k not in DELIVERY_PARAMS}
    if provider != origin.provider:
        params = {}  # another vendor's parameters mean nothing to this one
    # An edit of a take (its mask and the pins' words) replays as that edit; a vary starts from the
    # whole image the edit made, so it carries no mask.
    edit = {"mask_key": origin.mask_key, "edit": origin.edit}
    takes = []
    for n in range(1, req.count + 1):
        if req.mode == "exact":
            seed, init_key, strength = origin.seed, origin.init_key, origin.strength
        elif req.mode == "remix":
            seed, init_key, strength = derive_seed(batch_seed, origin.take_id, n), origin.init_key, origin.strength
        else:
            seed, init_key, strength = (
                derive_seed(batch_seed, origin.take_id, n),
                origin.image_key,
                VARY_STRENGTH[req.mode],
            )
            edit = {"mask_key": None, "edit": None}
        takes.append(
            {"seed": seed, "prompt": prompt, "params": params, "init_key": init_key, "strength": strength, **edit}
        )
    return takes


def _client_of(catalog: Catalog, batch_id: str | None) -> str:
    """A replay is made for its origin's client; "replay" when the origin came from a file made elsewhere."""
    if batch_id is None:
        return "replay"
    try:
        return catalog.batch(batch_id).client or "replay"
    except NotFound:
        return "replay"


def plan_replay(settings: Settings, catalog: Catalog, assets: AssetStore, req: ReplayRequest) -> Batch:
    """Write a replay batch (its shots and planned takes); the caller starts its workflow.

    Returns:
        The batch row. Nothing is written when the request is refused.
    """
    origin = resolve_origin(catalog, assets, req.source)
    provider = check_request(req, origin)
    seed = new_batch_seed()
    batch_id = new_batch_id(f"replay-{origin.shot_id}")
    planned = replay_takes(req, origin, provider, seed)
    shots, takes = _replay_rows(batch_id, origin, provider, planned, req.count)
    batch = Batch(
        id=batch_id,
        kind="replay",
        project_name=f"{req.mode} of {origin.take_id}",
        project_slug="replay",
        project_source="",
        project_key="",
        seed=seed,
        output_dir=str(settings.published_dir / batch_id),
        parent_batch_id=origin.batch_id,
        client=_client_of(catalog, origin.batch_id),
        total_shots=len(shots),
        total_takes=len(takes),
    )
    catalog.add_batch(batch)
    catalog.add_shots(batch_id, shots, takes)
    return catalog.batch(batch_id)


def _replay_rows(
    batch_id: str, origin: Origin, provider: str, planned: list[dict[str, Any]], count: int
) -> tuple[list[Shot], list[Take]]:
    """One shot with one planned take per replayed recipe (shot ids numbered when there are several)."""
    width, height = origin.size
    shots: list[Shot] = []
    takes: list[Take] = []
    for position, recipe in enumerate(planned):
        sid = origin.shot_id if count == 1 else f"{origin.shot_id}-{position + 1}"
        key = shot_key(batch_id, sid)
        shots.append(
            Shot(
                key=key,
                batch_id=batch_id,
                shot_id=sid,
                position=position,
                prompt=recipe["prompt"],
                negative=origin.negative,
                width=width,
                height=height,
                variants=1,
                upscale=origin.upscale,
                chain=[provider],
                stage=ShotStage.PENDING,
            )
        )
        takes.append(
            Take(
                id=take_id(key, 1),
                batch_id=batch_id,
                shot_key=key,
                number=1,
                seed=recipe["seed"],
                prompt=recipe["prompt"],
                negative=origin.negative,
                width=width,
                height=height,
                params=recipe["params"],
                init_key=recipe["init_key"],
                strength=recipe["strength"],
                mask_key=recipe["mask_key"],
                edit=recipe["edit"],
                parent_take_id=origin.take_id,
            )
        )
    return shots, takes
