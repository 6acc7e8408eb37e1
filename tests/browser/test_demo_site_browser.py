"""The demo news site of `make run` in Chromium, beside Tribune on a real port: another site
(localhost vs 127.0.0.1) whose pages fill their tallies through counts.js, frame the poll embed,
and whose "Afmelden" also logs the reader out of the comments embed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from demo.seed import DEFOUR_ID, read_headlines, slugify
from demo.site import SiteSettings, create_site
from models import Article, CommentState, User
from tests.browser.live import TIMEOUT_MS
from tests.factories import CLEAN_TEXTS, create_comment
from tests.polls_fixtures import create_poll

pytestmark = pytest.mark.browser

FIRST_HEADLINE = slugify(read_headlines()[0]["headline"])
# Stands in for Tribune's comments.js: records the logout the site's "Afmelden" must ask for.
COMMENTS_STUB = """
window.Tribune = window.Tribune || {};
window.Tribune.comments = {
  login: function () {},
  logout: function () { localStorage.setItem("tribune-logout", String(Date.now())); },
};
"""


@pytest.fixture(autouse=True)
def embeds_allowed(app_settings: dict[str, Any]) -> None:
    app_settings["EMBED_ALLOWED_ORIGINS"] = "*"
    app_settings["TRIBUNE_TALLY_CACHE_SECONDS"] = 0


@pytest.fixture
def articles(db: Session, make_user: Callable[..., User]) -> dict[str, Article]:
    """The Defour article (2 comments) and the first headline (1 comment)."""
    author = make_user(username="supporter")
    rows = {
        DEFOUR_ID: Article(cms_id=DEFOUR_ID, title="Defour volgend jaar nog bij KV Mechelen?"),
        FIRST_HEADLINE: Article(cms_id=FIRST_HEADLINE, title="Eerste kop"),
    }
    db.add_all(rows.values())
    db.commit()
    texts = iter(CLEAN_TEXTS)
    for cms_id, count in ((DEFOUR_ID, 2), (FIRST_HEADLINE, 1)):
        for _ in range(count):
            create_comment(db, rows[cms_id], author, CommentState.PUBLISHED, body=next(texts))
    return rows


@pytest.fixture
def site_url(db: Session, base_url: str, articles: dict[str, Article]) -> Iterator[str]:
    """The demo site on localhost:<free port>, pointed at the test's Tribune and its poll."""
    poll_id = create_poll(db, articles[DEFOUR_ID], question="Moet KVM verder doen met Defour?").id
    site = create_site(SiteSettings(tribune_url=base_url, sso_secret="s" * 32, poll_id=poll_id))
    server = make_server("127.0.0.1", 0, site, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_meest_recent_on_the_demo_site_shows_tribunes_tallies(chromium: Any, site_url: str) -> None:
    page = chromium.new_context().new_page()

    page.goto(site_url + "/")

    for cms_id, text in ((DEFOUR_ID, "2 reacties"), (FIRST_HEADLINE, "1 reactie")):
        tally = page.locator(f'[data-tribune-tally="{cms_id}"]').first
        tally.wait_for(state="attached", timeout=TIMEOUT_MS)
        page.wait_for_function(
            "([id, text]) => [...document.querySelectorAll(`[data-tribune-tally='${id}']`)]"
            ".every(e => e.textContent === text)",
            arg=[cms_id, text],
            timeout=TIMEOUT_MS,
        )


def test_the_defour_article_frames_tribunes_poll(chromium: Any, site_url: str) -> None:
    page = chromium.new_context().new_page()

    page.goto(f"{site_url}/artikel/{DEFOUR_ID}")

    poll = page.frame_locator("[data-tribune-poll] iframe")
    poll.get_by_text("Moet KVM verder doen met Defour?").wait_for(timeout=TIMEOUT_MS)
    assert page.locator('[data-tribune-comments="' + DEFOUR_ID + '"]').count() == 1


def test_afmelden_logs_the_reader_out_of_the_comments_embed_too(
    chromium: Any, base_url: str, site_url: str
) -> None:
    page = chromium.new_context().new_page()
    page.route(
        f"{base_url}/static/comments.js",
        lambda route: route.fulfill(body=COMMENTS_STUB, content_type="text/javascript"),
    )
    page.goto(f"{site_url}/artikel/{DEFOUR_ID}")
    page.get_by_role("link", name="Aanmelden als supporter").click()
    page.fill("#naam", "Jan Peeters")
    page.get_by_role("button", name="Aanmelden als supporter").click()
    page.get_by_text("Aangemeld als Jan Peeters").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("[data-tribune-sso]").count() == 1
    page.wait_for_function("() => window.Tribune && window.Tribune.comments", timeout=TIMEOUT_MS)

    page.get_by_role("button", name="Afmelden").click()

    page.get_by_role("link", name="Aanmelden als supporter").wait_for(timeout=TIMEOUT_MS)
    assert page.url == f"{site_url}/artikel/{DEFOUR_ID}"
    assert page.locator("[data-tribune-sso]").count() == 0
    assert page.evaluate("localStorage.getItem('tribune-logout')")


def test_the_defour_article_shows_tribunes_comments_under_the_sites_csp(
    chromium: Any, site_url: str
) -> None:
    """The real comments.js on the demo site, whose CSP allows Tribune for scripts, fetches
    and frames only (no style-src for it: the CSS is adopted into the shadow root)."""
    page = chromium.new_context().new_page()
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )

    response = page.goto(f"{site_url}/artikel/{DEFOUR_ID}")

    assert response is not None and "connect-src" in response.headers["content-security-policy"]
    comments = page.locator(f'[data-tribune-comments="{DEFOUR_ID}"] li.comment')
    comments.first.wait_for(timeout=TIMEOUT_MS)
    assert comments.count() == 2
    # The site's serif-everywhere, framed-div CSS stays outside; the embed's own style applies.
    family = comments.first.evaluate("e => getComputedStyle(e).fontFamily")
    assert "system-ui" in family and "Georgia" not in family
    assert not violations
