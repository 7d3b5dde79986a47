"""Publishing: copy a shot's chosen take into the batch's output folder, and write the manifest.

Both steps are idempotent: a re-run overwrites the same file with the same bytes and records
the publication once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from studio.assets import AssetStore, write_atomic
from studio.catalog import Catalog
from studio.errors import NotFound
from studio.models import Batch, Shot, Take
from studio.recipes import recipe_of
from studio.stages import record_publication

MANIFEST = "manifest.json"


def publish_take(catalog: Catalog, assets: AssetStore, shot_key: str, take_id: str) -> Path:
    """Copy the final image of ``take_id`` to ``<output>/<shot>.<ext>`` and record it."""
    with catalog.session() as s:
        take, shot = s.get(Take, take_id), s.get(Shot, shot_key)
        batch = s.get(Batch, shot.batch_id) if shot is not None else None
    if take is None or shot is None or batch is None:
        raise NotFound("take", take_id)
    key = take.final_key or take.asset_key
    if key is None:
        raise ValueError(f"take {take_id} has no image to publish")
    target = Path(batch.output_dir) / f"{shot.shot_id}.{key.rsplit('.', 1)[-1]}"
    write_atomic(target, assets.get(key))
    record_publication(catalog, shot_key, take_id, str(target))
    return target


def write_manifest(catalog: Catalog, batch_id: str) -> Path:
    """Write ``manifest.json`` listing every published file of the batch with its recipe."""
    batch = catalog.batch(batch_id)
    files = []
    for pub in catalog.publications(batch_id):
        take = catalog.take(pub.take_id)
        files.append({"file": Path(pub.path).name, "shot": take.shot_key.rsplit("/", 1)[1], "recipe": recipe_of(take)})
    manifest = {
        "batch": batch.id,
        "project": batch.project_name,
        "seed": batch.seed,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": files,
    }
    path = Path(batch.output_dir) / MANIFEST
    write_atomic(path, json.dumps(manifest, indent=2).encode())
    return path
