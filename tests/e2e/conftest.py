"""Browser tests: Playwright for Python driving Debian's Chromium (/usr/bin/chromium;
`playwright install` cannot download browsers here) against pytest-django's live server.
Without Chromium the tests skip, saying why; .ci/run installs it."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import django
import pytest

os.environ.setdefault("CELLTRIAL_DATA_DIR", tempfile.mkdtemp(prefix="celltrial-test-"))
os.environ.setdefault("CELLTRIAL_SECRET_KEY", "test-only-secret-key-not-for-production-use")
os.environ["DJANGO_SETTINGS_MODULE"] = "celltrial.web.settings"
# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
# still synchronous (Django's documented switch for this case)
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
django.setup()
# the scenario's dates and form values are the page tests' (tests/pages/page_flow.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pages"))

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
TIMEOUT_MS = 15_000  # explicit waits on elements, never sleeps


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-background-networking"]
        )
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser, live_server):
    """open_page() -> a fresh browser context and page at tablet size, on the live server."""
    contexts = []

    def make():
        context = browser.new_context(
            viewport={"width": 1024, "height": 768}, base_url=live_server.url
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()


@pytest.fixture
def shot():
    """shot(page, name): a full-page screenshot into tests/e2e/screenshots/ (git-ignored)."""

    def take(page, name: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached page parts are keyed by the latest audit id, which a flushed database reuses."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
