"""How a failed provider call is handled: plain decisions, called by activities and tests."""

from __future__ import annotations

from dataclasses import dataclass

# Errors after which the same provider must not be asked again for this take.
FINAL_FOR_PROVIDER = frozenset({"Rejected", "InvalidRequest", "AuthFailed"})
# Errors the creator must hear about: they mean our configuration is wrong, not bad luck.
LOUD = frozenset({"InvalidRequest", "AuthFailed"})
MAX_RETRY_WAIT = 30.0
# Failures that say a provider is down or throttling, not that it refused this take: when every
# provider left in a chain fails so, the take waits and tries the chain again (see provider_wait).
WEATHER = frozenset(
    {"Unavailable", "RateLimited", "CircuitOpen", "CatalogUnavailable", "AssetStoreUnavailable", "DiskUnavailable"}
)
PROVIDER_WAIT_FIRST = 10.0
PROVIDER_WAIT_CAP = 300.0


@dataclass(frozen=True)
class ErrorPolicy:
    """What to do after one failed call.

    Attributes:
        retry_same: Try the same provider again (within the attempt budget).
        delay: Seconds to wait before that retry, when the vendor said.
        loud: Flag it in status (a key or request problem, not an outage).
    """

    retry_same: bool
    delay: float | None
    loud: bool


def error_policy(error_class: str, retry_after: float | None = None) -> ErrorPolicy:
    """Decide what follows an error of class ``error_class`` (a ProviderError subclass name).

    A rate limit is retried on the same provider only when the vendor asks for a short wait;
    a long wait is cheaper to spend on the next provider in the chain.
    """
    if error_class in FINAL_FOR_PROVIDER:
        return ErrorPolicy(retry_same=False, delay=None, loud=error_class in LOUD)
    if error_class == "RateLimited":
        if retry_after is not None and retry_after > MAX_RETRY_WAIT:
            return ErrorPolicy(retry_same=False, delay=None, loud=False)
        return ErrorPolicy(retry_same=True, delay=retry_after, loud=False)
    return ErrorPolicy(retry_same=True, delay=None, loud=False)


def provider_wait(
    round: int, hint: float | None = None, *, first: float = PROVIDER_WAIT_FIRST, cap: float = PROVIDER_WAIT_CAP
) -> float:
    """Seconds a take waits before its ``round``-th new try of a chain whose providers are all down.

    Doubles from ``first`` up to ``cap``, and never less than the provider asked for
    (``Retry-After``, an open circuit's cool-down). A provider back after an hour is found within
    five minutes; a shot waiting so a whole day (one take probes for all of its takes, see
    pipelines/workflows/shot.py) adds about 300 rounds to its history, some 20 events each with
    a chain of three providers: about 6,000, well under Temporal's 51,200-event limit.
    """
    backoff = min(cap, first * 2 ** max(0, round - 1))
    return max(backoff, hint or 0.0)
