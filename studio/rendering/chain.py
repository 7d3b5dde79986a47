"""Which providers a shot renders with, in what order: plain functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from providers.table import ALIASES, DEFAULT_CHAIN, FALLBACK, canonical, spec_of

__all__ = ["ALIASES", "DEFAULT_CHAIN", "canonical", "chain_notices", "describe_provider", "resolve_chain"]


def resolve_chain(requested: Sequence[str] | None, available: Iterable[str]) -> tuple[list[str], list[str]]:
    """Resolve a requested chain against the providers this installation can call.

    Args:
        requested: The project's or shot's chain, or ``None`` for the default chain.
        available: Providers with credentials configured (``local`` is always available).

    Returns:
        ``(chain, skipped)``: the providers to try in order, and those dropped because no key is
        set. An empty result falls back to ``["local"]`` so a studio with no keys still works.
    """
    usable = set(available) | {FALLBACK}
    chain: list[str] = []
    skipped: list[str] = []
    for entry in requested if requested is not None else DEFAULT_CHAIN:
        name = canonical(entry)
        if name in chain or name in skipped:
            continue
        (chain if name in usable else skipped).append(name)
    return (chain or [FALLBACK]), skipped


def describe_provider(name: str) -> str:
    """A provider's name as a user should read it (``local`` is a procedural preview, not a model)."""
    spec = spec_of(name)
    return spec.label if spec is not None and spec.label else name


def chain_notices(
    shots: Sequence[tuple[str, Sequence[str] | None]], available: Iterable[str], key_names: Mapping[str, str]
) -> list[str]:
    """What a launch should say when shots will not render on the providers they ask for.

    Args:
        shots: Each shot's id and requested chain (``None``: the default chain).
        available: Providers with credentials configured.
        key_names: The setting (environment variable) holding each vendor's key.

    Returns:
        One line per distinct outcome, naming the shots when not all of them share it, e.g.
        ``rendering on local (procedural preview): no key for fal (FAL_KEY)``; nothing when every
        shot renders on the chain it asked for.
    """
    usable = list(available)
    outcomes: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for shot_id, requested in shots:
        chain, skipped = resolve_chain(requested, usable)
        if skipped:
            outcomes.setdefault((tuple(chain), tuple(skipped)), []).append(shot_id)
    lines = []
    for (used, missing), ids in outcomes.items():
        where = " → ".join(describe_provider(name) for name in used)
        why = ", ".join(f"{name} ({key_names.get(name, 'no key setting')})" for name in missing)
        scope = "" if len(ids) == len(shots) else _shot_list(ids) + ": "
        lines.append(f"{scope}rendering on {where}: no key for {why}")
    return lines


def _shot_list(ids: list[str], shown: int = 3) -> str:
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ("shot " if len(ids) == 1 else "shots ") + ", ".join(ids[:shown]) + more
