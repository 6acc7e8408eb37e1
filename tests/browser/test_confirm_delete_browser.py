"""The confirm walk in Chromium with JavaScript off: a fan deletes their comment only after the
confirm page's "yes", then undoes it; an editor deletes a poll through its confirm page, which
names the poll and its vote count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Article, Comment, CommentState, Poll, Role, User
from tests.browser.live import TIMEOUT_MS, log_in
from tests.factories import create_comment, fresh
from tests.polls_fixtures import create_poll

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_csrf")]


def click_through(page: Any, selector: str) -> None:
    """Click a link or button and wait for the page it leads to."""
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(selector)


def state_of(db: Session, comment: Comment) -> CommentState:
    fresh(db)
    state = db.scalar(select(Comment.state).where(Comment.id == comment.id))
    assert state is not None
    return state


def test_a_fan_confirms_deleting_a_comment_and_undoes_it_without_js(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article("kvm-kapitein")
    fan = make_user(username="geelrood")
    comment = create_comment(db, article, fan, CommentState.PUBLISHED, body="Merci kapitein!")
    path = f"/artikels/{article.cms_id}"
    page = chromium.new_context(java_script_enabled=False).new_page()
    log_in(page, base_url, fan, path)

    # "Verwijderen" leads to a page that asks; "Nee" goes back with nothing deleted.
    click_through(page, f"#reactie-{comment.id} a.delete-link")
    assert page.url == f"{base_url}/reacties/{comment.id}/verwijderen"
    assert page.text_content("h1") == "Deze reactie verwijderen?"
    assert "Merci kapitein!" in page.text_content("blockquote")
    click_through(page, "a.cancel")
    assert page.url == f"{base_url}{path}#reactie-{comment.id}"
    assert state_of(db, comment) is CommentState.PUBLISHED

    click_through(page, f"#reactie-{comment.id} a.delete-link")
    click_through(page, "button:has-text('Ja, verwijder mijn reactie')")
    assert state_of(db, comment) is CommentState.DELETED
    assert page.url == f"{base_url}{path}#verwijderd-{comment.id}"
    assert "Je reactie is verwijderd." in page.text_content(".flash")
    assert "Merci kapitein!" in page.text_content(f"#verwijderd-{comment.id}")

    click_through(page, f"#verwijderd-{comment.id} button:has-text('Ongedaan maken')")
    assert state_of(db, comment) is CommentState.PUBLISHED
    assert "Je reactie staat terug." in page.text_content(".flash")
    assert page.text_content(f"ol.thread > li#reactie-{comment.id} > .comment-body") == (
        "Merci kapitein!"
    )
    assert page.locator(".recently-deleted").count() == 0
    page.context.close()


def test_an_editor_confirms_deleting_a_poll_without_js(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article("kvm-peiling")
    poll_id = create_poll(db, article, question="Wie wordt de nieuwe kapitein?").id
    editor = make_user(Role.EDITOR, username="redactie")
    page = chromium.new_context(java_script_enabled=False).new_page()
    log_in(page, base_url, editor, f"/redactie/peilingen/{poll_id}")

    click_through(page, f"a[href='/redactie/peilingen/{poll_id}/verwijderen']")
    assert page.text_content("h1") == "Peiling verwijderen?"
    assert page.text_content(".poll-question") == "Wie wordt de nieuwe kapitein?"
    assert page.text_content(".vote-count") == "nog geen stemmen"
    fresh(db)
    assert db.scalar(select(Poll.id).where(Poll.id == poll_id)) == poll_id

    click_through(page, "button:has-text('Ja, verwijder deze peiling')")
    assert "De peiling is verwijderd." in page.text_content(".flash")
    fresh(db)
    assert db.scalar(select(Poll.id).where(Poll.id == poll_id)) is None
    page.context.close()
