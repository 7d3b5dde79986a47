"""Publishing: copy a shot's chosen take into the batch's output folder with its recipe inside,
write the manifest and contact sheet, and take it all back down again.

Every step is idempotent: a re-run overwrites the same file with the same bytes and records the
publication once. A file signed with content credentials (:mod:`studio.credentials`; a signature
differs every time it is made) is left alone when it already carries an intact manifest of the
same recipe by the same signer. A published file carries the same recipe dict as its manifest line
(:func:`studio.images.recipes.take_recipe`), inside the file, or in a ``<file>.json`` sidecar when the
file cannot take it (C2PA credentials that a write would break, or a format the studio does not
write into). When the provider's original carries C2PA credentials, the recipe's
``provider_credentials`` names the original, which stays in the asset store; with the studio's
own credentials on, that original (its manifest included) is the signed file's parent ingredient,
upscaled or not, and the file carries its recipe inside instead of a sidecar.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from studio.catalog.models import Batch, Shot, Take
from studio.catalog.stages import publish_rows, record_publication
from studio.catalog.store import Catalog
from studio.credentials.certificates import Signing
from studio.credentials.signing import already_signed, credentials_wanted, sign_published
from studio.errors import NotFound
from studio.images.contact_sheet import PAGE_TILES, SheetTile, contact_sheets, page_spans
from studio.images.containers import without_c2pa
from studio.images.metadata import RecipeUnreadable, embed_recipe, read_recipe_file, sidecar_path
from studio.images.recipes import RECIPE_VERSION, provider_credentials, take_recipe, upscaler_of
from studio.states import ShotStage
from studio.storage.local import AssetStore, open_atomic, write_atomic

MANIFEST = "manifest.json"
CONTACT_SHEET = "contact_sheet.png"
# Every name a sheet of any batch size takes (see sheet_names): what unpublishing removes.
_SHEET_NAME = re.compile(r"contact_sheet(-\d{2,})?\.png")
CHUNK = 500  # published files read at a time when writing the manifest


def publish_take(
    catalog: Catalog, assets: AssetStore, shot_key: str, take_id: str, *, signing: Signing | None = None
) -> Path:
    """Copy the final image of ``take_id`` to ``<output>/<shot>.<ext>`` with its recipe, and record it.

    With ``signing`` (the worker always passes it) the file also carries C2PA content credentials,
    unless the project says ``[publish] credentials = false``; a file that already carries an intact
    manifest of the same recipe by the same signer is left as it is.

    Returns:
        The published file. Its recipe is inside it, or in ``<file>.json`` next to it.

    Raises:
        NotFound: No such take or shot.
        ValueError: The take has no image yet.
        CredentialsError: Signing failed (a certificate or key the SDK refuses).
    """
    take, shot, batch = publish_rows(catalog, shot_key, take_id)
    key = take.final_key or take.asset_key
    if key is None:
        raise ValueError(f"take {take_id} has no image to publish")
    target = Path(batch.output_dir) / f"{shot.shot_id}.{key.rsplit('.', 1)[-1]}"
    final = assets.get(key)
    render = final if key == take.asset_key or take.asset_key is None else assets.get(take.asset_key)
    recipe = take_recipe(
        take,
        shot,
        batch,
        upscaler=upscaler_of(take, catalog.attempts(take_id=take.id)),
        provider_credentials=provider_credentials(take, render),
    )
    sign = signing if signing is not None and credentials_wanted(catalog, assets, batch) else None
    result = embed_recipe(without_c2pa(final) if sign else final, recipe)
    if sign is None or result.format is None or result.reason == "damaged":
        write_atomic(target, result.data)  # a file the studio cannot read into, it does not vouch for
    elif not already_signed(target, recipe, sign):
        provider_image = render if recipe["provider_credentials"] is not None else None
        upscaled = take.final_key not in (None, take.asset_key)
        signed = sign_published(
            result.data, recipe, sign, title=target.name, provider_image=provider_image, upscaled=upscaled
        )
        write_atomic(target, signed)
    sidecar = sidecar_path(target)
    if result.needs_sidecar:
        write_atomic(sidecar, _json(recipe))
    else:
        sidecar.unlink(missing_ok=True)  # left by an earlier take of this shot that needed one
    record_publication(catalog, shot_key, take_id, str(target))
    return target


def write_manifest(catalog: Catalog, batch_id: str, *, sheet_page: int = PAGE_TILES) -> Path:
    """Write ``manifest.json`` and the contact sheets (:func:`sheet_names`) for every live published file.

    A contact sheet holds ``sheet_page`` shots; a larger batch gets one sheet per that many.

    Files are listed in storyboard order, each with the recipe its file carries (read back
    from it or its sidecar) and, when it has one, its sidecar's name. The files are read
    :data:`CHUNK` at a time and their lines streamed to the manifest (renamed into place last),
    so a 10,000-shot batch never holds every recipe or the whole JSON text in memory.
    """
    batch = catalog.batch(batch_id)
    out = Path(batch.output_dir)
    paths = catalog.publication_paths(batch_id)
    names = {Path(path).name for path in paths}
    sheets = sheet_names(len(page_spans(len(paths), page_size=sheet_page)))
    # A shot may be called like a sheet ("contact_sheet"): its published file then keeps the name.
    with_sheet = bool(names) and names.isdisjoint(sheets)
    head = {
        "batch": batch.id,
        "project": batch.project_name,
        "seed": batch.seed,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "contact_sheet": sheets[0] if with_sheet else None,  # the first sheet: what older readers know
        "contact_sheets": sheets if with_sheet else [],
    }
    path = out / MANIFEST
    tiles: list[SheetTile] = []  # a path, a shot id and a seed each: small beside the recipes
    with open_atomic(path) as manifest:
        # The text json.dumps(indent=2) gives the whole manifest, "files" (its last key) written line by line.
        manifest.write(json.dumps(head, indent=2)[:-2].encode() + b',\n  "files": [')
        for line, tile in _manifest_lines(catalog, batch):
            manifest.write((",\n    " if tiles else "\n    ").encode())
            manifest.write(json.dumps(line, indent=2).replace("\n", "\n    ").encode())
            tiles.append(tile)
        manifest.write(b"\n  ]\n}" if tiles else b"]\n}")
        if with_sheet:  # before the manifest that names them is in place
            title = f"{batch.project_name}  -  {batch.id}"
            for name, data in zip(sheets, contact_sheets(tiles, title=title, page_size=sheet_page), strict=True):
                write_atomic(out / name, data)
    # Pages of an earlier, longer sheet (fewer shots published now) would otherwise linger.
    for stale in _sheet_files(out):
        if stale.name not in names and not (with_sheet and stale.name in sheets):
            stale.unlink(missing_ok=True)
    return path


def _manifest_lines(catalog: Catalog, batch: Batch) -> Iterator[tuple[dict[str, Any], SheetTile]]:
    """Each live published file's manifest line and contact sheet tile, in storyboard order."""
    offset = 0
    while chunk := catalog.publications_page(batch.id, offset=offset, limit=CHUNK):
        offset += len(chunk)
        takes = catalog.takes_by_id([pub.take_id for pub, _ in chunk])  # one read a chunk, not one a file
        for pub, shot in chunk:
            take = takes.get(pub.take_id)
            if take is None:
                raise NotFound("take", pub.take_id)
            path = Path(pub.path)
            recipe = _file_recipe(path, take, shot, batch, catalog)
            line: dict[str, Any] = {"file": path.name, "shot": shot.shot_id, "recipe": recipe}
            if sidecar_path(path).exists():
                line["sidecar"] = sidecar_path(path).name
            yield line, SheetTile(path, shot.shot_id, recipe["seed"])


def publish_batch(catalog: Catalog, assets: AssetStore, batch_id: str, *, signing: Signing | None = None) -> list[Path]:
    """Publish again every shot of a batch that was published, then write the manifest.

    The way back after :func:`unpublish_batch` (which leaves shots ``published`` with their
    chosen take); on a batch that is still published it rewrites the same files.

    Returns:
        The published files, in storyboard order.
    """
    paths = [
        publish_take(catalog, assets, shot.key, shot.final_take_id, signing=signing)
        for shot in catalog.shots(batch_id)
        if shot.stage == ShotStage.PUBLISHED and shot.final_take_id is not None
    ]
    write_manifest(catalog, batch_id)
    return paths


def unpublish_batch(catalog: Catalog, batch_id: str) -> list[Path]:
    """Remove what a batch published (files, sidecars, manifest, contact sheet) and record it.

    Files go first and the catalog after, so a crash in between leaves live rows whose files
    are gone, and running this again finishes the job. Takes, shots and the batch itself are
    kept: :func:`publish_batch` puts the same files back.

    Returns:
        The paths that existed and were deleted.

    Raises:
        NotFound: No such batch.
    """
    batch = catalog.batch(batch_id)
    out = Path(batch.output_dir)
    publications = catalog.publications(batch_id)
    candidates: list[Path] = []
    for pub in publications:
        candidates += [Path(pub.path), sidecar_path(Path(pub.path))]
    candidates += [out / MANIFEST, *_sheet_files(out)]
    removed = []
    for path in dict.fromkeys(candidates):
        if path.exists():
            path.unlink()
            removed.append(path)
    catalog.mark_unpublished([pub.id for pub in publications if pub.id is not None])
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()  # the folder was the batch's own (<publish root>/<batch id>)
    return removed


def sheet_names(pages: int) -> list[str]:
    """The contact sheets' file names: ``contact_sheet.png`` for one page, else ``contact_sheet-01.png``,
    ``-02`` ... (zero-padded so they sort in page order)."""
    if pages <= 1:
        return [CONTACT_SHEET] * pages
    width = max(2, len(str(pages)))
    return [f"contact_sheet-{number:0{width}d}.png" for number in range(1, pages + 1)]


def _sheet_files(out: Path) -> list[Path]:
    """The contact sheet files in ``out`` (some may be a shot's own file of that name)."""
    if not out.is_dir():
        return []
    return sorted(path for path in out.glob("contact_sheet*.png") if _SHEET_NAME.fullmatch(path.name))


def _file_recipe(path: Path, take: Take, shot: Shot, batch: Batch, catalog: Catalog) -> dict[str, Any]:
    """The recipe ``path`` carries; the catalog's own when the file is gone or holds another take's.

    Read back rather than built again: part of it (``provider_credentials``) comes from the
    asset store, which a manifest writer may not have at hand.
    """
    try:
        recipe = read_recipe_file(path)
    except (FileNotFoundError, RecipeUnreadable):
        recipe = {}
    if recipe.get("take_id") == take.id and recipe.get("recipe_version") == RECIPE_VERSION:
        return recipe
    # Its calls only matter when the final image is an upscale: one read per such file, not per file.
    upscaled = take.final_key not in (None, take.asset_key)
    attempts = catalog.attempts(take_id=take.id) if upscaled else ()
    fallback = take_recipe(take, shot, batch, upscaler=upscaler_of(take, attempts))
    del fallback["provider_credentials"]  # unknown without the asset store, which is not "none"
    return fallback


def _json(recipe: dict[str, Any]) -> bytes:
    return json.dumps(recipe, indent=2, ensure_ascii=False).encode()
