"""Comments on the article page: forms without JavaScript, flashes in Dutch, safe bodies."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Article, Comment, CommentMode, CommentState, Report, User
from tests.conftest import TEST_PASSWORD, login
from tests.factories import (
    CLEAN,
    CLEAN_TEXTS,
    HOLD_TEXT,
    REJECT_TEXT,
    assert_no_drift,
    create_comment,
    isolate_and_check,
    reload,
)

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PENDING_HEADING = "Jouw reacties in behandeling"


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


@pytest.fixture
def article(make_article: Callable[..., Article]) -> Article:
    return make_article("defour-blijft")


def _page(client: FlaskClient, article: Article, **query: str) -> str:
    response = client.get(f"/artikels/{article.cms_id}", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _post_form(client: FlaskClient, article: Article, body: str, **fields: str) -> Any:
    return client.post(f"/artikels/{article.cms_id}/reacties", data={"body": body, **fields})


def _only_comment(db: Session) -> Comment:
    db.rollback()
    db.expire_all()
    [comment] = db.scalars(select(Comment)).all()
    return comment


# ---------------------------------------------------------------- posting through the form


@pytest.mark.parametrize(
    ("body", "state", "flash"),
    [
        (CLEAN, CommentState.PUBLISHED, "Je reactie staat online."),
        (HOLD_TEXT, CommentState.HELD, "Je reactie wordt eerst nagekeken door een moderator."),
        (REJECT_TEXT, CommentState.REJECTED, "Je reactie werd niet geplaatst"),
    ],
)
def test_the_form_posts_and_redirects_303_with_a_dutch_flash(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
    body: str,
    state: CommentState,
    flash: str,
) -> None:
    login(client, make_user())

    response = _post_form(client, article, body)

    assert response.status_code == 303
    comment = _only_comment(db)
    assert comment.state is state
    assert response.headers["Location"].endswith(f"/artikels/{article.cms_id}#reactie-{comment.id}")
    page = _page(client, article)
    assert flash in page
    assert f'id="reactie-{comment.id}"' in page  # in the thread or under "in behandeling"
    assert_no_drift(db)


def test_a_reply_through_the_form_is_nested_under_its_parent(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
) -> None:
    parent = create_comment(db, article, make_user(), CommentState.PUBLISHED)
    login(client, make_user())

    response = _post_form(client, article, CLEAN_TEXTS[0], parent_id=str(parent.id))

    assert response.status_code == 303
    reply = db.scalar(select(Comment).where(Comment.parent_id == parent.id))
    assert reply is not None and reply.state is CommentState.PUBLISHED
    page = _page(client, article)
    parent_at = page.index(f'id="reactie-{parent.id}"')
    nested = page.index('<ol class="replies">', parent_at)
    assert parent_at < nested < page.index(f'id="reactie-{reply.id}"')
    assert_no_drift(db)


def test_a_form_post_on_a_closed_article_says_why(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    closed = make_article(comment_mode=CommentMode.CLOSED)
    login(client, make_user())

    response = _post_form(client, closed, CLEAN)

    # The article page comes back (409) with the refusal and the notice; no form to fill.
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert page.count("Reageren op dit artikel is gesloten.") >= 2  # the refusal and the notice
    assert 'name="body"' not in page
    assert db.scalar(select(func.count()).select_from(Comment)) == 0


def test_a_too_short_form_post_comes_back_with_the_rule_beside_the_text(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    login(client, make_user())

    response = _post_form(client, article, " x ")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Een reactie heeft minstens 2 tekens." in page
    assert 'aria-describedby="body-error"' in page and 'aria-invalid="true"' in page
    assert "\n x </textarea>" in page  # what the reader typed, kept
    assert db.scalar(select(func.count()).select_from(Comment)) == 0


def test_the_form_on_an_unknown_article_is_404(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    login(client, make_user())

    response = client.post("/artikels/bestaat-niet/reacties", data={"body": CLEAN})

    assert response.status_code == 404


def test_anonymous_readers_get_a_login_link_instead_of_the_form(
    client: FlaskClient, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    create_comment(db, article, make_user(), CommentState.PUBLISHED)

    page = _page(client, article)

    assert f'href="/login?next=/artikels/{article.cms_id}"' in page
    assert "Meld je aan" in page
    assert 'name="body"' not in page
    assert "Melden" not in page
    assert CLEAN in page


def test_anonymous_form_post_goes_to_the_login_page(
    client: FlaskClient, db: Session, article: Article
) -> None:
    response = _post_form(client, article, CLEAN)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert db.scalar(select(func.count()).select_from(Comment)) == 0


def test_logged_in_readers_see_the_form(
    client: FlaskClient, make_user: Callable[..., User], article: Article
) -> None:
    login(client, make_user())

    page = _page(client, article)

    assert f'action="/artikels/{article.cms_id}/reacties#body"' in page
    assert 'name="body"' in page


# ---------------------------------------------------------------- rendering bodies


def test_links_in_bodies_are_nofollow_ugc(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    create_comment(
        db, article, make_user(), CommentState.PUBLISHED, body="Lees https://www.hln.be/sport/x nu."
    )

    page = _page(client, article)

    assert (
        '<a href="https://www.hln.be/sport/x" rel="nofollow ugc noopener" target="_blank">'
        "https://www.hln.be/sport/x</a> nu." in page
    )


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert('xss')</script> mooie goal",
        '<img src=x onerror="alert(1)"> mooie goal',
        'Zie https://example.com/"><script>alert(1)</script>',
    ],
)
def test_html_in_bodies_is_escaped(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
    body: str,
) -> None:
    create_comment(db, article, make_user(), CommentState.PUBLISHED, body=body)

    page = _page(client, article)

    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;" in page


def test_line_breaks_become_br(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    create_comment(
        db, article, make_user(), CommentState.PUBLISHED, body="Eerste lijn\nTweede lijn"
    )

    assert "Eerste lijn<br>\nTweede lijn" in _page(client, article)


def test_a_deleted_comment_shows_as_removed_and_its_replies_stay(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    root = create_comment(
        db, article, make_user(), CommentState.DELETED, body="Dit verdwijnt straks"
    )
    create_comment(db, article, make_user(), CommentState.PUBLISHED, body=CLEAN, parent=root)

    page = _page(client, article)

    assert "Deze reactie werd verwijderd." in page
    assert "Dit verdwijnt straks" not in page
    assert CLEAN in page


def test_held_comments_are_not_in_the_public_thread(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    create_comment(db, article, make_user(), CommentState.HELD, body=HOLD_TEXT)

    page = _page(client, article)

    assert HOLD_TEXT not in page
    assert PENDING_HEADING not in page


def test_own_held_and_rejected_comments_are_listed_for_their_author_only(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
) -> None:
    author = make_user()
    create_comment(db, article, author, CommentState.HELD, body=HOLD_TEXT)
    create_comment(db, article, author, CommentState.REJECTED, body=REJECT_TEXT)
    mine, theirs = app.test_client(), app.test_client()
    login(mine, author)
    login(theirs, make_user())

    own_page = _page(mine, article)
    other_page = _page(theirs, article)

    pending = own_page[own_page.index(PENDING_HEADING) :]
    assert HOLD_TEXT in pending
    assert "Wacht op nakijken door een moderator." in pending
    assert REJECT_TEXT in pending
    assert "Niet geplaatst: Racisme of haat." in pending
    for page in (other_page, _page(app.test_client(), article)):
        assert PENDING_HEADING not in page
        assert HOLD_TEXT not in page
        assert REJECT_TEXT not in page


# ---------------------------------------------------------------- the other forms


def test_delete_form_deletes_with_a_flash(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    author = make_user()
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    login(client, author)

    response = client.post(f"/reacties/{comment.id}/verwijderen", data={"bevestigd": "ja"})

    assert response.status_code == 303
    assert reload(db, Comment, comment.id).state is CommentState.DELETED
    assert "Je reactie is verwijderd." in _page(client, article)
    assert_no_drift(db)


def test_edit_form_changes_the_text_with_a_flash(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    author = make_user()
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    login(client, author)

    response = client.post(f"/reacties/{comment.id}/bewerken", data={"body": CLEAN_TEXTS[0]})

    assert response.status_code == 303
    assert reload(db, Comment, comment.id).body == CLEAN_TEXTS[0]
    page = _page(client, article)
    assert "Je reactie is aangepast." in page
    assert "bewerkt" in page


def test_report_form_reports_once_with_a_flash(
    client: FlaskClient, db: Session, make_user: Callable[..., User], article: Article
) -> None:
    comment = create_comment(db, article, make_user(), CommentState.PUBLISHED)
    login(client, make_user())

    first = client.post(f"/reacties/{comment.id}/melden", data={"reason": "spam"})
    first_page = _page(client, article)
    again = client.post(f"/reacties/{comment.id}/melden", data={"reason": "spam"})

    assert (first.status_code, again.status_code) == (303, 303)
    assert "Bedankt, een moderator bekijkt je melding." in first_page
    assert "Je had deze reactie al gemeld." in _page(client, article)
    assert db.scalar(select(func.count()).select_from(Report)) == 1
    assert_no_drift(db)


# ---------------------------------------------------------------- CSRF


@pytest.fixture
def csrf_enabled(app_settings: dict[str, Any]) -> None:
    app_settings["WTF_CSRF_ENABLED"] = True


def test_a_form_post_without_csrf_token_is_refused_400(
    csrf_enabled: None,
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
) -> None:
    login_page = client.get("/login").get_data(as_text=True)
    user = make_user()
    client.post(
        "/login",
        data={
            "login": user.username,
            "password": TEST_PASSWORD,
            "csrf_token": CSRF_FIELD.search(login_page).group(1),
        },
    )

    refused = _post_form(client, article, CLEAN)
    token = CSRF_FIELD.search(_page(client, article)).group(1)
    accepted = _post_form(client, article, CLEAN, csrf_token=token)

    assert refused.status_code == 400
    assert "Je formulier is verlopen of ongeldig" in refused.get_data(as_text=True)
    assert accepted.status_code == 303
    assert db.scalar(select(func.count()).select_from(Comment)) == 1
