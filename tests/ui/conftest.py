"""The dashboard's browser tests run only where headless Chromium is installed."""

from __future__ import annotations

import pytest

from tests.ui.browser import CHROMIUM, MISSING


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked ``browser`` (see tests/conftest.py) on a machine without Chromium."""
    if item.get_closest_marker("browser") is not None and not CHROMIUM.exists():
        pytest.skip(MISSING)
