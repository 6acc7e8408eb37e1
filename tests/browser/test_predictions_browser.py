"""Score predictions in Chromium on a 360 px phone: a fan predicts on the article page (JavaScript
off and on), the editor enters the result on /redactie/ after kick-off, and the leaderboard, the
fan's own history and the leaderboard embed show the points."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Article, Poll, PollKind, Role, ScorePrediction, User, utcnow
from polls.services import PollDraft, create_poll
from tests.browser.live import TIMEOUT_MS, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
COMPETITION = "Jupiler Pro League 2026-27"


def prediction_poll(db: Session, article: Article) -> Poll:
    poll = create_poll(
        db,
        article,
        PollDraft(
            question="Voorspel de eindstand",
            options=[],
            kind=PollKind.SCORE_PREDICTION,
            home_team="Royal Antwerp FC",
            away_team="Union Saint-Gilloise",
            competition=COMPETITION,
            closes_at=utcnow() + timedelta(days=1),
        ),
        None,
        utcnow(),
    )
    db.commit()
    return poll


def no_sideways_scroll(page: Any) -> bool:
    return page.evaluate(
        "() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
    )


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
@pytest.mark.usefixtures("real_csrf")
def test_predict_resolve_and_the_leaderboard_on_a_phone(
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    make_article: Callable[..., Article],
    make_user: Callable[..., User],
    javascript: bool,
) -> None:
    article = make_article()
    poll = prediction_poll(db, article)
    fan, editor = make_user(username="voorspeller"), make_user(Role.EDITOR)
    context = chromium.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    # Anonymous: no form, an invitation to sign in.
    page.goto(f"{base_url}/artikels/{article.cms_id}")
    assert page.locator(".poll-prediction-form").count() == 0
    assert "Meld je aan om te voorspellen" in page.content()
    log_in(page, base_url, fan)
    page.goto(f"{base_url}/artikels/{article.cms_id}")
    assert no_sideways_scroll(page)
    home = page.locator(f"#p{poll.id}-home")
    box = home.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360 and box["height"] >= 24
    home.fill("2")
    page.fill(f"#p{poll.id}-away", "1")
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(".poll-prediction-form button.poll-submit")
    assert "Bedankt, je voorspelling is genoteerd." in page.content()
    assert "Jouw voorspelling: 2 – 1" in page.inner_text(".poll-own")
    assert page.locator(".poll-prediction-form").count() == 0
    assert no_sideways_scroll(page)
    context.close()
    # Kick-off, then the editor enters the result on /redactie/.
    db.rollback()
    db.execute(
        update(Poll).where(Poll.id == poll.id).values(closes_at=utcnow() - timedelta(minutes=5))
    )
    db.commit()
    context = chromium.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, base_url, editor)
    page.goto(f"{base_url}/redactie/peilingen/{poll.id}/resultaten")
    assert no_sideways_scroll(page)
    page.fill("#home_goals", "2")
    page.fill("#away_goals", "1")
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("form[action$='/uitslag'] button[type=submit]")
    assert "De uitslag is ingevuld: 1 voorspellingen gescoord." in page.content()
    context.close()
    db.rollback()
    assert db.scalars(select(ScorePrediction.points)).all() == [3]
    # The fan: the leaderboard with their rank, their history, the embed.
    context = chromium.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, base_url, fan)
    page.goto(f"{base_url}/klassement")
    row = page.locator(".standings-table tbody tr").first
    assert "voorspeller" in row.inner_text() and "3" in row.inner_text()
    assert "Jouw plaats: 1 van 1" in page.inner_text(".standings-own-rank")
    assert no_sideways_scroll(page)
    page.goto(f"{base_url}/profiel/voorspellingen")
    assert "Royal Antwerp FC – Union Saint-Gilloise" in page.content()
    assert no_sideways_scroll(page)
    page.goto(f"{base_url}/embed/klassement/{COMPETITION}")
    assert "voorspeller" in page.inner_text(".standings-table")
    assert no_sideways_scroll(page)
    page.goto(f"{base_url}/artikels/{article.cms_id}")
    assert "Jouw voorspelling: 2 – 1 · 3 punten" in page.inner_text(".poll-own")
    context.close()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_predict_in_the_poll_embed_on_a_phone(
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    make_article: Callable[..., Article],
    make_user: Callable[..., User],
    javascript: bool,
) -> None:
    poll = prediction_poll(db, make_article())
    fan = make_user()
    context = chromium.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, base_url, fan)
    page.goto(f"{base_url}/embed/polls/{poll.id}")
    assert no_sideways_scroll(page)
    page.fill(f"#p{poll.id}-home", "1")
    page.fill(f"#p{poll.id}-away", "4")
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("button.poll-submit")
    assert "Bedankt, je voorspelling is genoteerd." in page.inner_text(".poll-notice")
    assert "Jouw voorspelling: 1 – 4" in page.inner_text(".poll-own")
    assert "1 voorspelling" in page.inner_text(".prediction-meta")
    assert no_sideways_scroll(page)
    context.close()
    db.rollback()
    assert [(p.home_goals, p.away_goals) for p in db.scalars(select(ScorePrediction))] == [(1, 4)]
