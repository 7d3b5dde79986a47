"""Read a file's content credentials back and say what they prove.

The SDK validates the manifest store; this module turns its answer into the few facts a creator
or a client asks about: is it valid (and trusted, or only valid), who signed it, the studio
recipe it carries, the chain of images it was made from, and whether the file was changed
after signing (its signed hash no longer matches).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from studio.credentials import c2pa_adapter
from studio.credentials.errors import CredentialsError
from studio.credentials.manifest import MIME, RECIPE_LABEL
from studio.images.containers import image_format

UNTRUSTED = "signingCredential.untrusted"
# A hash over the file's bytes (every byte outside the manifest) that no longer matches.
CONTENT_HASH_MISMATCH = frozenset(
    {
        "assertion.dataHash.mismatch",
        "assertion.boxesHash.mismatch",
        "assertion.bmffHash.mismatch",
        "assertion.collectionHash.mismatch",
    }
)


@dataclass(frozen=True)
class Signer:
    """Who signed a manifest.

    Attributes:
        name: The certificate's common name.
        issuer: The certificate's organization, as the SDK reports it.
        algorithm: The signature algorithm (``"Es256"``).
        serial: The certificate's serial number.
        signed_at: The timestamp authority's time, when one was asked; else ``None``.
    """

    name: str | None
    issuer: str | None
    algorithm: str | None
    serial: str | None
    signed_at: str | None


@dataclass(frozen=True)
class Link:
    """One image in the chain a file was made from.

    Attributes:
        title: The ingredient's title (``"gemini image"``).
        relationship: ``"parentOf"``, ``"componentOf"`` or ``"inputTo"``.
        signer: Who signed the ingredient's own manifest; ``None`` when it carried none.
        valid: Whether its manifest validated when it was added (a trust list aside).
        generator: The software that made it (its ``claim_generator_info`` names).
        depth: 1 for the file's own ingredients, 2 for theirs, and so on.
    """

    title: str | None
    relationship: str | None
    signer: Signer | None
    valid: bool | None
    generator: list[str]
    depth: int


@dataclass(frozen=True)
class Verification:
    """What a file's content credentials say.

    Attributes:
        state: ``"none"`` (no credentials), ``"valid"`` (intact, signer not on a trust list),
            ``"trusted"`` (intact, signer on a trust list) or ``"invalid"``.
        signer: Who signed the active manifest.
        recipe: The studio recipe the manifest carries, if any.
        actions: The actions it records (``["c2pa.created", "c2pa.resized"]``).
        source_type: The IPTC digital source type it names, if any.
        ingredients: The chain of images it was made from, parents first.
        changed_after_signing: The file's pixels (or metadata) no longer match the signed hash.
        problems: The SDK's failure codes other than an untrusted signer.
    """

    state: str
    signer: Signer | None = None
    recipe: dict[str, Any] | None = None
    actions: list[str] = field(default_factory=list)
    source_type: str | None = None
    ingredients: list[Link] = field(default_factory=list)
    changed_after_signing: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Signed, and unchanged since: valid or trusted."""
        return self.state in ("valid", "trusted")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every fact (for ``studio verify --json``)."""
        return asdict(self)


def verify_bytes(data: bytes) -> Verification:
    """The content credentials of an image's bytes.

    Raises:
        CredentialsError: Not a PNG, JPEG or WebP (``reason="not-an-image"``), or a store the
            SDK cannot parse (``"unreadable"``).
    """
    fmt = image_format(data)
    if fmt is None:
        raise CredentialsError("not-an-image")
    reading = c2pa_adapter.read(data, MIME[fmt])
    if reading.state is None:
        return Verification("none")
    return interpret(reading.state, reading.store, reading.assertions)


def verify_file(path: Path) -> Verification:
    """The content credentials of the file at ``path``.

    Raises:
        FileNotFoundError: No such file.
        CredentialsError: As :func:`verify_bytes`.
    """
    return verify_bytes(path.read_bytes())


def interpret(
    state: str, store: Mapping[str, Any], assertions: Mapping[str, Mapping[str, Any]] | None = None
) -> Verification:
    """The facts in an SDK validation ``state`` and manifest ``store`` (plain JSON; no SDK call).

    Args:
        state: The SDK's validation state.
        store: The manifest store report.
        assertions: Each manifest's assertions by label as signed, when the SDK gave them;
            the recipe is read from there (see :class:`~studio.credentials.c2pa_adapter.StoreReading`).
    """
    manifests: Mapping[str, Any] = store.get("manifests") or {}
    label = store.get("active_manifest") or ""
    active = manifests.get(label) or {}
    failures = [item.get("code", "") for item in _active_results(store).get("failure", [])]
    actions: list[dict[str, Any]] = []
    recipe = None
    for assertion in active.get("assertions", []):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            actions += assertion.get("data", {}).get("actions", [])
        elif assertion.get("label") == RECIPE_LABEL:
            recipe = assertion.get("data")
    signed = (assertions or {}).get(label, {})
    if RECIPE_LABEL in signed:
        recipe = dict(signed[RECIPE_LABEL])
    return Verification(
        state={"Valid": "valid", "Trusted": "trusted"}.get(state, "invalid"),
        signer=_signer(active.get("signature_info")),
        recipe=recipe,
        actions=[str(a.get("action")) for a in actions],
        source_type=next((a["digitalSourceType"] for a in actions if a.get("digitalSourceType")), None),
        ingredients=list(_chain(active, manifests, depth=1)),
        changed_after_signing=any(code in CONTENT_HASH_MISMATCH for code in failures),
        problems=[code for code in failures if code != UNTRUSTED],
    )


def _active_results(store: Mapping[str, Any]) -> Mapping[str, Any]:
    results = store.get("validation_results") or {}
    found: Mapping[str, Any] = results.get("activeManifest") or {}
    if found or "validation_status" not in store:
        return found
    return {"failure": store["validation_status"]}  # an older report shape: the failures only


def _signer(info: Mapping[str, Any] | None) -> Signer | None:
    if not info:
        return None
    return Signer(
        name=info.get("common_name"),
        issuer=info.get("issuer"),
        algorithm=info.get("alg"),
        serial=info.get("cert_serial_number"),
        signed_at=info.get("time"),
    )


def _chain(manifest: Mapping[str, Any], manifests: Mapping[str, Any], *, depth: int) -> list[Link]:
    """The manifest's ingredients and, below each, the ingredients of its own manifest."""
    links: list[Link] = []
    for ingredient in manifest.get("ingredients", []):
        own = manifests.get(ingredient.get("active_manifest") or "")
        failures = ((ingredient.get("validation_results") or {}).get("activeManifest") or {}).get("failure", [])
        links.append(
            Link(
                title=ingredient.get("title"),
                relationship=ingredient.get("relationship"),
                signer=_signer(own.get("signature_info")) if own else None,
                valid=None if own is None else not [f for f in failures if f.get("code") != UNTRUSTED],
                generator=[str(g.get("name")) for g in (own or {}).get("claim_generator_info", [])],
                depth=depth,
            )
        )
        if own is not None and depth < 8:  # a chain deeper than this is not worth printing
            links += _chain(own, manifests, depth=depth + 1)
    return links
