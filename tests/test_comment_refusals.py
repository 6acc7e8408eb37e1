"""Refused comment forms and suspensions on the article page, without JavaScript: a refused
post, reply or edit comes back with the text and the error beside the field, opened at the
field itself (the form's action ends in #<field id>, so the browser scrolls to it and puts the
cursor in it); a suspended fan sees until when instead of the forms,
and /beheer/ shows who is suspended or banned."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Article, Comment, CommentState, Role, User, utcnow
from moderation.actions import permanent_until
from tests.conftest import login
from tests.factories import CLEAN, CLEAN_TEXTS, create_comment, isolate_and_check

# A summer moment: 12:30 UTC is 14:30 in Brussels (CEST); the page must say 14:30.
SUSPENDED_UNTIL = datetime(2099, 7, 1, 12, 30, tzinfo=UTC)
UNTIL_NL = "1 juli 2099 om 14:30"
FLOOD_AFTER = 3  # the fourth comment within the flood window is refused


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


@pytest.fixture
def article(make_article: Callable[..., Article]) -> Article:
    return make_article("derby-mechelen")


def page_of(client: FlaskClient, article: Article) -> str:
    response = client.get(f"/artikels/{article.cms_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def textarea(page: str, field_id: str) -> str:
    """The opening tag of one textarea."""
    match = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>', page)
    assert match, field_id
    return match.group(0)


def comment_count(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(Comment)) or 0


# ---------------------------------------------------------------- point 9: text, error, focus


def test_forms_send_the_reader_back_to_an_anchor_at_the_form(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    author = make_user()
    own = create_comment(db, article, author, CommentState.PUBLISHED)
    login(client, author)
    page = page_of(client, article)

    # The answer to a refused form opens at its text field (no JS needed).
    assert f'action="/artikels/{article.cms_id}/reacties#body"' in page
    assert f'action="/artikels/{article.cms_id}/reacties#reply-{own.id}"' in page
    assert f'action="/reacties/{own.id}/bewerken#edit-{own.id}"' in page
    for field_id in ("body", f"reply-{own.id}", f"edit-{own.id}"):
        textarea(page, field_id)  # the fragment names a field that is there


def test_a_post_refused_by_the_flood_limit_keeps_the_text_beside_its_error(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    login(client, make_user())
    for text in CLEAN_TEXTS[:FLOOD_AFTER]:
        assert (
            client.post(f"/artikels/{article.cms_id}/reacties", data={"body": text}).status_code
            == 303
        )
    refused = CLEAN_TEXTS[FLOOD_AFTER]

    response = client.post(f"/artikels/{article.cms_id}/reacties", data={"body": refused})

    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in textarea(page, "body")
    assert f"{refused}</textarea>" in page
    assert re.search(r'id="body-error" role="alert">Je reageert te snel', page)
    assert comment_count(db) == FLOOD_AFTER


def test_a_refused_reply_comes_back_open_with_its_text_and_focus(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    parent = create_comment(db, article, make_user(), CommentState.PUBLISHED)
    login(client, make_user())

    response = client.post(
        f"/artikels/{article.cms_id}/reacties", data={"body": "x", "parent_id": str(parent.id)}
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in textarea(page, f"reply-{parent.id}")
    assert re.search(
        rf'<details open><summary>Antwoorden</summary>\s*<form id="antwoord-{parent.id}"', page
    )
    assert re.search(rf'id="reply-{parent.id}-error" role="alert">Een reactie heeft', page)
    assert "aria-invalid" not in textarea(page, "body")  # the other forms stay calm
    assert comment_count(db) == 1


def test_a_refused_edit_comes_back_open_with_the_new_text_and_focus(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    author = make_user()
    own = create_comment(db, article, author, CommentState.PUBLISHED)
    login(client, author)

    response = client.post(f"/reacties/{own.id}/bewerken", data={"body": "y"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in textarea(page, f"edit-{own.id}")
    assert re.search(rf'id="edit-{own.id}-error" role="alert">Een reactie heeft', page)
    assert page.count('aria-invalid="true"') == 1


# ---------------------------------------------------------------- point 12: suspensions shown


def test_a_suspended_fan_sees_until_when_in_brussels_time_instead_of_the_forms(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    fan = make_user()
    own = create_comment(db, article, fan, CommentState.PUBLISHED)
    other = create_comment(db, article, make_user(), CommentState.PUBLISHED)
    fan.banned_until = SUSPENDED_UNTIL
    db.commit()
    login(client, fan)

    page = page_of(client, article)

    assert f"Je account is geschorst tot {UNTIL_NL} (Belgische tijd). Tot dan kan je" in page
    assert "12:30" not in page  # not UTC
    assert 'class="card notice suspension" id="reageer" role="status"' in page
    assert 'name="body"' not in page  # no comment, reply or edit form
    assert "<summary>Antwoorden</summary>" not in page
    assert "<summary>Bewerken</summary>" not in page
    assert f'id="reactie-{other.id}"' in page and f'id="reactie-{own.id}"' in page


def test_a_permanent_ban_is_shown_as_such(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    login(client, make_user(banned_until=permanent_until()))

    page = page_of(client, article)

    assert "Je account is permanent verbannen." in page
    assert "Tot dan" not in page  # no end to wait for
    assert 'name="body"' not in page


def test_an_ended_suspension_shows_the_form_again(
    client: FlaskClient, make_user: Callable[..., User], article: Article
) -> None:
    login(client, make_user(banned_until=utcnow() - timedelta(minutes=1)))

    page = page_of(client, article)

    assert "geschorst" not in page
    assert 'name="body"' in page


def test_a_stale_form_of_a_suspended_fan_keeps_the_text_beside_the_suspension(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    fan = make_user(banned_until=SUSPENDED_UNTIL)
    login(client, fan)

    # Written on a page opened before the suspension started.
    response = client.post(f"/artikels/{article.cms_id}/reacties", data={"body": CLEAN})

    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert f"{CLEAN}</textarea>" in page
    assert 'aria-invalid="true"' in textarea(page, "body")
    assert re.search(rf'id="body-error" role="alert">Je account is geschorst tot {UNTIL_NL}', page)
    assert page.count('id="reageer"') == 1
    assert comment_count(db) == 0


def test_the_api_refusal_gives_the_end_in_brussels_time_and_utc(
    client: FlaskClient, make_user: Callable[..., User], article: Article
) -> None:
    login(client, make_user(banned_until=SUSPENDED_UNTIL))

    response = client.post(
        f"/artikels/{article.cms_id}/reacties",
        data={"body": CLEAN},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "banned"
    assert UNTIL_NL in error["message"]
    assert datetime.fromisoformat(error["details"]["banned_until"]) == SUSPENDED_UNTIL


def test_beheer_shows_suspended_and_banned_accounts(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(username="Geschorste")
    make_user(username="Verbannen")
    make_user(username="Gewone")
    admin = make_user(Role.ADMIN, username="Baas")
    suspended = make_user(username="Schorsing", banned_until=SUSPENDED_UNTIL)
    banned = make_user(username="Ban", banned_until=permanent_until())
    login(client, admin)

    page = client.get("/beheer/").get_data(as_text=True)

    rows = {
        name: row
        for row in re.findall(r"<tr>.*?</tr>", page, re.S)
        for name in re.findall(r"<td>([^<]+)</td>", row)[:1]
    }
    assert f"geschorst tot {UNTIL_NL}" in rows[suspended.username]
    assert "verbannen" in rows[banned.username] and "geschorst" not in rows[banned.username]
    for name in ("Geschorste", "Verbannen", "Gewone", "Baas"):
        assert "geschorst tot" not in rows[name] and ">verbannen<" not in rows[name]
        assert "actief" in rows[name]


def test_a_stale_reply_of_a_suspended_fan_stays_open_with_its_text(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    parent = create_comment(db, article, make_user(), CommentState.PUBLISHED)
    login(client, make_user(banned_until=SUSPENDED_UNTIL))

    response = client.post(
        f"/artikels/{article.cms_id}/reacties",
        data={"body": CLEAN, "parent_id": str(parent.id)},
    )

    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert f"{CLEAN}</textarea>" in page
    assert re.search(rf'id="reply-{parent.id}-error" role="alert">Je account is geschorst', page)
    assert page.count("<summary>Antwoorden</summary>") == 1  # only the refused one
    assert 'name="body"' in textarea(page, f"reply-{parent.id}")
    assert comment_count(db) == 1
