"""Signing a file the studio publishes, and deciding when not to.

:func:`sign_published` is what publishing calls after the recipe is written into the file;
:func:`already_signed` lets a re-publish leave a file alone (a signature is never the same
bytes twice, so signing again would change a file nothing about has changed);
:func:`credentials_wanted` reads the project's ``[publish] credentials`` switch.
"""

from __future__ import annotations

import functools
import logging
import tomllib
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.credentials import c2pa_adapter
from studio.credentials.certificates import Signing
from studio.credentials.errors import CredentialsError
from studio.credentials.manifest import MIME, definition, provider_ingredient
from studio.credentials.verify import verify_bytes
from studio.errors import NotFound
from studio.images.containers import image_format, without_c2pa
from studio.storage.local import AssetMissing, AssetStore

log = logging.getLogger(__name__)


def sign_published(
    image: bytes,
    recipe: Mapping[str, Any],
    signing: Signing,
    *,
    title: str,
    provider_image: bytes | None = None,
    upscaled: bool = False,
) -> bytes:
    """``image`` (recipe already inside) with the studio's C2PA manifest.

    Args:
        image: The file as it will be published, without credentials of its own
            (:func:`studio.images.containers.without_c2pa` takes a provider's off first).
        recipe: The studio recipe, signed as its own assertion.
        signing: The certificate and key.
        title: The published file's name.
        provider_image: The provider's original, when it carried credentials: the parent
            ingredient, its manifest kept inside ours.
        upscaled: ``image`` is an upscale of the render.

    Raises:
        CredentialsError: Not a PNG, JPEG or WebP, or the SDK refused to sign.
    """
    fmt = image_format(image)
    if fmt is None:
        raise CredentialsError("not-an-image")
    try:
        return _sign(image, fmt, recipe, signing, title, provider_image, upscaled)
    except CredentialsError as err:
        if provider_image is None or err.reason != "signing":
            raise
        # The vendor's manifest is one the SDK cannot take in (damaged, or a form it does not
        # know): the image is still the parent, without it, rather than a publish that never ends.
        log.warning("the provider's content credentials cannot be kept as an ingredient: %s", err.detail)
        return _sign(image, fmt, recipe, signing, title, without_c2pa(provider_image), upscaled)


def _sign(
    image: bytes,
    fmt: str,
    recipe: Mapping[str, Any],
    signing: Signing,
    title: str,
    provider_image: bytes | None,
    upscaled: bool,
) -> bytes:
    ingredient = None
    if provider_image is not None:
        provider_fmt = image_format(provider_image) or fmt
        ingredient = c2pa_adapter.Ingredient(provider_image, MIME[provider_fmt], provider_ingredient(recipe))
    manifest = definition(
        recipe, title=title, version=_version(), from_provider_image=ingredient is not None, upscaled=upscaled
    )
    return c2pa_adapter.sign(
        image,
        MIME[fmt],
        manifest,
        cert_pem=signing.cert_pem,
        key_pem=signing.key.get_secret_value(),
        algorithm=signing.algorithm,
        tsa_url=signing.tsa_url,
        ingredient=ingredient,
    )


def already_signed(target: Path, recipe: Mapping[str, Any], signing: Signing) -> bool:
    """Whether ``target`` already carries an intact studio manifest of this recipe by this signer."""
    try:
        found = verify_bytes(target.read_bytes())
    except (FileNotFoundError, CredentialsError):
        return False
    return (
        found.intact
        and found.recipe == dict(recipe)
        and found.signer is not None
        and found.signer.serial == signing.serial
    )


def credentials_wanted(catalog: Catalog, assets: AssetStore, batch: Batch) -> bool:
    """The batch's ``[publish] credentials`` (true unless the project says false).

    Read from the project file as launched (it was validated then). A replay has no project
    file of its own and follows the batch its origin came from.
    """
    seen: set[str] = set()
    while not batch.project_key and batch.parent_batch_id and batch.parent_batch_id not in seen:
        seen.add(batch.id)
        try:
            batch = catalog.batch(batch.parent_batch_id)
        except NotFound:
            return True
    if not batch.project_key:
        return True
    try:
        return _project_switch(assets, batch.project_key)
    except (AssetMissing, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # what cannot be read cannot have switched them off (not kept: may be read later)


@functools.lru_cache(maxsize=256)
def _project_switch(assets: AssetStore, project_key: str) -> bool:
    """The ``[publish] credentials`` of the project file ``project_key``, read once.

    Kept because every published shot asks, and parsing a 10,000-shot project file per shot made a
    big batch's per-shot cost grow with its size. Keys are content addresses: an answer never goes
    stale. A failed read raises, and so is not kept.
    """
    project = tomllib.loads(assets.get(project_key).decode("utf-8"))
    section = project.get("publish")
    return not (isinstance(section, dict) and section.get("credentials") is False)


def _version() -> str:
    try:
        return metadata.version("studio")
    except metadata.PackageNotFoundError:
        return "0+unknown"
