"""Reactions ("Sterk"): one per reader per comment, toggled, counted on the comment in the same
transaction; the sort "beste"; recount, account deletion and the rules of who may react."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accounts.embed_sessions import issue_embed_session
from comments import reactions
from comments.threads import GRAVITY, published_threads
from errors import DomainError
from models import (
    Article,
    Comment,
    CommentState,
    EmbedVia,
    ModerationAction,
    Reaction,
    Role,
    ThreadSort,
    User,
    utcnow,
)
from moderation.comment_states import transition
from moderation.rules import PostingPolicy
from privacy.deletion import CommentChoice, delete_account
from tallies.recount import recount
from tests.conftest import TEST_PASSWORD, client_for
from tests.factories import (
    ORIGIN,
    create_comment,
    error_code,
    fresh,
    isolate_and_check,
)

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "author": make_user(username="auteur"),
        "fan": make_user(username="fan"),
        "other": make_user(username="andere"),
    }


@pytest.fixture
def article(make_article: Callable[..., Article]) -> Article:
    return make_article("kvm-defour")


@pytest.fixture
def comment(db: Session, article: Article, people: dict[str, User]) -> Comment:
    return create_comment(db, article, people["author"], CommentState.PUBLISHED, "Sterke match!")


def url(comment_id: int) -> str:
    return f"/api/v1/comments/{comment_id}/reactions"


def stored(db: Session, comment_id: int) -> tuple[int, int]:
    """(the comment's counter, its reaction rows)."""
    fresh(db)
    counter = db.scalar(select(Comment.reaction_count).where(Comment.id == comment_id))
    rows = db.scalar(
        select(func.count()).select_from(Reaction).where(Reaction.comment_id == comment_id)
    )
    return int(counter or 0), int(rows or 0)


# ---------------------------------------------------------------- the API


def test_react_counts_once_and_unreact_takes_it_back(
    app: Flask, db: Session, comment: Comment, people: dict[str, User]
) -> None:
    fan = client_for(app, people["fan"])
    first = fan.post(url(comment.id), json={}, headers=ORIGIN)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json() == {"comment_id": comment.id, "reaction_count": 1, "reacted": True}
    again = fan.post(url(comment.id), json={}, headers=ORIGIN)
    assert again.status_code == 200
    assert again.get_json()["reaction_count"] == 1
    assert stored(db, comment.id) == (1, 1)

    other = client_for(app, people["other"])
    assert other.post(url(comment.id), json={}, headers=ORIGIN).get_json()["reaction_count"] == 2

    taken = fan.delete(url(comment.id), headers=ORIGIN)
    assert taken.status_code == 200
    assert taken.get_json() == {"comment_id": comment.id, "reaction_count": 1, "reacted": False}
    none_left = fan.delete(url(comment.id), headers=ORIGIN)
    assert none_left.status_code == 200 and none_left.get_json()["reaction_count"] == 1
    assert stored(db, comment.id) == (1, 1)


def test_a_reaction_is_no_edit_of_the_comment(
    app: Flask, db: Session, comment: Comment, people: dict[str, User]
) -> None:
    fresh(db)
    before = db.get_one(Comment, comment.id).updated_at
    fan = client_for(app, people["fan"])
    fan.post(url(comment.id), json={}, headers=ORIGIN)
    fan.delete(url(comment.id), headers=ORIGIN)
    fresh(db)
    assert db.get_one(Comment, comment.id).updated_at == before


def test_a_reaction_raises_the_thread_version(
    app: Flask, db: Session, article: Article, comment: Comment, people: dict[str, User]
) -> None:
    fresh(db)
    before = db.get_one(Article, article.id).thread_version
    client_for(app, people["fan"]).post(url(comment.id), json={}, headers=ORIGIN)
    fresh(db)
    assert db.get_one(Article, article.id).thread_version == before + 1


def test_a_visitor_is_asked_to_log_in(client: FlaskClient, comment: Comment) -> None:
    for response in (
        client.post(url(comment.id), json={}, headers=ORIGIN),
        client.delete(url(comment.id), headers=ORIGIN),
    ):
        assert response.status_code == 401
        assert error_code(response) == "login_required"


def test_own_comment_is_refused(app: Flask, db: Session, comment: Comment, people) -> None:
    response = client_for(app, people["author"]).post(url(comment.id), json={}, headers=ORIGIN)
    assert response.status_code == 409
    assert error_code(response) == "own_comment"
    assert stored(db, comment.id) == (0, 0)


@pytest.mark.parametrize("state", [CommentState.HELD, CommentState.REMOVED, CommentState.DELETED])
def test_a_comment_that_is_not_published_is_refused(
    app: Flask, db: Session, article: Article, people: dict[str, User], state: CommentState
) -> None:
    hidden = create_comment(db, article, people["author"], state, "Nog niet zichtbaar hier")
    response = client_for(app, people["fan"]).post(url(hidden.id), json={}, headers=ORIGIN)
    assert response.status_code == 409
    assert error_code(response) == "comment_not_published"


def test_an_unknown_comment_is_404(app: Flask, people: dict[str, User]) -> None:
    fan = client_for(app, people["fan"])
    assert error_code(fan.post(url(987654), json={}, headers=ORIGIN)) == "comment_not_found"
    assert fan.delete(url(987654), headers=ORIGIN).status_code == 404


def test_a_suspended_fan_cannot_react_but_can_take_it_back(
    app: Flask, db: Session, comment: Comment, people: dict[str, User]
) -> None:
    fan = client_for(app, people["fan"])
    assert fan.post(url(comment.id), json={}, headers=ORIGIN).status_code == 201
    user = db.get_one(User, people["fan"].id)
    user.banned_until = utcnow() + timedelta(days=2)
    db.commit()
    refused = fan.post(url(comment.id), json={}, headers=ORIGIN)
    # Given before: the ban is checked before anything else, so the repeat is refused too.
    assert refused.status_code == 403 and error_code(refused) == "banned"
    taken = fan.delete(url(comment.id), headers=ORIGIN)
    assert taken.status_code == 200 and taken.get_json()["reaction_count"] == 0


def test_an_unconfirmed_account_cannot_react_when_confirmation_is_required(
    app_settings: dict[str, Any],
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    db: Session,
) -> None:
    app_settings["TRIBUNE_REQUIRE_VERIFIED_EMAIL"] = True
    from app import create_app

    app = create_app(app_settings)
    try:
        author = make_user(username="schrijver")
        fan = make_user(username="nieuweling")
        fan.email_verified_at = None
        db.commit()
        target = create_comment(db, make_article("rsca"), author, CommentState.PUBLISHED, "Goed")
        response = client_for(app, fan).post(url(target.id), json={}, headers=ORIGIN)
        assert response.status_code == 403
        assert error_code(response) == "email_unverified"
    finally:
        app.extensions["tribune.engine"].dispose()


def test_a_cookie_write_from_another_site_is_refused(
    app: Flask, comment: Comment, people: dict[str, User]
) -> None:
    fan = client_for(app, people["fan"])
    response = fan.post(url(comment.id), json={}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and error_code(response) == "origin_mismatch"


def test_an_embed_token_reacts(
    app: Flask, db: Session, comment: Comment, people: dict[str, User]
) -> None:
    _, plain = issue_embed_session(db, people["fan"], EmbedVia.LOGIN)
    db.commit()
    response = app.test_client().post(
        url(comment.id), headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert stored(db, comment.id) == (1, 1)


def test_the_limit_answers_429(
    app_settings: dict[str, Any], make_user, make_article, db: Session
) -> None:
    app_settings["TRIBUNE_RATELIMIT_ENABLED"] = True
    app_settings["TRIBUNE_REACTION_LIMIT"] = "2 per minute"
    from app import create_app

    app = create_app(app_settings)
    try:
        author, fan = make_user(username="schrijver"), make_user(username="lezer")
        target = create_comment(db, make_article("x1"), author, CommentState.PUBLISHED, "Top!")
        client = client_for(app, fan)
        assert client.post(url(target.id), json={}, headers=ORIGIN).status_code == 201
        assert client.delete(url(target.id), headers=ORIGIN).status_code == 200
        third = client.post(url(target.id), json={}, headers=ORIGIN)
        assert third.status_code == 429 and error_code(third) == "rate_limited"
    finally:
        app.extensions["tribune.engine"].dispose()


def test_the_thread_carries_counts_and_the_readers_own_reactions(
    app: Flask, db: Session, article: Article, comment: Comment, people: dict[str, User]
) -> None:
    reply = create_comment(
        db, article, people["other"], CommentState.PUBLISHED, "Akkoord", parent=comment
    )
    fan = client_for(app, people["fan"])
    fan.post(url(reply.id), json={}, headers=ORIGIN)
    client_for(app, people["other"]).post(url(comment.id), json={}, headers=ORIGIN)

    anonymous = app.test_client().get(f"/api/v1/articles/{article.cms_id}/comments").get_json()
    [top] = anonymous["comments"]
    assert (top["reaction_count"], top["reacted"]) == (1, False)
    assert (top["replies"][0]["reaction_count"], top["replies"][0]["reacted"]) == (1, False)

    mine = fan.get(f"/api/v1/articles/{article.cms_id}/comments").get_json()
    [top] = mine["comments"]
    assert top["reacted"] is False and top["replies"][0]["reacted"] is True


# ---------------------------------------------------------------- the sort "beste"


def _score(reactions_count: int, age_hours: float) -> float:
    return (reactions_count + 1) / (age_hours + 2) ** GRAVITY


def test_beste_orders_by_reactions_with_a_time_decay(
    app: Flask, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    author = make_user(username="schrijver")
    fans = [make_user(username=f"lezer{i}") for i in range(20)]
    now = utcnow()
    # (age in hours, reactions): fresh without, 2 h with 3, a day with 20, 5 h with 1.
    shapes = [(0.1, 0), (2, 3), (24, 20), (5, 1), (1, 0)]
    made = []
    for age, count in shapes:
        c = create_comment(
            db, article, author, CommentState.PUBLISHED, f"Reactie van {age} uur",
            created_at=now - timedelta(hours=age),
        )
        for fan in fans[:count]:
            reactions.react(db, fan, c.id, PostingPolicy(), now=now)
        made.append((c.id, _score(count, age)))
    db.commit()
    expected = [cid for cid, _ in sorted(made, key=lambda item: -item[1])]

    page = published_threads(db, article, per_page=50, sort=ThreadSort.BEST, now=now)
    assert [node.comment.id for node in page.threads] == expected

    body = app.test_client().get(f"/api/v1/articles/{article.cms_id}/comments?sort=beste")
    assert body.status_code == 200
    assert body.get_json()["sort"] == "best"
    assert [c["id"] for c in body.get_json()["comments"]] == expected
    newest = app.test_client().get(f"/api/v1/articles/{article.cms_id}/comments?sort=newest")
    assert [c["id"] for c in newest.get_json()["comments"]] != expected


def test_replies_stay_under_their_comment_in_time_order(
    app: Flask, db: Session, article: Article, people: dict[str, User]
) -> None:
    now = utcnow()
    top = create_comment(db, article, people["author"], CommentState.PUBLISHED, "Hoofd",
                         created_at=now - timedelta(hours=1))
    first = create_comment(db, article, people["fan"], CommentState.PUBLISHED, "Eerste",
                           parent=top, created_at=now - timedelta(minutes=30))
    second = create_comment(db, article, people["other"], CommentState.PUBLISHED, "Tweede",
                            parent=top, created_at=now - timedelta(minutes=10))
    # The later reply gets reactions: replies are not sorted by them.
    reactions.react(db, people["fan"], second.id, PostingPolicy())
    db.commit()
    body = app.test_client().get(f"/api/v1/articles/{article.cms_id}/comments?sort=beste")
    [thread] = body.get_json()["comments"]
    assert [r["id"] for r in thread["replies"]] == [first.id, second.id]


def test_an_unknown_sort_is_422(client: FlaskClient, article: Article) -> None:
    for sort in ("populair", "nieuwste", ""):
        response = client.get(f"/api/v1/articles/{article.cms_id}/comments?sort={sort}")
        if sort == "":
            assert response.status_code == 200
            continue
        assert response.status_code == 422 and error_code(response) == "invalid_parameter"


def test_the_article_default_sort_applies_without_a_sort(
    app: Flask, db: Session, article: Article, make_user: Callable[..., User]
) -> None:
    editor = make_user(Role.EDITOR, username="redacteur")
    client = client_for(app, editor)
    response = client.post(
        f"/redactie/artikels/{article.cms_id}/volgorde", data={"sort": "best"}
    )
    assert response.status_code == 303
    fresh(db)
    assert db.get_one(Article, article.id).default_sort is ThreadSort.BEST
    assert db.scalar(
        select(ModerationAction.action).where(ModerationAction.action == "set_default_sort")
    )
    body = app.test_client().get(f"/api/v1/articles/{article.cms_id}/comments").get_json()
    assert body["sort"] == "best"
    page = app.test_client().get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert re.search(r'volgorde=beste"\s+aria-current="true">Beste<', page)
    assert client.post(
        f"/redactie/artikels/{article.cms_id}/volgorde", data={"sort": "populair"}
    ).status_code == 303
    fresh(db)
    assert db.get_one(Article, article.id).default_sort is ThreadSort.BEST


def test_a_fan_cannot_set_the_default_sort(app: Flask, article: Article, people) -> None:
    response = client_for(app, people["fan"]).post(
        f"/redactie/artikels/{article.cms_id}/volgorde", data={"sort": "best"}
    )
    assert response.status_code == 403


# ---------------------------------------------------------------- the pages (no JS)


def test_the_page_form_toggles_and_returns_to_the_comment(
    app: Flask, db: Session, article: Article, comment: Comment, people: dict[str, User]
) -> None:
    fan = client_for(app, people["fan"])
    page = fan.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert 'aria-pressed="false"' in page and f'data-reaction="{comment.id}"' in page

    given = fan.post(f"/reacties/{comment.id}/sterk", data={"sterk": "1"})
    assert given.status_code == 303
    assert given.headers["Location"].endswith(f"/artikels/{article.cms_id}#reactie-{comment.id}")
    again = fan.post(f"/reacties/{comment.id}/sterk", data={"sterk": "1"})  # a stale page
    assert again.status_code == 303
    assert stored(db, comment.id) == (1, 1)
    page = fan.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert 'aria-pressed="true"' in page and 'aria-label="Sterk, 1 keer gegeven"' in page
    assert 'name="sterk" type="hidden" value="0"' in page

    taken = fan.post(f"/reacties/{comment.id}/sterk", data={"sterk": "0"})
    assert taken.status_code == 303
    assert stored(db, comment.id) == (0, 0)


def test_the_page_shows_the_count_without_a_button_on_ones_own_comment(
    app: Flask, db: Session, article: Article, comment: Comment, people: dict[str, User]
) -> None:
    client_for(app, people["fan"]).post(url(comment.id), json={}, headers=ORIGIN)
    page = client_for(app, people["author"]).get(f"/artikels/{article.cms_id}")
    html = page.get_data(as_text=True)
    assert f'data-reaction="{comment.id}"' not in html
    assert "1 × Sterk" in html
    visitor = app.test_client().get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert "1 × Sterk" in visitor and "aria-pressed" not in visitor


def test_a_refused_page_reaction_shows_the_reason(
    app: Flask, db: Session, article: Article, people: dict[str, User]
) -> None:
    held = create_comment(db, article, people["author"], CommentState.PUBLISHED, "Straks weg")
    fan = client_for(app, people["fan"])
    fan.get(f"/artikels/{article.cms_id}")
    moderator = db.get_one(User, people["other"].id)
    transition(db, db.get_one(Comment, held.id), CommentState.REMOVED, "remove", moderator)
    db.commit()
    response = fan.post(f"/reacties/{held.id}/sterk", data={"sterk": "1"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Op deze reactie kan je (nu) niet reageren met Sterk." in html
    assert "<h1>Artikel" in html  # the article page again, with the reason on top


@pytest.fixture
def csrf_on(app_settings: dict[str, Any]) -> None:
    app_settings["WTF_CSRF_ENABLED"] = True


def test_the_page_form_needs_its_csrf_token(
    csrf_on: None, app: Flask, db: Session, article: Article, comment: Comment, people
) -> None:
    fan = app.test_client()
    token = CSRF_FIELD.search(fan.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    fan.post("/login", data={"login": "fan", "password": TEST_PASSWORD, "csrf_token": token})
    refused = fan.post(f"/reacties/{comment.id}/sterk", data={"sterk": "1"})
    assert refused.status_code == 400
    assert stored(db, comment.id) == (0, 0)
    page = fan.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    form = page[page.index(f'data-reaction="{comment.id}"') :]
    token = CSRF_FIELD.search(form).group(1)  # type: ignore[union-attr]
    done = fan.post(f"/reacties/{comment.id}/sterk", data={"sterk": "1", "csrf_token": token})
    assert done.status_code == 303
    assert stored(db, comment.id) == (1, 1)


def test_the_embed_form_with_an_embed_token(
    app: Flask, db: Session, article: Article, comment: Comment, people: dict[str, User]
) -> None:
    _, plain = issue_embed_session(db, people["fan"], EmbedVia.LOGIN)
    db.commit()
    auth = {"Authorization": f"Bearer {plain}"}
    client = app.test_client()
    fragment = client.get(f"/embed/comments/{article.cms_id}?fragment=1", headers=auth)
    # comments.js's reader gets the button alone (comments-write.js calls the API with it).
    assert f'data-sterk="{comment.id}" aria-pressed="false"' in fragment.get_data(as_text=True)
    direct = client_for(app, people["fan"]).get(f"/embed/comments/{article.cms_id}")
    assert f'action="/embed/comments/reacties/{comment.id}/sterk"' in direct.get_data(
        as_text=True
    )
    response = client.post(
        f"/embed/comments/reacties/{comment.id}/sterk", data={"sterk": "1"}, headers=auth
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Je gaf deze reactie een Sterk." in html and 'aria-pressed="true"' in html
    assert stored(db, comment.id) == (1, 1)
    beste = client.get(f"/embed/comments/{article.cms_id}?fragment=1&volgorde=beste")
    assert re.search(r'volgorde=beste"\s+aria-current="true">Beste<', beste.get_data(as_text=True))


def test_the_embed_asks_a_visitor_to_sign_in(client: FlaskClient, comment: Comment) -> None:
    response = client.post(f"/embed/comments/reacties/{comment.id}/sterk", data={"sterk": "1"})
    assert response.status_code == 401


# ---------------------------------------------------------------- counters


def test_recount_repairs_injected_drift(
    db: Session, article: Article, comment: Comment, people: dict[str, User]
) -> None:
    reactions.react(db, people["fan"], comment.id, PostingPolicy())
    reactions.react(db, people["other"], comment.id, PostingPolicy())
    db.commit()
    db.execute(update(Comment).where(Comment.id == comment.id).values(reaction_count=7))
    db.commit()
    drifts = recount(db)
    db.commit()
    assert ("comments.reaction_count", str(comment.id), 7, 2) in {
        (d.counter, d.key, d.stored, d.actual) for d in drifts
    }
    assert stored(db, comment.id) == (2, 2)
    assert recount(db) == []
    db.rollback()


def test_account_deletion_removes_reactions_and_lowers_the_counters(
    app: Flask, db: Session, article: Article, comment: Comment, people: dict[str, User]
) -> None:
    second = create_comment(db, article, people["other"], CommentState.PUBLISHED, "Ook goed")
    for target in (comment, second):
        reactions.react(db, people["fan"], target.id, PostingPolicy())
    reactions.react(db, people["author"], second.id, PostingPolicy())
    db.commit()
    delete_account(db, db.get_one(User, people["fan"].id), TEST_PASSWORD, CommentChoice.KEEP)
    db.commit()
    assert stored(db, comment.id) == (0, 0)
    assert stored(db, second.id) == (1, 1)


def test_the_gdpr_export_lists_reactions(
    app: Flask, db: Session, comment: Comment, people: dict[str, User]
) -> None:
    fan = client_for(app, people["fan"])
    fan.post(url(comment.id), json={}, headers=ORIGIN)
    document = fan.get("/profiel/gegevens.json").get_json()
    assert [r["comment_id"] for r in document["reactions"]] == [comment.id]


ACTIONS = ("react", "unreact", "delete_comment", "remove_comment", "delete_account", "post")


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operations=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(0, 100), st.integers(0, 100)),
        min_size=1,
        max_size=25,
    )
)
def test_reaction_counters_equal_their_rows_after_any_sequence(
    app: Flask,
    article: Article,
    make_user: Callable[..., User],
    operations: list[tuple[str, int, int]],
) -> None:
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        fans = [make_user().id for _ in range(4)]
        moderator = make_user(Role.MODERATOR).id
        for fan_id in fans[:2]:
            create_comment(
                session, article, session.get_one(User, fan_id), CommentState.PUBLISHED, "Basis"
            )
        for action, who, which in operations:
            live = [
                u for u in fans if session.get_one(User, u).deleted_at is None
            ]
            comments = session.scalars(select(Comment).order_by(Comment.id)).all()
            if not live or not comments:
                continue
            user = session.get_one(User, live[who % len(live)])
            target = comments[which % len(comments)]
            try:
                if action == "react":
                    reactions.react(session, user, target.id, PostingPolicy())
                elif action == "unreact":
                    reactions.unreact(session, user, target.id)
                elif action == "post":
                    create_comment(session, article, user, CommentState.PUBLISHED, "Nog één")
                elif action == "delete_comment" and target.state is CommentState.PUBLISHED:
                    by = session.get_one(User, target.author_id)
                    transition(session, target, CommentState.DELETED, "delete", by)
                elif action == "remove_comment" and target.state is CommentState.PUBLISHED:
                    by = session.get_one(User, moderator)
                    transition(session, target, CommentState.REMOVED, "remove", by)
                elif action == "delete_account":
                    choice = CommentChoice.REMOVE if which % 2 else CommentChoice.KEEP
                    delete_account(session, user, TEST_PASSWORD, choice)
                session.commit()
            except DomainError:
                session.rollback()
            counters = dict(session.execute(select(Comment.id, Comment.reaction_count)).all())
            rows = dict(
                session.execute(
                    select(Reaction.comment_id, func.count()).group_by(Reaction.comment_id)
                ).all()
            )
            assert counters == {cid: rows.get(cid, 0) for cid in counters}
        assert [d for d in recount(session) if d.counter == "comments.reaction_count"] == []
        session.rollback()
    finally:
        session.close()


def test_concurrent_reactions_count_once_per_reader_and_all_readers(
    app: Flask, db: Session, comment: Comment, make_user: Callable[..., User]
) -> None:
    """A double click from each of several readers at the same moment, through the real
    routes: every request answers 200 or 201 (never 500), each reader counts once."""
    import threading

    readers = [make_user(username=f"tegelijk{i}") for i in range(4)]
    clients = [client_for(app, reader) for reader in readers for _ in range(2)]
    barrier = threading.Barrier(len(clients))
    answers: list[int] = []

    def react(client: FlaskClient) -> None:
        barrier.wait()
        answers.append(client.post(url(comment.id), json={}, headers=ORIGIN).status_code)

    threads = [threading.Thread(target=react, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [200] * 4 + [201] * 4
    assert stored(db, comment.id) == (4, 4)
