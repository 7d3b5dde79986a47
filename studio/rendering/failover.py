"""How a failed provider call is handled: plain decisions, called by activities and tests."""

from __future__ import annotations

from dataclasses import dataclass

from providers.base import LEGACY_FAILURE_TYPES, ErrorKind, error_kind

# Kinds after which the same provider must not be asked again for this take.
FINAL_KINDS = frozenset({ErrorKind.REJECTED, ErrorKind.INVALID, ErrorKind.AUTH})
# Kinds the creator must hear about: they mean our configuration is wrong, not bad luck.
LOUD_KINDS = frozenset({ErrorKind.INVALID, ErrorKind.AUTH})
# Kinds that say a provider is down or throttling, not that it refused this take.
WEATHER_KINDS = frozenset({ErrorKind.UNAVAILABLE, ErrorKind.RATE_LIMITED})
# Failure types, old and new, that end a provider for a take (a retry policy's non-retryable list).
FINAL_FOR_PROVIDER = frozenset(
    {*(k.value for k in FINAL_KINDS), *(name for name, kind in LEGACY_FAILURE_TYPES.items() if kind in FINAL_KINDS)}
)
# The catalog's error classes (ProviderError class names) of loud failures, as `studio status` reads them.
LOUD = frozenset(name for name, kind in LEGACY_FAILURE_TYPES.items() if kind in LOUD_KINDS)
MAX_RETRY_WAIT = 30.0
# Failures other than a provider's own that say it cannot be asked now, not that it refused:
# an open circuit, and outages of the studio's own catalog, asset store or disk.
STUDIO_WEATHER = frozenset({"CircuitOpen", "CatalogUnavailable", "AssetStoreUnavailable", "DiskUnavailable"})
PROVIDER_WAIT_FIRST = 10.0
PROVIDER_WAIT_CAP = 300.0


def final_for_provider(failure_type: str | None) -> bool:
    """Whether a failure ends this provider for the take (refused, invalid, bad key)."""
    return error_kind(failure_type) in FINAL_KINDS


def is_weather(failure_type: str | None) -> bool:
    """Whether a failure says a provider is down or throttling (or cannot be asked now).

    When every provider left in a chain fails so, the take waits and tries the chain again
    (see :func:`provider_wait`).
    """
    return failure_type in STUDIO_WEATHER or error_kind(failure_type) in WEATHER_KINDS


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


def error_policy(failure_type: str | None, retry_after: float | None = None) -> ErrorPolicy:
    """Decide what follows a failed call of ``failure_type`` (a kind, or a ProviderError class name).

    A rate limit is retried on the same provider only when the vendor asks for a short wait;
    a long wait is cheaper to spend on the next provider in the chain.
    """
    kind = error_kind(failure_type)
    if kind in FINAL_KINDS:
        return ErrorPolicy(retry_same=False, delay=None, loud=kind in LOUD_KINDS)
    if kind is ErrorKind.RATE_LIMITED:
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
    backoff = min(cap, first * 2.0 ** max(0, round - 1))
    return max(backoff, hint or 0.0)
