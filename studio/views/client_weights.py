"""Each client's share of the providers, as `studio weight` and the Queue page show it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from studio.catalog.models import Batch
from studio.priority import fairness_key

SET_NOW = "set now"
LAUNCH = "STUDIO_CLIENT_WEIGHTS"
DEFAULT = "default"


@dataclass(frozen=True)
class ClientWeight:
    """One client's weight.

    Attributes:
        client: The fairness key (``[project] client``, else the project's slug).
        weight: The weight its renders dispatch with now.
        source: Where it comes from: ``set now`` (`studio weight`, on the server; it wins),
            ``STUDIO_CLIENT_WEIGHTS`` (given to each batch at launch) or ``default`` (1).
        batches: Its batches that have not ended.
    """

    client: str
    weight: float
    source: str
    batches: int

    def to_json(self) -> dict[str, Any]:
        """One element of `studio weight --json`."""
        return {"client": self.client, "weight": self.weight, "source": self.source, "batches": self.batches}


def client_weights(
    unfinished: Sequence[Batch], launch: Mapping[str, float], overrides: Mapping[str, float]
) -> list[ClientWeight]:
    """Every client with a batch that has not ended, or a weight of its own, by name.

    Args:
        unfinished: The batches that have not ended.
        launch: ``STUDIO_CLIENT_WEIGHTS`` as parsed.
        overrides: The weights re-weighting set on the server.
    """
    counts = Counter(fairness_key(b.client or b.project_slug) for b in unfinished)
    rows = []
    for client in sorted(set(counts) | set(launch) | set(overrides)):
        if client in overrides:
            weight, source = overrides[client], SET_NOW
        elif client in launch:
            weight, source = launch[client], LAUNCH
        else:
            weight, source = 1.0, DEFAULT
        rows.append(ClientWeight(client, weight, source, counts.get(client, 0)))
    return rows
