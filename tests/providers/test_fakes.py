"""The fake vendor servers themselves: lifecycle and scripting (they are reused end to end)."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.providers.fakes import FakeFal, FakeGemini, FakeMistral, FakeReplicate, Step


@pytest.mark.parametrize("cls", [FakeGemini, FakeMistral, FakeReplicate, FakeFal])
def test_start_stop_joins_threads(cls: type) -> None:
    before = threading.active_count()
    with cls() as fake:
        assert fake.base_url.startswith("http://127.0.0.1:")
        httpx.get(fake.url("/nowhere"), timeout=2)
        assert fake.count() == 1 and fake.crashes == []
    assert threading.active_count() == before


def test_stop_wakes_slow_handlers() -> None:
    fake = FakeGemini().start()
    fake.script(["slow:30"])
    with pytest.raises(httpx.TimeoutException):
        httpx.post(fake.url("/v1beta/models/m:generateContent"), json={}, timeout=0.2)
    fake.stop()  # returns promptly instead of waiting 30 s


def test_scripting() -> None:
    assert Step.parse("429:2") == Step("429", "2") and Step("429").status == 429
    assert Step.parse("slow:0.5").status is None
    with FakeReplicate() as fake:
        with pytest.raises(ValueError):
            fake.script(["ok"], op="nope")
        fake.script(["500", "ok"])
        assert fake.pending() == 2
        fake.reset()
        assert fake.pending() == 0
