"""counts.js in Chromium against the app on a real port: Meest recent, and a host page on
another origin. Tallies come from real rows (comments through the state machine, votes through
the API), and every request to /api/v1/tallies is counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from models import Article, CommentState, User, utcnow
from tests.browser.live import TIMEOUT_MS, host_page
from tests.factories import (
    CLEAN_TEXTS,
    HOLD_TEXT,
    REJECT_TEXT,
    assert_no_drift,
    create_comment,
    unique_redis_prefix,
)
from tests.polls_fixtures import create_poll, option_ids, vote, voter_token

pytestmark = pytest.mark.browser

LISTED = [f"kop-{n:02d}" for n in range(1, 26)]  # Meest recent shows the 25 newest
# What the tallies must read once counts.js has filled them (the rest: "nog geen reacties").
EXPECTED = {
    "kop-01": "3 reacties",
    "kop-02": "1 reactie · 2 stemmen",
    "kop-03": "nog geen reacties · 1 stem",
    "kop-04": "2 reacties",
}


@pytest.fixture(autouse=True)
def no_server_tally_cache(app_settings: dict[str, Any]) -> None:
    # The server keeps tally answers a few seconds (TRIBUNE_TALLY_CACHE_SECONDS, 3 by default):
    # off here, so a reload right after a new comment must show it without sleeping.
    app_settings["TRIBUNE_TALLY_CACHE_SECONDS"] = 0


@pytest.fixture
def author(make_user: Callable[..., User]) -> User:
    return make_user(username="supporter")


@pytest.fixture
def headlines(app: Flask, db: Session, author: User) -> dict[str, Article]:
    """kop-01 (newest) … kop-26 (oldest, not on Meest recent), with real comments and votes."""
    now = utcnow()
    articles = {}
    for n in range(1, 27):
        article = Article(
            cms_id=f"kop-{n:02d}", title=f"Kop {n}", published_at=now - timedelta(minutes=n)
        )
        db.add(article)
        articles[article.cms_id] = article
    db.commit()
    texts = iter(CLEAN_TEXTS)

    def comment(cms_id: str, state: CommentState = CommentState.PUBLISHED, **kw: Any) -> Any:
        body = next(texts) if state is CommentState.PUBLISHED else kw.pop("body")
        return create_comment(db, articles[cms_id], author, state, body=body, **kw)

    # Only published comments count: the held and the rejected one must not show.
    for _ in range(3):
        comment("kop-01")
    comment("kop-01", CommentState.HELD, body=HOLD_TEXT)
    comment("kop-01", CommentState.REJECTED, body=REJECT_TEXT)
    comment("kop-02")
    parent = comment("kop-04")
    comment("kop-04", parent=parent)  # replies count too
    comment("kop-26")

    # Votes through the public API, one fresh voter (client and token) each.
    for cms_id, voters in (("kop-02", 2), ("kop-03", 1)):
        poll = create_poll(db, articles[cms_id])
        for _ in range(voters):
            client = app.test_client()
            token = voter_token(client, poll.id)
            response = vote(client, poll.id, option_ids(poll)[:1], token)
            assert response.status_code == 201, response.get_data(as_text=True)
    return articles


def watch_tallies(page: Any) -> list[str]:
    """Collect the URL of every request the page makes to /api/v1/tallies."""
    seen: list[str] = []
    page.on(
        "request",
        lambda r: seen.append(r.url) if urlsplit(r.url).path == "/api/v1/tallies" else None,
    )
    return seen


def requested_ids(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query)["ids"][0].split(",")


def wait_filled(page: Any, count: int) -> None:
    """Wait until counts.js has filled `count` elements, then until the network is quiet."""
    page.wait_for_function(
        "n => document.querySelectorAll('[data-tribune-filled]').length === n",
        arg=count,
        timeout=TIMEOUT_MS,
    )
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)


def tally_texts(page: Any) -> list[tuple[str, str]]:
    """(article id, text) of every tally element, in page order."""
    pairs = page.eval_on_selector_all(
        "[data-tribune-tally]",
        "els => els.map(e => [e.getAttribute('data-tribune-tally'), e.textContent])",
    )
    return [(cms_id, text) for cms_id, text in pairs]


def expected_text(cms_id: str) -> str:
    return EXPECTED.get(cms_id, "nog geen reacties")


def test_meest_recent_fills_25_headlines_from_one_request_and_shows_new(
    db: Session,
    chromium: Any,
    base_url: str,
    author: User,
    headlines: dict[str, Article],
) -> None:
    context = chromium.new_context()
    page = context.new_page()
    requests = watch_tallies(page)

    page.goto(base_url + "/")
    wait_filled(page, len(LISTED))
    # The 25 newest headlines, newest first, each filled by counts.js with the real tallies.
    assert tally_texts(page) == [(cms_id, expected_text(cms_id)) for cms_id in LISTED]
    # All of them from one request, ids sorted and deduplicated.
    assert len(requests) == 1, requests
    assert requested_ids(requests[0]) == sorted(LISTED)
    # What the reader has seen is remembered for "+N nieuw" on the next visit.
    state = context.storage_state()
    context.close()

    # Two new comments; the reader comes back later (their HTTP cache has expired by then: a
    # new context, same localStorage).
    create_comment(db, headlines["kop-01"], author, CommentState.PUBLISHED, body="Terug van weg.")
    create_comment(db, headlines["kop-05"], author, CommentState.PUBLISHED, body="Eerste!")
    context = chromium.new_context(storage_state=state)
    page = context.new_page()
    requests = watch_tallies(page)
    page.goto(base_url + "/")
    wait_filled(page, len(LISTED))
    texts = dict(tally_texts(page))
    assert texts["kop-01"] == "4 reacties +1 nieuw"
    assert texts["kop-05"] == "1 reactie +1 nieuw"
    assert texts["kop-02"] == "1 reactie · 2 stemmen"  # nothing new there
    assert page.locator(".tribune-new").count() == 2
    assert len(requests) == 1, requests

    # TribuneCounts.reload() refreshes in place, with one more request.
    create_comment(db, headlines["kop-03"], author, CommentState.PUBLISHED, body="Ja, zeker.")
    page.evaluate("() => window.TribuneCounts.reload()")
    assert page.text_content("[data-tribune-tally='kop-03']") == "1 reactie · 1 stem +1 nieuw"
    assert page.text_content("[data-tribune-tally='kop-04']") == "2 reacties"
    assert len(requests) == 2, requests
    assert requested_ids(requests[1]) == sorted(LISTED)
    context.close()
    assert_no_drift(db)


@pytest.mark.parametrize("server_cache_seconds", [0, 60], ids=["browser-cache", "server-cache"])
def test_meest_recent_never_shows_older_tallies_than_the_server_rendered(
    server_cache_seconds: int,
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    author: User,
    headlines: dict[str, Article],
) -> None:
    """A reader comments, then goes back to Meest recent within seconds: the server renders
    "4 reacties", and counts.js must not turn that back into the "3 reacties" that the
    browser's copy of the API answer (browser-cache) or the server's tally cache still holds."""
    # The tally cache is built on first use: this test's setting and its own Redis keys.
    app.config["TRIBUNE_TALLY_CACHE_SECONDS"] = server_cache_seconds
    unique_redis_prefix(app.config)
    app.extensions.pop("tribune.tally_cache", None)
    context = chromium.new_context()
    page = context.new_page()
    page.goto(base_url + "/")
    wait_filled(page, len(LISTED))
    assert page.text_content("[data-tribune-tally='kop-01']") == "3 reacties"

    create_comment(db, headlines["kop-01"], author, CommentState.PUBLISHED, body="Terug van weg.")
    page.goto(base_url + "/artikels/kop-01")
    assert page.text_content("#reacties") == "4 reacties"
    response = page.goto(base_url + "/")
    wait_filled(page, len(LISTED))
    try:
        # What the server sent is right …
        assert (
            'data-tribune-tally="kop-01" data-comments="4" data-votes="0">4 reacties<'
            in response.text()
        )
        # … and counts.js must not replace it with an older answer.
        assert page.text_content("[data-tribune-tally='kop-01']") == "4 reacties +1 nieuw"
    finally:
        context.close()


def test_host_page_on_another_origin_gets_its_tallies_and_reloads(
    db: Session,
    chromium: Any,
    base_url: str,
    author: User,
    headlines: dict[str, Article],
) -> None:
    ids = [f"kop-{n:02d}" for n in range(1, 27)] + ["kop-99"]  # kop-99: not in the CMS
    spans = "".join(f"<li><span data-tribune-tally='{cms_id}'></span></li>" for cms_id in ids)
    html = (
        "<!doctype html><html lang='nl'><body><h1>Sportkrant</h1><ol>"
        f"{spans}<li><span id='stemmen' data-tribune-tally='kop-02' data-tribune-show='votes'>"
        f"</span></li></ol><script src='{base_url}/static/counts.js' defer></script></body></html>"
    )
    with host_page(html) as host_url:
        context = chromium.new_context()
        page = context.new_page()
        requests = watch_tallies(page)
        page.goto(host_url)
        wait_filled(page, len(ids) + 1)

        texts = tally_texts(page)
        assert texts[: len(ids)] == [(cms_id, expected_text(cms_id)) for cms_id in ids[:25]] + [
            ("kop-26", "1 reactie"),
            ("kop-99", "nog geen reacties"),
        ]
        assert page.text_content("#stemmen") == "2 stemmen"
        # 28 elements, 27 distinct ids: one cross-origin request to the script's own origin.
        assert len(requests) == 1, requests
        assert requests[0].startswith(base_url + "/api/v1/tallies?")
        assert requested_ids(requests[0]) == sorted(ids)

        create_comment(db, headlines["kop-26"], author, CommentState.PUBLISHED, body="Nog eentje.")
        page.evaluate("() => window.TribuneCounts.reload()")
        assert page.text_content("[data-tribune-tally='kop-26']") == "2 reacties"
        assert page.text_content("[data-tribune-tally='kop-01']") == "3 reacties"
        assert len(requests) == 2, requests
        assert requested_ids(requests[1]) == sorted(ids)
        context.close()


RED = "rgb(200, 16, 46)"  # --accent: a count
GREY = "rgb(93, 102, 117)"  # --muted: nothing yet


def tally_colours(page: Any) -> dict[str, tuple[str, str]]:
    """Article id → (text, computed colour) of every comment tally on the page."""
    rows = page.eval_on_selector_all(
        "[data-tribune-tally]",
        "els => els.map(e => [e.getAttribute('data-tribune-tally'), e.textContent,"
        " getComputedStyle(e).color])",
    )
    return {cms_id: (text, colour) for cms_id, text, colour in rows}


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_headline_without_comments_is_quiet_grey_not_red(
    db: Session,
    chromium: Any,
    base_url: str,
    author: User,
    headlines: dict[str, Article],
    javascript: bool,
) -> None:
    context = chromium.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(base_url + "/")
    if javascript:
        wait_filled(page, len(LISTED))

    colours = tally_colours(page)
    assert set(colours) == set(LISTED)
    for cms_id, (text, colour) in colours.items():
        assert text == expected_text(cms_id)
        assert colour == (GREY if text.startswith("nog geen reacties") else RED), cms_id
    assert colours["kop-05"][1] == GREY and colours["kop-01"][1] == RED

    if javascript:
        # counts.js keeps the colour in step when a first comment arrives.
        create_comment(db, headlines["kop-05"], author, CommentState.PUBLISHED, body="Eerste!")
        page.evaluate("window.TribuneCounts.reload()")
        page.wait_for_function(
            "() => document.querySelector('[data-tribune-tally=\"kop-05\"]')"
            ".textContent === '1 reactie'",
            timeout=TIMEOUT_MS,
        )
        assert tally_colours(page)["kop-05"] == ("1 reactie", RED)
    context.close()
