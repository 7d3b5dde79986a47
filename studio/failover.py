"""How a failed provider call is handled: plain decisions, called by activities and tests."""

from __future__ import annotations

from dataclasses import dataclass

# Errors after which the same provider must not be asked again for this take.
FINAL_FOR_PROVIDER = frozenset({"Rejected", "InvalidRequest", "AuthFailed"})
# Errors the creator must hear about: they mean our configuration is wrong, not bad luck.
LOUD = frozenset({"InvalidRequest", "AuthFailed"})
MAX_RETRY_WAIT = 30.0


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
