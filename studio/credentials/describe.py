"""A :class:`~studio.credentials.verify.Verification` in words: the headline and the labelled facts
that `studio verify` prints and the dashboard's "Content credentials" badge shows."""

from __future__ import annotations

from typing import Any

from studio.credentials.manifest import PROCEDURAL, TRAINED
from studio.credentials.verify import CONTENT_HASH_MISMATCH, Signer, Verification

_SOURCES = {TRAINED: "AI-generated (trained algorithmic media)", PROCEDURAL: "procedural (algorithmic media)"}
_HEADLINES = {
    "none": "no content credentials",
    "valid": "content credentials valid (signer not on a trust list)",
    "trusted": "content credentials valid and trusted",
    "invalid": "content credentials INVALID",
}
PROMPT_CHARS = 80


def headline(found: Verification) -> str:
    """One line: whether the file carries credentials and whether they hold."""
    if found.changed_after_signing:
        return "content credentials INVALID: the file was changed after signing"
    return _HEADLINES[found.state]


def facts(found: Verification) -> list[tuple[str, str]]:
    """``(label, text)`` pairs: signer, source, actions, recipe, each ingredient, pixels."""
    if found.state == "none":
        return []
    lines = [("signed by", signer_text(found.signer))]
    if found.source_type:
        lines.append(("source", _SOURCES.get(found.source_type, found.source_type.rsplit("/", 1)[-1])))
    if found.actions:
        lines.append(("actions", ", ".join(found.actions)))
    lines.append(("recipe", recipe_text(found.recipe)))
    for link in found.ingredients:
        who = signer_text(link.signer) if link.signer else "no credentials of its own"
        state = "" if link.valid is None else (", valid" if link.valid else ", INVALID")
        lines.append(("  " * (link.depth - 1) + "made from", f"{link.title} ({link.relationship}), {who}{state}"))
    lines.append(
        (
            "pixels",
            "CHANGED after signing (the signed hash no longer matches)"
            if found.changed_after_signing
            else "unchanged since signing",
        )
    )
    other = [code for code in found.problems if code not in CONTENT_HASH_MISMATCH]  # said under "pixels"
    if other:
        lines.append(("problems", ", ".join(other)))
    return lines


def signer_text(signer: Signer | None) -> str:
    """``name (issuer), algorithm, timestamp`` of a signer."""
    if signer is None:
        return "unknown"
    issued = f" ({signer.issuer})" if signer.issuer else ""
    when = f", timestamped {signer.signed_at}" if signer.signed_at else ", no timestamp"
    return f"{signer.name or 'unnamed'}{issued}, {(signer.algorithm or '?').upper()}{when}"


def recipe_text(recipe: dict[str, Any] | None) -> str:
    """The recipe in one line: take, provider and model, seed, prompt (cut)."""
    if not recipe:
        return "none (not signed by the studio)"
    prompt = str(recipe.get("prompt") or "")
    if len(prompt) > PROMPT_CHARS:
        prompt = prompt[: PROMPT_CHARS - 1] + "…"
    parts = [
        f"take {recipe.get('take_id')}",
        " ".join(str(p) for p in (recipe.get("provider"), recipe.get("model")) if p),
        f"seed {recipe.get('seed')}",
        repr(prompt),
    ]
    return " · ".join(part for part in parts if part)
