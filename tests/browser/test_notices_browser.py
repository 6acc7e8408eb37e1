"""The DSA notice form from the comments embed in Chromium: a host page on another origin,
third-party cookies blocked, CSRF on. "Illegale inhoud melden" opens Tribune's own page in a new
window, where the logged-out form works with its first-party CSRF cookie."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Article, CommentState, Notice, NoticeGround, User
from tests.browser.live import TIMEOUT_MS, host_page
from tests.factories import create_comment, fresh

pytestmark = pytest.mark.browser

ARTICLE = "derby-embed"
EMBED = "[data-tribune-comments]"


@pytest.fixture(autouse=True)
def _settings(app_settings: dict[str, Any]) -> None:
    app_settings["EMBED_ALLOWED_ORIGINS"] = "*"
    app_settings["WTF_CSRF_ENABLED"] = True


def test_a_logged_out_reader_files_a_notice_from_the_embed(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
) -> None:
    article = Article(cms_id=ARTICLE, title="Derby")
    db.add(article)
    db.commit()
    comment = create_comment(db, article, make_user(), CommentState.PUBLISHED)
    html = (
        "<!doctype html><html lang='nl'><head><title>Krant</title></head><body>"
        f"<div data-tribune-comments='{ARTICLE}'></div>"
        f"<script src='{base_url}/static/comments.js' async></script></body></html>"
    )
    context = chromium.new_context(viewport={"width": 800, "height": 900})
    try:
        with host_page(html) as host_url:
            page = context.new_page()
            page.goto(host_url)
            page.wait_for_selector(f"{EMBED} #tribune-embed", timeout=TIMEOUT_MS)
            link = page.locator(f"{EMBED} a.notice-link")
            assert link.get_attribute("href") == f"{base_url}/melden/{comment.id}"
            with context.expect_page(timeout=TIMEOUT_MS) as opened:
                link.click()
            form = opened.value
            form.wait_for_selector("#ground", timeout=TIMEOUT_MS)
            assert form.url == f"{base_url}/melden/{comment.id}"
            # First a refusal: Dutch errors beside the fields, what was typed kept.
            form.fill("#explanation", "Te kort")
            form.fill("#name", "Els Peeters")
            form.click("button[type=submit]")
            form.wait_for_selector("#ground-error", timeout=TIMEOUT_MS)
            assert form.inner_text("#ground-error") == "Kies een wettelijke grond."
            assert "te goeder trouw" in form.inner_text("#good_faith-error")
            assert form.input_value("#explanation") == "Te kort"
            assert form.input_value("#name") == "Els Peeters"
            # Then the notice goes through (its CSRF token and cookie are first-party here).
            form.select_option("#ground", "racisme")
            form.fill("#explanation", "Racistische scheldwoorden aan het adres van een speler.")
            form.fill("#email", "els@example.test")
            form.check("#good_faith")
            form.click("button[type=submit]")
            form.wait_for_selector("text=Melding ontvangen", timeout=TIMEOUT_MS)
            assert form.url == f"{base_url}/melden/ontvangen"
            # The form's window holds a first-party cookie of Tribune; the host page's embed,
            # loaded again, still sends none (third-party cookies blocked, and it asks for none).
            assert context.cookies(base_url)
            sent: list[dict[str, str]] = []
            page.on(
                "request",
                lambda r: sent.append(r.all_headers()) if r.url.startswith(base_url) else None,
            )
            page.reload()
            page.wait_for_selector(f"{EMBED} a.notice-link", timeout=TIMEOUT_MS)
            assert sent and all("cookie" not in headers for headers in sent)
    finally:
        context.close()
    fresh(db)
    [notice] = db.scalars(select(Notice)).all()
    assert (notice.comment_id, notice.ground) == (comment.id, NoticeGround.RACISME)
    assert notice.notifier_user_id is None
