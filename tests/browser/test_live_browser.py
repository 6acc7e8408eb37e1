"""Live on match day in Chromium (issue 20, point 6): while a poll is open, the article page,
the comments embed and the poll widget refresh on their own at the server's interval, and a
fan who is typing keeps every letter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from models import Article, CommentState, User
from tests.browser.live import TIMEOUT_MS, host_page, log_in
from tests.browser.test_comments_embed_browser import SSO_SECRET, _sso
from tests.factories import create_comment
from tests.polls_fixtures import create_poll, option_ids, vote, voter_token

pytestmark = pytest.mark.browser

HALF_TYPED = "Defour moet blijven, want zonder hem"
REPLY_DRAFT = "Daar ben ik het niet mee eens, want"


@pytest.fixture(autouse=True)
def _settings(app_settings: dict[str, Any]) -> None:
    app_settings["TRIBUNE_LIVE_REFRESH_SECONDS"] = 1  # a check every second with a poll open
    app_settings["EMBED_ALLOWED_ORIGINS"] = "*"
    app_settings["WTF_CSRF_ENABLED"] = True
    app_settings["TRIBUNE_SSO_SECRET"] = SSO_SECRET


def _comment_text(page: Any, text: str) -> Any:
    return page.locator("ol.thread li.comment", has_text=text)


def test_the_article_page_refreshes_its_thread_and_stand_and_keeps_what_is_typed(
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    make_article: Callable[..., Article],
    make_user: Callable[..., User],
) -> None:
    article = make_article()
    poll = create_poll(db, article, options=("Ja", "Nee"))
    fan, other = make_user(), make_user()
    first = create_comment(db, article, other, CommentState.PUBLISHED, body="Eerste reactie hier.")
    path = f"/artikels/{article.cms_id}"
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, base_url, fan, path)
    page.goto(base_url + path)
    box = page.locator("#reageer textarea")
    box.click()
    box.type(HALF_TYPED)

    # Someone else comments and votes: both appear without a reload.
    page.evaluate("window.notReloaded = true")
    create_comment(db, article, other, CommentState.PUBLISHED, body="Tweede reactie, live erbij.")
    _comment_text(page, "Tweede reactie, live erbij.").wait_for(timeout=TIMEOUT_MS)
    voter = app.test_client()
    token = voter_token(voter, poll.id)
    assert vote(voter, poll.id, [option_ids(poll)[0]], token).status_code == 201
    page.locator(f"#peiling-{poll.id} .poll-total", has_text="1 stem").wait_for(timeout=TIMEOUT_MS)
    assert page.evaluate("window.notReloaded") is True
    # The half-typed comment is untouched, the cursor still in it.
    assert box.input_value() == HALF_TYPED
    assert page.evaluate("document.activeElement.closest('#reageer') !== null")
    assert "2 reacties" in page.inner_text("#reacties")

    # A reply being typed inside the thread: the newer list waits behind a button.
    reply = page.locator(f"#reactie-{first.id} details")
    reply.locator("summary", has_text="Antwoorden").click()
    reply_box = page.locator(f"#reply-{first.id}")
    reply_box.type(REPLY_DRAFT)
    create_comment(db, article, other, CommentState.PUBLISHED, body="Derde reactie, wacht even.")
    button = page.locator("#live-nieuw button")
    button.wait_for(timeout=TIMEOUT_MS)
    assert button.inner_text() == "1 nieuwe reactie"
    assert _comment_text(page, "Derde reactie, wacht even.").count() == 0
    assert reply_box.input_value() == REPLY_DRAFT
    button.click()
    _comment_text(page, "Derde reactie, wacht even.").wait_for(timeout=TIMEOUT_MS)
    # Both drafts survived the swap.
    assert page.locator(f"#reply-{first.id}").input_value() == REPLY_DRAFT
    assert box.input_value() == HALF_TYPED
    context.close()


def test_without_javascript_the_page_is_the_same_and_stays_still(
    db: Session, chromium: Any, base_url: str, make_article: Callable[..., Article],
    make_user: Callable[..., User],
) -> None:
    article = make_article()
    create_poll(db, article)
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base_url}/artikels/{article.cms_id}")
    create_comment(db, article, make_user(), CommentState.PUBLISHED, body="Pas na herladen.")
    page.wait_for_timeout(2500)
    assert _comment_text(page, "Pas na herladen.").count() == 0
    page.reload()
    assert _comment_text(page, "Pas na herladen.").count() == 1
    context.close()


def test_the_comments_embed_puts_others_comments_in_and_waits_for_a_typing_reader(
    db: Session,
    chromium: Any,
    base_url: str,
    make_article: Callable[..., Article],
    make_user: Callable[..., User],
) -> None:
    article = make_article()
    create_poll(db, article)
    other = make_user()
    html = (
        "<!doctype html><html lang='nl'><head><title>Krant</title></head><body>"
        f"<div data-tribune-comments='{article.cms_id}' data-tribune-sso='{_sso()}'></div>"
        f"<script src='{base_url}/static/comments.js' async></script></body></html>"
    )
    context = chromium.new_context()
    with host_page(html) as host_url:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(host_url)
        page.wait_for_selector("[data-tribune-comments] #tribune-embed", timeout=TIMEOUT_MS)
        create_comment(db, article, other, CommentState.PUBLISHED, body="Live in de embed.")
        _comment_text(page, "Live in de embed.").wait_for(timeout=TIMEOUT_MS)

        # A reader typing in the embed: the newer thread waits behind a button, and the text
        # is still there after it is pressed.
        page.wait_for_selector("[data-tribune-comments] .who", timeout=TIMEOUT_MS)
        box = page.locator("[data-tribune-comments] #reageer textarea")
        box.click()
        box.type(HALF_TYPED)
        create_comment(db, article, other, CommentState.PUBLISHED, body="Nog eentje erbij.")
        page.locator("[data-tribune-comments] button[data-new]").wait_for(timeout=TIMEOUT_MS)
        assert _comment_text(page, "Nog eentje erbij.").count() == 0
        assert box.input_value() == HALF_TYPED
        page.locator("[data-tribune-comments] button[data-new]").click()
        _comment_text(page, "Nog eentje erbij.").wait_for(timeout=TIMEOUT_MS)
        assert page.locator("[data-tribune-comments] #reageer textarea").input_value() == HALF_TYPED
    context.close()


def test_the_poll_widget_refreshes_its_stand_while_the_poll_is_open(
    app: Flask, db: Session, chromium: Any, base_url: str, make_article: Callable[..., Article]
) -> None:
    poll = create_poll(db, make_article(), options=("Ja", "Nee"))
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base_url}/embed/polls/{poll.id}")
    page.check("label:has-text('Nee')")  # a choice being made, not yet sent
    voter = app.test_client()
    token = voter_token(voter, poll.id)
    assert vote(voter, poll.id, [option_ids(poll)[0]], token).status_code == 201
    page.locator(".poll-total", has_text="1 stem").wait_for(timeout=TIMEOUT_MS)
    assert page.is_checked(f"input[value='{option_ids(poll)[1]}']")
    context.close()
