"""Provider errors cross into workflow code typed by kind; failover decides on the kind.

Saved histories and tasks an older worker scheduled carry the ProviderError class names instead:
the one reading (providers.base.error_kind) must decide the same on both, in failover and in
the retries a stage gets.
"""

from __future__ import annotations

import pytest

from pipelines.activities.provider_calls import provider_failure
from providers.base import (
    LEGACY_FAILURE_TYPES,
    AuthFailed,
    BadImage,
    ErrorKind,
    InvalidRequest,
    ProviderError,
    RateLimited,
    Rejected,
    Unavailable,
    error_kind,
)
from studio.rendering.failover import (
    FINAL_FOR_PROVIDER,
    LOUD,
    error_policy,
    final_for_provider,
    is_weather,
)

ERRORS = [RateLimited, Unavailable, Rejected, InvalidRequest, AuthFailed, BadImage]


def test_every_provider_error_has_a_kind_and_its_old_name_maps_to_it() -> None:
    assert {cls.kind for cls in ERRORS} == set(ErrorKind)
    assert {cls.__name__: cls.kind for cls in ERRORS} == LEGACY_FAILURE_TYPES


@pytest.mark.parametrize("cls", ERRORS)
def test_old_class_names_and_new_kinds_decide_alike(cls: type[ProviderError]) -> None:
    old, new = cls.__name__, str(cls.kind)
    assert error_kind(old) is error_kind(new) is cls.kind
    assert final_for_provider(old) == final_for_provider(new)
    assert is_weather(old) == is_weather(new)
    for retry_after in (None, 3.0, 120.0):
        assert error_policy(old, retry_after) == error_policy(new, retry_after)


def test_the_decisions_per_kind() -> None:
    assert {k for k in ErrorKind if final_for_provider(k)} == {ErrorKind.REJECTED, ErrorKind.INVALID, ErrorKind.AUTH}
    assert {k for k in ErrorKind if is_weather(k)} == {ErrorKind.UNAVAILABLE, ErrorKind.RATE_LIMITED}
    # Not provider errors: budget stops are neither, an open circuit or a studio outage is weather.
    assert error_kind("OverBudget") is None and error_kind(None) is None
    assert not final_for_provider("OverBudget") and not is_weather("OverBudget")
    assert is_weather("CircuitOpen") and is_weather("CatalogUnavailable")
    # The retry policy refuses both spellings; the catalog's loud error classes stay class names.
    assert {"Rejected", "rejected", "AuthFailed", "auth", "InvalidRequest", "invalid"} == FINAL_FOR_PROVIDER
    assert {"InvalidRequest", "AuthFailed"} == LOUD


@pytest.mark.parametrize("cls", ERRORS)
def test_an_activity_failure_is_typed_by_kind(cls: type[ProviderError]) -> None:
    failure = provider_failure(cls("boom", provider="gemini", retry_after=5.0))
    assert failure.type == cls.kind
    assert failure.message == "gemini: boom" and failure.details == (5.0,)
    assert failure.non_retryable == (not error_policy(cls.kind, 5.0).retry_same)
