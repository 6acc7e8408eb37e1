"""A fan's walk through a poll in Chromium: the no-JS embed, signing in after an anonymous
vote, and the one-block stand (issue 15, points 10, 11 and 18)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Article, Ballot, ResultsVisibility, User
from tests.browser.live import TIMEOUT_MS, log_in
from tests.polls_fixtures import assert_no_drift, create_poll, option_ids, vote, voter_token

pytestmark = pytest.mark.browser


def bar_text(page: Any, label: str) -> str:
    """The figure beside `label` in the (first) stand, e.g. "50% (1)"."""
    bar = page.locator(".poll-bar", has=page.locator(".poll-bar-label", has_text=label)).first
    return " ".join(bar.locator(".poll-bar-figure").inner_text().split())


def test_no_js_embed_answer_counts_the_vote_it_just_took(
    app: Flask, db: Session, chromium: Any, base_url: str, make_article: Callable[..., Article]
) -> None:
    poll = create_poll(db, make_article(), options=("Ja", "Nee", "Geen idee"))
    other = app.test_client()
    assert (
        vote(other, poll.id, [option_ids(poll)[0]], voter_token(other, poll.id)).status_code == 201
    )

    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base_url}/embed/polls/{poll.id}")
    page.check("label:has-text('Geen idee')")
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("button.poll-submit")
    assert "Bedankt, je stem is geteld." in page.inner_text(".poll-notice")
    assert "Jouw stem: Geen idee" in page.inner_text(".poll-own")
    assert bar_text(page, "Geen idee") == "50% (1)"
    assert bar_text(page, "Ja") == "50% (1)"
    assert "2 stemmen" in page.inner_text(".poll-total")
    context.close()
    db.rollback()
    assert len(list(db.scalars(select(Ballot).where(Ballot.poll_id == poll.id)))) == 2
    assert_no_drift(app)


@pytest.mark.usefixtures("real_csrf")
def test_vote_anonymously_then_log_in_keeps_one_ballot(
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    make_article: Callable[..., Article],
    make_user: Callable[..., User],
) -> None:
    article = make_article()
    poll = create_poll(db, article, options=("Ja", "Nee", "Geen idee"))
    fan = make_user()
    path = f"/artikels/{article.cms_id}"
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(base_url + path)
    page.check(f"#peiling-{poll.id} label:has-text('Nee')")
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(f"#peiling-{poll.id} button.poll-submit")
    assert "Jouw stem: Nee" in page.inner_text(f"#peiling-{poll.id} .poll-own")

    log_in(page, base_url, fan, path)
    poll_block = page.locator(f"#peiling-{poll.id}")
    # Signed in, the same browser sees its ballot (now the account's) and no second form.
    assert "Jouw stem: Nee" in poll_block.locator(".poll-own").inner_text()
    assert poll_block.locator("form.poll-form").count() == 0
    assert bar_text(page, "Nee") == "100% (1)"
    context.close()
    db.rollback()
    rows = list(db.scalars(select(Ballot).where(Ballot.poll_id == poll.id)))
    assert [(b.voter_key, b.user_id) for b in rows] == [(f"u:{fan.id}", fan.id)]
    assert_no_drift(app)


def test_poll_block_form_first_then_one_stand(
    app: Flask, db: Session, chromium: Any, base_url: str, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    after_vote = create_poll(
        db, article, options=("Ja", "Nee"), results_visibility=ResultsVisibility.AFTER_VOTE
    )
    other = app.test_client()
    token = voter_token(other, after_vote.id)
    assert vote(other, after_vote.id, [option_ids(after_vote)[0]], token).status_code == 201
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    # The article page (no script): the form, and no stand until the fan voted.
    page.goto(f"{base_url}/artikels/{article.cms_id}")
    block = page.locator(f"#peiling-{after_vote.id}")
    assert block.locator("form.poll-form").is_visible()
    assert block.locator(".poll-stand").count() == 0
    assert "De stand verschijnt nadat je gestemd hebt." in block.inner_text()
    block.locator("label", has_text="Nee").check()
    with page.expect_navigation():
        block.locator("button.poll-submit").click()
    block = page.locator(f"#peiling-{after_vote.id}")
    assert block.locator("form.poll-form").count() == 0
    assert block.locator(".poll-stand").count() == 1
    assert block.locator(".poll-stand-title").count() == 0
    assert "Enkel aangemelde fans" not in block.inner_text()
    assert bar_text(page, "Nee") == "50% (1)"

    # The embed with its script: the same, drawn by the widget from the API's answer.
    always = create_poll(db, article, options=("Ja", "Nee"))
    page.goto(f"{base_url}/embed/polls/{always.id}")
    assert page.locator("form.poll-form").is_visible()
    assert page.locator(".poll-stand").count() == 1  # the rule says always: form and stand
    page.locator("label", has_text="Ja").check()
    page.locator("button.poll-submit").click()
    page.wait_for_selector(".poll-own")
    page.wait_for_function("() => document.querySelectorAll('.poll-stand').length === 1")
    assert page.locator(".poll-stand-title").count() == 0
    assert bar_text(page, "Ja") == "100% (1)"
    context.close()
    assert_no_drift(app)
