"""The Content-Security-Policy in Chromium: every page an admin can open (and the embed) loads
with its scripts and styles and without one CSP violation in the console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Article, CommentState, Role, User
from tests.browser.live import TIMEOUT_MS, log_in
from tests.factories import create_comment
from tests.polls_fixtures import create_poll, option_ids, vote, voter_token

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_csrf")]


def test_no_page_breaks_the_content_policy(
    chromium: Any,
    base_url: str,
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    admin = make_user(Role.ADMIN)
    article = make_article("derby-verslag")
    create_comment(db, article, make_user(username="driftig"), CommentState.HELD)
    poll = create_poll(db, article)
    ballot = vote(client, poll.id, option_ids(poll)[:1], voter_token(client, poll.id))
    assert ballot.status_code == 201
    paths = [
        "/",
        f"/artikels/{article.cms_id}",
        "/profiel",
        "/profiel/gemeld",
        "/profiel/meldingen",
        "/moderatie/",
        "/moderatie/statistieken",
        "/moderatie/woorden",
        "/redactie/",
        f"/redactie/peilingen/{poll.id}",
        f"/redactie/peilingen/{poll.id}/resultaten",
        "/beheer/",
        "/beheer/wedstrijddag",
        f"/embed/polls/{poll.id}",
    ]
    context = chromium.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: violations.append(f"{page.url}: {error}"))
    try:
        log_in(page, base_url, admin)
        for path in paths:
            response = page.goto(base_url + path)
            assert response is not None and response.status == 200, path
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("load", timeout=TIMEOUT_MS)
            if path == "/moderatie/":
                # moderator.js ran: it marks (and focuses) the first item.
                page.wait_for_selector(".queue-item.is-current", timeout=TIMEOUT_MS)
            if path.endswith("/resultaten"):
                # The legend's colours come from the stylesheet, not a style attribute.
                colour = page.eval_on_selector(
                    ".legend-members", "el => getComputedStyle(el).backgroundColor"
                )
                assert colour == "rgb(200, 16, 46)"
    finally:
        context.close()

    assert violations == []
