"""Which providers a worker gets from its settings (no Temporal needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.provider_registry import build_providers
from providers.fal_upscale import FalUpscaler
from providers.replicate_upscale import ReplicateUpscaler
from studio.settings import Settings

VENDOR_ENV = ("MISTRAL_API_KEY", "GEMINI_API_KEY", "REPLICATE_API_TOKEN", "FAL_KEY")


@pytest.fixture(autouse=True)
def no_vendor_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real keys in the environment must not decide what this test sees.
    for name in VENDOR_ENV:
        monkeypatch.delenv(name, raising=False)


def test_without_keys_only_the_local_upscaler(tmp_path: Path) -> None:
    found = build_providers(Settings(home=tmp_path, _env_file=None))  # type: ignore[call-arg]
    assert list(found.upscalers) == ["local"]


def test_vendor_keys_add_their_upscalers(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, REPLICATE_API_TOKEN="r8_test", REPLICATE_BASE_URL="http://127.0.0.1:9",
                        FAL_KEY="fal-test", FAL_BASE_URL="http://127.0.0.1:9", _env_file=None)  # type: ignore[call-arg]
    found = build_providers(settings)
    assert isinstance(found.upscalers["replicate"], ReplicateUpscaler)
    assert isinstance(found.upscalers["fal"], FalUpscaler)
    # Upscalers share their vendor's task queue with its renderer: no extra queue appears.
    assert found.remote() == ["fal", "replicate"]
