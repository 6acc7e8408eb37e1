"""/redactie/: a compact list of articles, one page at a time, searchable by title and id; a new
API token is created by POST and shown once after a redirect (a reload makes no second one)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiToken, Article, Role, User, utcnow
from tests.conftest import client_for
from tests.factories import fresh
from tests.polls_fixtures import create_poll
from views.editor import ARTICLES_PER_PAGE

TOKEN_CODE = re.compile(r'<code class="token">([^<]+)</code>')
ROW_ID = re.compile(r'<tr id="artikel-(\d+)">')


@pytest.fixture
def editor(app: Flask, make_user: Callable[..., User]) -> FlaskClient:
    return client_for(app, make_user(Role.EDITOR))


@pytest.fixture
def articles(db: Session) -> list[Article]:
    """More articles than one page holds, newest first."""
    now = utcnow()
    made = [
        Article(
            cms_id=f"wedstrijd-{n:03d}",
            title=f"Verslag speeldag {n}" + (" derby" if n % 10 == 0 else ""),
            published_at=now - timedelta(hours=n),
        )
        for n in range(ARTICLES_PER_PAGE + 12)
    ]
    db.add_all(made)
    db.commit()
    return made


def listed(response: object) -> list[int]:
    return [int(i) for i in ROW_ID.findall(response.get_data(as_text=True))]  # type: ignore[attr-defined]


def test_the_list_is_paged(editor: FlaskClient, articles: list[Article]) -> None:
    first = editor.get("/redactie/")
    second = editor.get("/redactie/?pagina=2")
    beyond = editor.get("/redactie/?pagina=99999999999")

    assert first.status_code == second.status_code == beyond.status_code == 200
    assert listed(first) == [a.id for a in articles[:ARTICLES_PER_PAGE]]
    assert listed(second) == [a.id for a in articles[ARTICLES_PER_PAGE:]]
    assert listed(beyond) == listed(second)  # clamped to the last page
    page = first.get_data(as_text=True)
    assert f"{len(articles)} artikels" in page and "pagina 1 van 2" in page
    assert 'href="/redactie/?pagina=2"' in page
    assert '<section class="card"' not in page  # compact rows, not a card per article


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("derby", {0, 10, 20, 30, 40}),
        ("DERBY", {0, 10, 20, 30, 40}),
        ("wedstrijd-007", {7}),
        ("speeldag 41", {41}),
        ("%", set()),
        ("niets-zo", set()),
    ],
)
def test_search_by_title_or_id(
    editor: FlaskClient, articles: list[Article], query: str, expected: set[int]
) -> None:
    response = editor.get("/redactie/", query_string={"q": query})

    assert response.status_code == 200
    assert set(listed(response)) == {articles[n].id for n in expected}


def test_search_results_are_paged_too(
    editor: FlaskClient, db: Session, articles: list[Article]
) -> None:
    for article in articles:
        article.title += " beker"
    db.commit()

    second = editor.get("/redactie/?q=beker&pagina=2")

    page = second.get_data(as_text=True)
    assert listed(second) == [a.id for a in articles[ARTICLES_PER_PAGE:]]
    assert 'href="/redactie/?q=beker&amp;pagina=1"' in page


def test_a_new_token_is_shown_once_after_a_redirect(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    client = client_for(app, make_user(Role.EDITOR))

    created = client.post("/profiel/sleutels", data={"name": "CMS productie"})
    shown = client.get(created.headers.get("Location", "/profiel"))
    again = client.get("/profiel")

    assert created.status_code == 303
    assert created.headers["Location"] == "/profiel"  # the token is never in the URL
    tokens = TOKEN_CODE.findall(shown.get_data(as_text=True))
    assert len(tokens) == 1
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert 'data-copy="new-token"' in shown.get_data(as_text=True)
    assert TOKEN_CODE.findall(again.get_data(as_text=True)) == []  # once only
    fresh(db)
    stored = db.scalars(select(ApiToken)).all()
    assert len(stored) == 1 and tokens[0].startswith(stored[0].prefix)


def test_a_refused_token_keeps_the_form_on_the_page(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    client = client_for(app, make_user(Role.EDITOR))

    response = client.post("/profiel/sleutels", data={"name": "x" * 200})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="' + "x" * 200 + '"' in page  # what was typed is kept
    assert TOKEN_CODE.findall(page) == []
    fresh(db)
    assert db.scalars(select(ApiToken)).all() == []


def test_the_embed_snippet_has_a_copy_button(
    editor: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    poll = create_poll(db, make_article())

    page = editor.get(f"/redactie/peilingen/{poll.id}").get_data(as_text=True)

    assert 'id="embed-snippet"' in page and 'data-copy="embed-snippet"' in page
    assert "/static/copy.js" in page
