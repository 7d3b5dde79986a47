"""Which providers a worker gets from its settings (no Temporal needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from pipelines.activities.provider_registry import build_providers
from providers.fal.upscale import FalUpscaler
from providers.replicate.upscale import ReplicateUpscaler
from studio.settings import Settings

VENDOR_ENV = ("MISTRAL_API_KEY", "GEMINI_API_KEY", "REPLICATE_API_TOKEN", "FAL_KEY")


@pytest.fixture(autouse=True)
def no_vendor_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real keys in the environment must not decide what this test sees.
    for name in VENDOR_ENV:
        monkeypatch.delenv(name, raising=False)


def test_without_keys_only_the_local_upscaler(tmp_path: Path) -> None:
    found = build_providers(Settings(home=tmp_path, _env_file=None))  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    assert list(found.upscalers) == ["local"]


def test_vendor_keys_add_their_upscalers(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        REPLICATE_API_TOKEN="r8_test",
        REPLICATE_BASE_URL="http://127.0.0.1:9",
        FAL_KEY="fal-test",
        FAL_BASE_URL="http://127.0.0.1:9",
        _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    )
    found = build_providers(settings)
    assert isinstance(found.upscalers["replicate"], ReplicateUpscaler)
    assert isinstance(found.upscalers["fal"], FalUpscaler)
    # Upscalers share their vendor's task queue with its renderer: no extra queue appears.
    assert found.remote() == ["fal", "replicate"]


def test_upscale_chain_follows_settings_and_ends_with_local(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        FAL_KEY="fal-test",
        FAL_BASE_URL="http://127.0.0.1:9",
        upscale_chain=["fal", "replicate"],
        _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    )
    assert build_providers(settings).upscale_chain() == ["fal", "local"]  # replicate has no key


async def test_provider_limits_reach_the_workers(settings: Settings, client) -> None:
    """The rate limit rides on the vendor's task queue (Temporal enforces it across workers), and
    the in-flight cap and circuit breaker reach the activities' policy."""
    from pipelines.messages import provider_queue
    from pipelines.runtime.worker import build_workers, call_policy

    limited = settings.model_copy(
        update={
            "replicate_api_token": SecretStr("r8_test"),
            "replicate_base_url": "http://127.0.0.1:9",
            "provider_rps": {"replicate": 2.5},
            "provider_max_in_flight": {"replicate": 3},
            "circuit_failures": 4,
        }
    )
    workers = build_workers(client, limited)
    rates = {w.task_queue: w.config().get("max_task_queue_activities_per_second") for w in workers}
    assert rates[provider_queue(limited.task_queue, "replicate")] == 2.5
    assert rates[limited.task_queue] is None
    policy = call_policy(limited, build_providers(limited))
    assert policy.max_in_flight == {"replicate": 3} and policy.circuit_failures == 4
    assert policy.breakers == frozenset({"replicate"})
