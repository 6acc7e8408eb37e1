"""Browser fixtures: Debian's Chromium through Playwright (skips when either is missing)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import missing_service

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium that blocks third-party cookies."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_service("chromium/playwright not available")
    if not os.access(CHROMIUM, os.X_OK):
        missing_service("chromium/playwright not available")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # Third-party cookies phased out, as in Incognito/Safari: only partitioned (CHIPS)
            # cookies survive inside a cross-site iframe.
            args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"],
        )
        yield browser
        browser.close()
