"""A batch's place in the render queue: its priority and its client (the fairness key), as plain data.

Temporal orders the tasks of one task queue by these (``temporalio.common.Priority``): a lower
priority key dispatches first, and within one priority the fairness keys share the queue in
proportion to their weights. This module holds only the studio's names for them and the rules
for turning them into what Temporal takes; :mod:`pipelines.client.batches` hands them over.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = [
    "DEFAULT_PRIORITY",
    "FAIRNESS_KEY_MAX_BYTES",
    "PRIORITIES",
    "PRIORITY_KEYS",
    "check_weight",
    "fairness_key",
    "parse_weights",
    "priority_key",
    "weight_of",
]

PRIORITIES: tuple[str, ...] = ("rush", "normal", "low")
"""The priorities a batch can have, the first dispatched first."""
DEFAULT_PRIORITY = "normal"
PRIORITY_KEYS: Mapping[str, int] = {"rush": 1, "normal": 3, "low": 5}
"""Temporal's priority key of each priority. Its scale is 1 (first) to 5 (last), 3 when unset, so
``normal`` is what a workflow started without a priority gets and the two mix as equals."""
FAIRNESS_KEY_MAX_BYTES = 64
"""Temporal's limit on a fairness key, in UTF-8 bytes."""
MAX_WEIGHT = 1000.0
"""The server clamps weights to 0.001..1000; a larger one is refused rather than silently cut."""


def priority_key(priority: str) -> int:
    """Temporal's priority key for ``priority``; an unknown name (an older row) counts as normal."""
    return PRIORITY_KEYS.get(priority, PRIORITY_KEYS[DEFAULT_PRIORITY])


def fairness_key(client: str) -> str:
    """``client`` cut to Temporal's 64 bytes on a character boundary (the project checks new ones)."""
    data = client.encode("utf-8")[:FAIRNESS_KEY_MAX_BYTES]
    return data.decode("utf-8", errors="ignore")


def parse_weights(text: str) -> dict[str, float]:
    """Read client weights written ``"acme=2,northwind=1"``.

    Raises:
        ValueError: An entry without ``=``, an empty client name, a name over 64 bytes, the same
            client twice, or a weight that is not a number above 0 and at most 1000.
    """
    weights: dict[str, float] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, sep, value = (piece.strip() for piece in entry.partition("="))
        if not sep or not name:
            raise ValueError(f"expected client=weight entries separated by commas, got {entry!r}")
        if name in weights:
            raise ValueError(f"client {name!r} is given twice")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"the weight of {name!r} is not a number: {value!r}") from None
        check_weight(name, weight)
        weights[name] = weight
    return weights


def check_weight(client: str, weight: float) -> None:
    """Refuse a client name Temporal would not take as a fairness key, or a weight it would clamp.

    Raises:
        ValueError: An empty name, a name over 64 bytes, or a weight not above 0 and at most 1000.
    """
    if not client:
        raise ValueError("a client needs a name")
    if len(client.encode("utf-8")) > FAIRNESS_KEY_MAX_BYTES:
        raise ValueError(f"client {client[:20]!r}… is longer than {FAIRNESS_KEY_MAX_BYTES} bytes")
    if not (math.isfinite(weight) and 0 < weight <= MAX_WEIGHT):
        raise ValueError(f"the weight of {client!r} must be above 0 and at most {MAX_WEIGHT:g} (got {weight:g})")


def weight_of(weights: Mapping[str, float], client: str) -> float:
    """The fairness weight of ``client``: its own, else 1."""
    return weights.get(client, 1.0)
