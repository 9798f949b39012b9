"""A real Chromium for the web page's tests: Debian's ``chromium`` driven by Playwright for
Python (never a browser Playwright downloads). Where none can be had the tests are skipped
with one summary line, or fail with THIDUA_REQUIRE_BROWSER=1 (what ``.ci/run`` sets)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

SKIPPED = "no Chromium for the browser tests"
CHROMIUM = os.environ.get("THIDUA_CHROMIUM", "/usr/bin/chromium")
# Where the screenshots a run takes are kept for a person to look at (not committed).
SCREENSHOTS = Path(
    os.environ.get("THIDUA_SCREENSHOTS", Path(__file__).resolve().parent.parent / "screenshots")
)
PHONE = {"width": 390, "height": 844}  # a common phone's screen, in CSS pixels
DESKTOP = {"width": 1280, "height": 800}
# The flags a closed network needs: no call home, no component updates, no sync.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The Chromium to drive; skips the test (or fails it, THIDUA_REQUIRE_BROWSER=1) when
    there is none, or Playwright is not installed."""
    problem = None
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        problem = "Playwright for Python is not installed (pip install -e '.[test]')"
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    if problem is None and path is None:
        problem = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    if problem is not None:
        message = f"{SKIPPED}: {problem}"
        if os.environ.get("THIDUA_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; THIDUA_REQUIRE_BROWSER=1 requires one", pytrace=False)
        pytest.skip(message)
    assert path is not None
    return path


@asynccontextmanager
async def phone_browser() -> AsyncIterator[Any]:
    """A headless Chromium; yields a function making a new context (a new browser profile:
    no cookie, downloads accepted), phone-sized unless ``phone=False``, in Vietnamese."""
    executable = chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=executable, args=ARGS)
        try:

            async def context(locale: str = "vi-VN", phone: bool = True, **more: Any) -> Any:
                return await browser.new_context(
                    viewport=PHONE if phone else DESKTOP,
                    device_scale_factor=2 if phone else 1,
                    is_mobile=phone,
                    has_touch=phone,
                    locale=locale,
                    accept_downloads=True,
                    **more,
                )

            yield context
        finally:
            await browser.close()


async def screenshot(page: Any, name: str) -> Path:
    """The whole page as a PNG in SCREENSHOTS, named ``name``."""
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
