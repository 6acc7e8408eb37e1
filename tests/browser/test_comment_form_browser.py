"""The comment forms of the article page in Chromium: a fan posts a clean comment, one that
screening holds, and a reply through "Antwoorden"; checked on the page and in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Article, Comment, CommentState, Flag, User
from tests.browser.live import TIMEOUT_MS, log_in
from tests.factories import assert_no_drift, create_comment, fresh

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_csrf")]

CLEAN = "Sterke match van de verdediging gisteren."
HELD = "Defour is een kankerlijer"  # compound curse: held for a moderator
REPLY = "Ik denk Defour, wie anders?"


def latest_by(db: Session, author: User) -> Comment:
    """The author's newest comment, as the app committed it."""
    fresh(db)
    comment = db.scalar(
        select(Comment).where(Comment.author_id == author.id).order_by(Comment.id.desc()).limit(1)
    )
    assert comment is not None
    return comment


def submit(page: Any, button: str) -> None:
    """Click a submit button and wait for the redirect back to the article."""
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(button)


def test_fan_posts_clean_held_and_reply_through_the_forms(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article("kvm-kapitein", teaser="Wie wordt de nieuwe kapitein van KV Mechelen?")
    other = make_user(username="kenner")
    parent = create_comment(
        db, article, other, CommentState.PUBLISHED, body="Wie wordt de nieuwe kapitein?"
    )
    fan = make_user(username="geelrood")
    path = f"/artikels/{article.cms_id}"
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, base_url, fan, path)
    assert page.text_content("#reacties") == "1 reactie"

    # A clean comment: published at once, in the thread.
    page.fill("#body", CLEAN)
    submit(page, "#reageer button[type=submit]")
    posted = latest_by(db, fan)
    assert posted.state is CommentState.PUBLISHED and posted.parent_id is None
    assert page.url == f"{base_url}{path}#reactie-{posted.id}"
    assert "Je reactie staat online." in page.text_content(".flash")
    own = f"ol.thread > li#reactie-{posted.id}"
    assert page.text_content(f"{own} > .comment-body") == CLEAN
    assert "geelrood" in page.text_content(f"{own} > .comment-meta")
    assert page.text_content("#reacties") == "2 reacties"

    # Screening holds this one: only its author sees it, as waiting for a moderator.
    page.fill("#body", HELD)
    submit(page, "#reageer button[type=submit]")
    waiting = latest_by(db, fan)
    assert waiting.state is CommentState.HELD and waiting.body == HELD
    flags = list(db.scalars(select(Flag.code).where(Flag.comment_id == waiting.id)))
    assert "compound_curse" in flags
    assert "Je reactie wordt eerst nagekeken door een moderator." in page.text_content(".flash")
    pending = page.locator(f".own-pending li#reactie-{waiting.id}")
    assert pending.locator(".comment-body").text_content() == HELD
    assert "Wacht op nakijken door een moderator." in pending.text_content()
    assert "Signalen: Beledigend" in pending.text_content()
    assert HELD not in page.text_content("ol.thread")
    assert page.text_content("#reacties") == "2 reacties"

    # Someone else (not logged in) sees neither the held comment nor the author's box.
    stranger = chromium.new_context().new_page()
    stranger.goto(base_url + path)
    assert CLEAN in stranger.text_content("ol.thread")
    assert HELD not in stranger.content()
    assert stranger.locator(".own-pending").count() == 0
    stranger.context.close()

    # A reply through "Antwoorden" on the other fan's comment: nested under it.
    box = page.locator(f"#reactie-{parent.id} > .comment-actions > details").filter(
        has=page.locator("summary", has_text="Antwoorden")
    )
    assert not page.is_visible(f"#reply-{parent.id}")
    box.locator("summary").click()
    page.fill(f"#reply-{parent.id}", REPLY)
    submit(page, f"#reactie-{parent.id} > .comment-actions button:has-text('Plaats antwoord')")
    reply = latest_by(db, fan)
    assert reply.state is CommentState.PUBLISHED
    assert (reply.parent_id, reply.root_id, reply.depth) == (parent.id, parent.id, 1)
    assert "Je reactie staat online." in page.text_content(".flash")
    nested = f"ol.thread > li#reactie-{parent.id} > ol.replies > li#reactie-{reply.id}"
    assert page.text_content(f"{nested} > .comment-body") == REPLY
    assert page.locator(f"ol.thread > li#reactie-{reply.id}").count() == 0  # not top-level
    assert page.text_content("#reacties") == "3 reacties"
    context.close()

    fresh(db)
    assert db.get(Article, article.id).comment_count == 3
    assert_no_drift(db)
