"""Deleting asks first: a fan's own comment and an editor's poll go only after the confirm
page's "yes" (one POST without it shows that page and deletes nothing); a fan can undo deleting
their comment for TRIBUNE_UNDO_DELETE_SECONDS, back to the state it was deleted from."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Article, Comment, CommentState, ModerationAction, Poll, Role, User
from tests.conftest import client_for, login
from tests.factories import HOLD_TEXT, create_comment, isolate_and_check, reload
from tests.polls_fixtures import create_poll, option_ids, vote, voter_token

JSON = {"Accept": "application/json"}
CONFIRM = {"bevestigd": "ja"}


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


@pytest.fixture
def article(make_article: Callable[..., Article]) -> Article:
    return make_article("kvm-afscheid")


@pytest.fixture
def author(make_user: Callable[..., User]) -> User:
    return make_user(username="geelrood")


def state_of(db: Session, comment: Comment) -> CommentState:
    return reload(db, Comment, comment.id).state


# ---------------------------------------------------------------- a fan's own comment


@pytest.mark.parametrize("data", [{}, {"bevestigd": ""}, {"bevestigd": "nee"}])
def test_one_post_without_confirmation_deletes_nothing(
    client: FlaskClient, db: Session, article: Article, author: User, data: dict[str, str]
) -> None:
    comment = create_comment(db, article, author, CommentState.PUBLISHED, body="Merci kapitein!")
    login(client, author)

    response = client.post(f"/reacties/{comment.id}/verwijderen", data=data)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Deze reactie verwijderen?" in page and "Merci kapitein!" in page
    assert state_of(db, comment) is CommentState.PUBLISHED


def test_the_confirm_page_shows_the_comment_with_a_yes_form(
    client: FlaskClient, db: Session, article: Article, author: User
) -> None:
    comment = create_comment(db, article, author, CommentState.PUBLISHED, body="Merci kapitein!")
    login(client, author)
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    # The article page links to the confirm page; it holds no one-click delete form.
    assert f'href="/reacties/{comment.id}/verwijderen"' in page
    assert f'action="/reacties/{comment.id}/verwijderen"' not in page

    response = client.get(f"/reacties/{comment.id}/verwijderen")

    assert response.status_code == 200
    confirm = response.get_data(as_text=True)
    assert "Merci kapitein!" in confirm and article.title in confirm
    form = re.search(
        rf'<form method="post" action="/reacties/{comment.id}/verwijderen">(.*?)</form>',
        confirm,
        re.S,
    )
    assert form and 'name="bevestigd" type="hidden" value="ja"' in form.group(1)
    assert f'href="/artikels/{article.cms_id}#reactie-{comment.id}"' in form.group(1)  # "Nee"
    assert state_of(db, comment) is CommentState.PUBLISHED


def test_someone_elses_comment_has_no_confirm_page(
    client: FlaskClient, db: Session, article: Article, author: User, make_user: Callable[..., User]
) -> None:
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    login(client, make_user())

    assert client.get(f"/reacties/{comment.id}/verwijderen").status_code == 403
    assert client.post(f"/reacties/{comment.id}/verwijderen", data=CONFIRM).status_code == 403
    assert state_of(db, comment) is CommentState.PUBLISHED


@pytest.mark.parametrize(
    ("state", "body"), [(CommentState.PUBLISHED, "Merci kapitein!"), (CommentState.HELD, HOLD_TEXT)]
)
def test_confirmed_delete_then_undo_puts_it_back_as_it_was(
    client: FlaskClient,
    db: Session,
    article: Article,
    author: User,
    state: CommentState,
    body: str,
) -> None:
    comment = create_comment(db, article, author, state, body=body)
    login(client, author)

    deleted = client.post(f"/reacties/{comment.id}/verwijderen", data=CONFIRM)
    assert deleted.status_code == 303
    assert deleted.headers["Location"].endswith(f"#verwijderd-{comment.id}")
    assert state_of(db, comment) is CommentState.DELETED
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    undo = re.search(rf'<li id="verwijderd-{comment.id}">(.*?)</li>', page, re.S)
    assert undo and f'action="/reacties/{comment.id}/terugzetten"' in undo.group(1)
    assert "Ongedaan maken" in undo.group(1)

    restored = client.post(f"/reacties/{comment.id}/terugzetten")

    assert restored.status_code == 303
    assert state_of(db, comment) is state
    assert "Je reactie staat terug." in client.get(f"/artikels/{article.cms_id}").get_data(
        as_text=True
    )
    actions = list(
        db.scalars(
            select(ModerationAction.action)
            .where(ModerationAction.target_id == str(comment.id))
            .order_by(ModerationAction.id)
        )
    )
    assert actions[-2:] == ["delete", "undelete"]


@pytest.fixture
def no_undo(app_settings: dict[str, Any]) -> None:
    """Undo closes the moment a comment is deleted (set before the app is built)."""
    app_settings["TRIBUNE_UNDO_DELETE_SECONDS"] = 0


def test_undo_closes_after_the_window(
    no_undo: None,
    client: FlaskClient,
    db: Session,
    article: Article,
    author: User,
) -> None:
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    login(client, author)
    assert client.post(f"/reacties/{comment.id}/verwijderen", data=CONFIRM).status_code == 303
    assert "Net verwijderd" not in client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)

    late = client.post(f"/reacties/{comment.id}/terugzetten", headers=JSON)

    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "undo_window_closed"
    assert state_of(db, comment) is CommentState.DELETED
    page = client.post(f"/reacties/{comment.id}/terugzetten", follow_redirects=True)
    assert "Verwijderen ongedaan maken kan maar 0 minuten lang." in page.get_data(as_text=True)


def test_only_the_author_undoes_and_only_a_deletion(
    app: Any,
    client: FlaskClient,
    db: Session,
    article: Article,
    author: User,
    make_user: Callable[..., User],
) -> None:
    mine = create_comment(db, article, author, CommentState.PUBLISHED)
    login(client, author)
    assert client.post(f"/reacties/{mine.id}/verwijderen", data=CONFIRM).status_code == 303
    other = make_user()
    theirs = create_comment(db, article, other, CommentState.PUBLISHED)

    # Someone else's deleted comment is not found; a comment that is not deleted cannot move.
    assert client.post(f"/reacties/{theirs.id}/terugzetten", headers=JSON).status_code == 404
    as_other = client_for(app, other)
    assert as_other.post(f"/reacties/{mine.id}/terugzetten", headers=JSON).status_code == 404
    refused = as_other.post(f"/reacties/{theirs.id}/terugzetten", headers=JSON)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "illegal_transition"
    assert state_of(db, mine) is CommentState.DELETED
    assert state_of(db, theirs) is CommentState.PUBLISHED


# ---------------------------------------------------------------- an editor's poll


@pytest.fixture
def editor_client(client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    login(client, make_user(Role.EDITOR))
    return client


def poll_exists(db: Session, poll: Poll) -> bool:
    db.rollback()
    return db.scalar(select(Poll.id).where(Poll.id == poll.id)) is not None


def test_one_post_without_confirmation_keeps_the_poll(
    editor_client: FlaskClient, db: Session, article: Article
) -> None:
    poll = create_poll(db, article, question="Wie wordt de nieuwe kapitein?")

    response = editor_client.post(f"/redactie/peilingen/{poll.id}/verwijderen")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Peiling verwijderen?" in page
    assert "Wie wordt de nieuwe kapitein?" in page and article.title in page
    assert '<span class="vote-count">nog geen stemmen</span>' in page
    assert 'name="bevestigd" type="hidden" value="ja"' in page
    assert poll_exists(db, poll)
    # The poll page links to this confirm page; it holds no one-click delete form.
    form_page = editor_client.get(f"/redactie/peilingen/{poll.id}").get_data(as_text=True)
    assert f'href="/redactie/peilingen/{poll.id}/verwijderen"' in form_page
    assert f'action="/redactie/peilingen/{poll.id}/verwijderen"' not in form_page


def test_the_confirmed_post_deletes_the_poll(
    editor_client: FlaskClient, db: Session, article: Article
) -> None:
    poll = create_poll(db, article)
    assert editor_client.get(f"/redactie/peilingen/{poll.id}/verwijderen").status_code == 200

    response = editor_client.post(f"/redactie/peilingen/{poll.id}/verwijderen", data=CONFIRM)

    assert response.status_code == 303
    assert not poll_exists(db, poll)


def test_the_confirm_page_of_a_poll_with_votes_names_the_count_and_offers_no_yes(
    app: Any, editor_client: FlaskClient, db: Session, article: Article
) -> None:
    poll = create_poll(db, article)
    for _ in range(2):
        voter = app.test_client()
        assert (
            vote(voter, poll.id, option_ids(poll)[:1], voter_token(voter, poll.id)).status_code
            == 201
        )

    page = editor_client.get(f"/redactie/peilingen/{poll.id}/verwijderen").get_data(as_text=True)

    assert '<span class="vote-count">2 stemmen</span>' in page
    assert "kan niet meer verwijderd worden" in page
    assert 'value="ja"' not in page
    assert poll_exists(db, poll)
