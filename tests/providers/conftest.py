"""Fake vendor servers only the adapter tests use (Mistral's and Gemini's are in tests/conftest.py,
for the storyboard CLI tests too)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.providers.fakes import FakeFal, FakeReplicate


@pytest.fixture
def replicate() -> Iterator[FakeReplicate]:
    """A fake Replicate server that refuses inputs its model schema lacks (tests.providers.fake_replicate)."""
    with FakeReplicate() as server:
        yield server


@pytest.fixture
def fal() -> Iterator[FakeFal]:
    """A fake fal queue server that refuses inputs its model schema lacks (tests.providers.fake_fal)."""
    with FakeFal() as server:
        yield server
