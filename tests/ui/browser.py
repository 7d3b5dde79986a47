"""Headless Chromium for the dashboard's browser tests: Debian's binary driven by playwright.

``playwright install`` cannot download here, so the tests use ``/usr/bin/chromium`` (``.ci/run``
installs it when missing) and skip with a reason where it is absent.
"""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING = "headless Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
SCREENS = Path("/tmp/studio-screens")  # every screenshot is copied here, to look at after a run


def healthy(url: str) -> bool:
    """Whether the Streamlit server at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless browser (playwright's ``Browser``), closed on the way out."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def screenshot(page: Any, path: Path) -> None:
    """A full-page screenshot at ``path``, copied to :data:`SCREENS`."""
    await page.screenshot(path=str(path), full_page=True)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENS / path.name)


async def all_images_loaded(page: Any, at_least: int, timeout: float = 20_000) -> None:
    """Wait until the page shows at least ``at_least`` Streamlit images, every one decoded."""
    await page.wait_for_function(
        """(n) => {
            const imgs = [...document.querySelectorAll('[data-testid="stImage"] img')];
            return imgs.length >= n && imgs.every((i) => i.complete && i.naturalWidth > 0);
        }""",
        arg=at_least,
        timeout=timeout,
    )
