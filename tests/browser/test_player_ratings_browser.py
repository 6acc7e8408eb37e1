"""Rating a line-up in Chromium on a 360 px phone: the article page and the embed, with
JavaScript off (the plain form) and on (the widget script leaves the ratings form alone)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Article, PlayerRating, PollKind, Role, User, utcnow
from polls.services import PollDraft, create_poll
from tests.browser.live import TIMEOUT_MS
from tests.polls_fixtures import assert_no_drift

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
LINEUP = [
    {"name": "Koen Casteels", "shirt_number": 1},
    {"name": "Leander Dendoncker", "shirt_number": 32},
    {"name": "Kevin De Bruyne", "shirt_number": 7},
    {"name": "Romelu Lukaku", "shirt_number": 10},
    {"name": "Loïs Openda", "shirt_number": 20, "role": "substitute"},
]


@pytest.fixture(autouse=True)
def low_motm_minimum(app_settings: dict[str, Any]) -> None:
    app_settings["TRIBUNE_MOTM_MIN_RATINGS"] = 1


def ratings_poll(db: Session, article: Article) -> Any:
    poll = create_poll(
        db,
        article,
        PollDraft(
            question="Geef de Rode Duivels een cijfer",
            options=[],
            kind=PollKind.PLAYER_RATINGS,
            players=LINEUP,
            coach="Rudi Garcia",
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


def pick(page: Any, poll: Any, shirt: int | None, score: int) -> None:
    player = next(p for p in poll.players if p.shirt_number == shirt)
    page.select_option(f"#p{poll.id}-s{player.id}", str(score))


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
@pytest.mark.usefixtures("real_csrf")
def test_rating_a_lineup_on_the_article_page_on_a_phone(
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    make_article: Callable[..., Article],
    javascript: bool,
) -> None:
    article = make_article()
    poll = ratings_poll(db, article)
    context = chromium.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base_url}/artikels/{article.cms_id}")
    assert page.locator(".poll-ratings-form select").count() == 6
    assert no_sideways_scroll(page)
    # Each select is a reachable, tappable control at 360 px.
    box = page.locator(f"#p{poll.id}-s{poll.players[2].id}").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360 and box["height"] >= 30
    pick(page, poll, 7, 9)
    pick(page, poll, 10, 6)
    pick(page, poll, None, 7)
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(".poll-ratings-form button.poll-submit")
    assert "Bedankt, je cijfers zijn geteld." in page.content()
    own = page.inner_text(".poll-own")
    assert "Kevin De Bruyne 9" in own and "Romelu Lukaku 6" in own and "Rudi Garcia 7" in own
    assert "Man van de match: Kevin De Bruyne (9,0)" in page.inner_text(".ratings-motm")
    row = page.locator(".ratings-table tr", has_text="Romelu Lukaku")
    assert row.locator(".ratings-average").inner_text() == "6,0"
    assert page.locator(".poll-ratings-form").count() == 0
    assert no_sideways_scroll(page)
    context.close()
    db.rollback()
    assert sorted(db.scalars(select(PlayerRating.score))) == [6, 7, 9]
    assert_no_drift(app)


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_rating_a_lineup_in_the_embed_on_a_phone(
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    make_article: Callable[..., Article],
    javascript: bool,
) -> None:
    poll = ratings_poll(db, make_article())
    context = chromium.new_context(viewport=PHONE, is_mobile=True, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base_url}/embed/polls/{poll.id}")
    assert no_sideways_scroll(page)
    # Nothing chosen: refused with a Dutch message, nothing counted.
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("button.poll-submit")
    assert "Geef minstens één speler een cijfer" in page.inner_text(".poll-error")
    pick(page, poll, 1, 8)
    pick(page, poll, 20, 5)
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("button.poll-submit")
    assert "Bedankt, je cijfers zijn geteld." in page.inner_text(".poll-notice")
    assert "Koen Casteels 8" in page.inner_text(".poll-own")
    assert "1 beoordeling" in page.inner_text(".poll-total")
    assert no_sideways_scroll(page)
    context.close()
    db.rollback()
    assert sorted(db.scalars(select(PlayerRating.score))) == [5, 8]
    assert_no_drift(app)


def test_editor_results_page_of_a_ratings_poll_fits_a_phone(
    db: Session,
    chromium: Any,
    base_url: str,
    make_article: Callable[..., Article],
    make_user: Callable[..., User],
) -> None:
    from tests.browser.live import log_in

    poll = ratings_poll(db, make_article())
    editor = make_user(Role.EDITOR)
    context = chromium.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, base_url, editor)
    page.goto(f"{base_url}/redactie/peilingen/{poll.id}/resultaten")
    assert "Kevin De Bruyne" in page.content()
    assert no_sideways_scroll(page)
    context.close()
