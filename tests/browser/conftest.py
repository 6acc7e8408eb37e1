"""Browser fixtures: Debian's Chromium through Playwright (skips when either is missing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.browser.live import live_app
from tests.conftest import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def chromium(playwright_driver: Any) -> Iterator[Any]:
    """A headless Chromium that blocks third-party cookies."""
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        # Third-party cookies phased out, as in Incognito/Safari: only partitioned (CHIPS)
        # cookies survive inside a cross-site iframe.
        args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"],
    )
    yield browser
    browser.close()


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The test's app on a real port (127.0.0.1:<free port>)."""
    with live_app(app) as url:
        yield url


@pytest.fixture
def real_csrf(app_settings: dict[str, Any]) -> None:
    """A real browser posts the real forms: let them carry (and need) their CSRF tokens."""
    app_settings["WTF_CSRF_ENABLED"] = True
