"""The adapter to ``c2pa-python``, the one module that imports it.

It signs bytes with a manifest definition and reads a file's manifest store back as JSON, with
network use switched off: no remote manifests, no OCSP, and a timestamp authority only when the
caller names one. Everything else about credentials is plain dicts (see
:mod:`studio.credentials.manifest` and :mod:`studio.credentials.verify`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import c2pa

from studio.credentials.errors import CredentialsError

# Reading never reaches the network: a remote manifest or an OCSP answer would make `studio verify`
# depend on someone else's server, and the issue promises it works offline.
_OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}

_ALGORITHMS = {
    "es256": c2pa.C2paSigningAlg.ES256,
    "es384": c2pa.C2paSigningAlg.ES384,
    "es512": c2pa.C2paSigningAlg.ES512,
    "ps256": c2pa.C2paSigningAlg.PS256,
    "ed25519": c2pa.C2paSigningAlg.ED25519,
}


@dataclass(frozen=True)
class Ingredient:
    """An image the signed one was made from, with its ingredient definition.

    Attributes:
        data: The ingredient's bytes (its own manifest, if any, travels into ours).
        mime: Its MIME type.
        definition: The C2PA ingredient definition (title, relationship, label).
    """

    data: bytes
    mime: str
    definition: dict[str, Any]


@dataclass(frozen=True)
class StoreReading:
    """What the SDK says about a file's manifest store.

    Attributes:
        state: ``"Valid"``, ``"Trusted"`` or ``"Invalid"`` (the SDK's words); ``None`` when
            the file carries no manifest.
        store: The manifest store as JSON (``active_manifest``, ``manifests``,
            ``validation_results``...); empty when there is none.
        assertions: Each manifest's assertions by label, as signed. Read from the SDK's
            crJSON report: its plain JSON report turns a list of numbers into base64 (a
            recipe's ``size`` of ``[96, 64]`` reads ``"YEA="``).
    """

    state: str | None
    store: dict[str, Any]
    assertions: dict[str, dict[str, Any]]


def sign(
    image: bytes,
    mime: str,
    definition: dict[str, Any],
    *,
    cert_pem: bytes,
    key_pem: bytes,
    algorithm: str,
    tsa_url: str | None = None,
    ingredient: Ingredient | None = None,
) -> bytes:
    """``image`` with a manifest made from ``definition``, signed with the key.

    Raises:
        CredentialsError: The SDK refused the certificate, key or image (``reason`` says which).
    """
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(_ALGORITHMS[algorithm], cert_pem, key_pem, tsa_url))
    except c2pa.C2paError as err:
        raise CredentialsError("certificate", _sdk_words(err)) from None
    try:
        with c2pa.Context.from_dict(_OFFLINE) as context, c2pa.Builder(definition, context=context) as builder:
            if ingredient is not None:
                builder.add_ingredient(ingredient.definition, ingredient.mime, io.BytesIO(ingredient.data))
            out = io.BytesIO()
            builder.sign(signer, mime, io.BytesIO(image), out)
            return out.getvalue()
    except c2pa.C2paError as err:
        reason = "certificate" if isinstance(err, c2pa.C2paError.Signature) else "signing"
        raise CredentialsError(reason, _sdk_words(err)) from None
    finally:
        signer.close()


def read(image: bytes, mime: str) -> StoreReading:
    """The manifest store of ``image`` and the SDK's validation state, read offline.

    Raises:
        CredentialsError: The SDK cannot parse the file (``reason="unreadable"``).
    """
    try:
        with c2pa.Context.from_dict(_OFFLINE) as context:
            reader = c2pa.Reader.try_create(mime, io.BytesIO(image), None, context)
            if reader is None:
                return StoreReading(None, {}, {})
            with reader:
                report = json.loads(reader.crjson())
                assertions = {m.get("label", ""): m.get("assertions") or {} for m in report.get("manifests", [])}
                return StoreReading(reader.get_validation_state(), json.loads(reader.json()), assertions)
    except c2pa.C2paError as err:
        raise CredentialsError("unreadable", _sdk_words(err)) from None


def _sdk_words(err: Exception) -> str:
    """The SDK's message, cut to one line (it never quotes a key: it only parses it)."""
    return str(err).splitlines()[0][:300] if str(err) else type(err).__name__
