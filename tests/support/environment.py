"""The environment the dashboard and the CLI read their settings from, set to a test's settings."""

from __future__ import annotations

import json

import pytest

from studio.settings import Settings
from tests.backends import backend_env

OWNER = "Ada"
"""The owner name the dashboard shows in tests."""

CLEARED = (
    "STUDIO_DASHBOARD_HOST",
    "STUDIO_DASHBOARD_TOKEN",
    "STUDIO_SHARE_SECRET",
    "DATABASE_URL",
    "STUDIO_ASSETS",
    "STUDIO_S3_ENDPOINT_URL",
    "STUDIO_S3_REGION",
    # The developer's own vendor keys must not change what the pages show (the Launch estimate).
    "MISTRAL_API_KEY",
    "GEMINI_API_KEY",
    "REPLICATE_API_TOKEN",
    "FAL_KEY",
    # Nor their own GPUs (the Batches page's "Render nodes" panel, `studio nodes`).
    "COMFYUI_URLS",
    "COMFYUI_TOKEN",
    "A1111_URLS",
    "A1111_AUTH",
    "STUDIO_PRICES",
)
"""Variables of the developer's shell that would point the studio elsewhere than the test's settings."""


def point_environment_at(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set (through ``monkeypatch``, so undone after the test) the variables that make a settings
    object read from the environment equal to ``settings``: home, Temporal, task queue, owner,
    prices and the catalog and store backends."""
    monkeypatch.setenv("STUDIO_HOME", str(settings.home))
    monkeypatch.setenv("TEMPORAL_ADDRESS", settings.address)
    monkeypatch.setenv("STUDIO_TASK_QUEUE", settings.task_queue)
    monkeypatch.setenv("STUDIO_OWNER_NAME", OWNER)
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    if settings.prices:  # a test that prices a provider for its worker prices it for the dashboard too
        monkeypatch.setenv("STUDIO_PRICES", json.dumps(settings.prices))
    for name, value in backend_env(settings).items():  # the test's catalog and store, when not the defaults
        monkeypatch.setenv(name, value)
