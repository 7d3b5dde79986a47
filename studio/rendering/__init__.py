"""Which provider renders and what happens when it fails: the chain, failover decisions, and which
take a shot publishes. Plain functions, no I/O."""

from studio.rendering.chain import resolve_chain
from studio.rendering.failover import error_policy, provider_wait
from studio.rendering.selection import Candidate, choose_best

__all__ = [
    "Candidate",
    "choose_best",
    "error_policy",
    "provider_wait",
    "resolve_chain",
]
