"""Which providers a shot renders with, in what order: plain functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

ALIASES = {"pixtral": "mistral"}
DEFAULT_CHAIN = ("mistral", "gemini", "replicate", "fal")


def canonical(name: str) -> str:
    """The provider a chain entry really names (``pixtral`` is Mistral's image generation)."""
    return ALIASES.get(name, name)


def resolve_chain(
    requested: Sequence[str] | None, available: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Resolve a requested chain against the providers this installation can call.

    Args:
        requested: The project's or shot's chain, or ``None`` for the default chain.
        available: Providers with credentials configured (``local`` is always available).

    Returns:
        ``(chain, skipped)``: the providers to try in order, and those dropped because no key is
        set. An empty result falls back to ``["local"]`` so a studio with no keys still works.
    """
    usable = set(available) | {"local"}
    chain: list[str] = []
    skipped: list[str] = []
    for entry in requested if requested is not None else DEFAULT_CHAIN:
        name = canonical(entry)
        if name in chain or name in skipped:
            continue
        (chain if name in usable else skipped).append(name)
    return (chain or ["local"]), skipped
