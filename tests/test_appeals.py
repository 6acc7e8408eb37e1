"""Appeals end to end (author → Bezwaren → decision → author) and readers' report outcomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Appeal, AppealState, Article, Comment, CommentState, Role, User
from moderation.queue import queue_counts
from tests.conftest import client_for
from tests.factories import (
    CLEAN_TEXTS,
    ORIGIN,
    REJECT_TEXT,
    assert_no_drift,
    audit_rows,
    create_comment,
    error_code,
    fresh,
    post_comment,
    reload,
)

JSON = {"Accept": "application/json"}
APPEAL_TEXT = "Ik citeerde alleen wat de scheidsrechter riep."


pytestmark = pytest.mark.usefixtures("own_redis_keys")


def api_appeal(client: FlaskClient, comment_id: int, body: object = APPEAL_TEXT) -> Any:
    return client.post(f"/api/v1/comments/{comment_id}/appeal", json={"body": body}, headers=ORIGIN)


def page_appeal(client: FlaskClient, comment_id: int, body: str = APPEAL_TEXT) -> Any:
    return client.post(f"/reacties/{comment_id}/bezwaar", data={"body": body})


def follow(client: FlaskClient, response: Any) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def decide(client: FlaskClient, appeal_id: int, decision: str, note: str = "") -> Any:
    return client.post(
        f"/moderatie/bezwaren/{appeal_id}",
        data={"decision": decision, "note": note},
        headers=JSON,
    )


def appeal_of(db: Session, comment_id: int) -> Appeal:
    fresh(db)
    appeal = db.scalar(select(Appeal).where(Appeal.comment_id == comment_id))
    assert appeal is not None
    return appeal


@pytest.fixture
def rejected(
    app: Flask, db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> tuple[FlaskClient, User, Article, int]:
    """A fan whose comment screening rejected (422 with the comment id, so they can appeal)."""
    fan, article = make_user(), make_article()
    client = client_for(app, fan)
    response = post_comment(client, article.cms_id, REJECT_TEXT)
    assert response.status_code == 422
    assert error_code(response) == "comment_rejected"
    return client, fan, article, response.get_json()["error"]["details"]["comment_id"]


@pytest.fixture
def mod_client(app: Flask, make_user: Callable[..., User]) -> FlaskClient:
    return client_for(app, make_user(Role.MODERATOR, username="moderatorA"))


def test_the_author_sees_why_and_appeals_through_the_page_form(
    rejected: tuple[FlaskClient, User, Article, int], db: Session
) -> None:
    client, fan, article, comment_id = rejected
    before = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    mine = client.get("/api/v1/me/comments").get_json()["comments"][0]

    page = follow(client, page_appeal(client, comment_id))

    assert "Niet geplaatst: Racisme of haat." in before
    assert "Bezwaar maken" in before
    assert (mine["id"], mine["state"], mine["decision_reason"]) == (
        comment_id,
        "rejected",
        "racisme",
    )
    assert "Je bezwaar is ingediend." in page
    assert "Je bezwaar: in behandeling" in page
    assert "Bezwaar maken" not in page
    appeal = appeal_of(db, comment_id)
    assert (appeal.author_id, appeal.body, appeal.state) == (
        fan.id,
        APPEAL_TEXT,
        AppealState.PENDING,
    )
    row = audit_rows(db, comment_id)[-1]
    assert (row.actor_id, row.action, row.from_state, row.to_state) == (
        fan.id,
        "appeal",
        "rejected",
        None,
    )
    assert queue_counts(db)["appeals"] == 1
    assert_no_drift(db)


def test_the_author_appeals_once_through_the_api(
    rejected: tuple[FlaskClient, User, Article, int], db: Session
) -> None:
    client, _, _, comment_id = rejected

    first = api_appeal(client, comment_id)
    second = api_appeal(client, comment_id, "Nog een keer, want ik ben boos.")
    by_form = page_appeal(client, comment_id)

    assert first.status_code == 201
    assert first.get_json() == {
        "id": appeal_of(db, comment_id).id,
        "comment_id": comment_id,
        "state": "pending",
    }
    assert second.status_code == 409
    assert error_code(second) == "already_appealed"
    # The page comes back (409) with the refusal beside the appeal form and the text kept.
    assert by_form.status_code == 409
    assert "Je maakte al bezwaar" in by_form.get_data(as_text=True)
    assert APPEAL_TEXT in by_form.get_data(as_text=True)
    assert appeal_of(db, comment_id).body == APPEAL_TEXT
    assert [r.action for r in audit_rows(db, comment_id)] == ["post", "appeal"]
    assert queue_counts(db)["appeals"] == 1
    assert_no_drift(db)


@pytest.mark.parametrize("state", [CommentState.PUBLISHED, CommentState.HELD, CommentState.DELETED])
def test_only_a_rejected_or_removed_comment_can_be_appealed(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    state: CommentState,
) -> None:
    fan = make_user()
    comment = create_comment(db, make_article(), fan, state)
    client = client_for(app, fan)

    response = api_appeal(client, comment.id)

    assert response.status_code == 409
    assert error_code(response) == "not_appealable"
    fresh(db)
    assert db.scalars(select(Appeal)).all() == []


@pytest.mark.parametrize(
    ("body", "code"),
    [("kort", "invalid_appeal"), ("x" * 1001, "invalid_appeal"), (5, "invalid_appeal")],
)
def test_an_appeal_needs_a_short_text(
    rejected: tuple[FlaskClient, User, Article, int], db: Session, body: object, code: str
) -> None:
    client, _, _, comment_id = rejected

    response = api_appeal(client, comment_id, body)

    assert response.status_code == 422
    assert error_code(response) == code
    fresh(db)
    assert db.scalars(select(Appeal)).all() == []


def test_nobody_appeals_someone_elses_comment(
    rejected: tuple[FlaskClient, User, Article, int],
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
) -> None:
    _, _, _, comment_id = rejected
    other = client_for(app, make_user())

    response = api_appeal(other, comment_id)
    by_form = page_appeal(other, comment_id)

    assert response.status_code == 404
    assert error_code(response) == "comment_not_found"
    assert by_form.status_code == 404
    fresh(db)
    assert db.scalars(select(Appeal)).all() == []


def test_appeal_lands_in_bezwaren_with_its_count(
    rejected: tuple[FlaskClient, User, Article, int], db: Session, mod_client: FlaskClient
) -> None:
    client, fan, _, comment_id = rejected
    api_appeal(client, comment_id)

    page = mod_client.get("/moderatie/?tab=bezwaren").get_data(as_text=True)
    counts = mod_client.get("/moderatie/tellers").get_json()

    assert counts["tabs"]["bezwaren"] == 1
    assert 'data-count-for="bezwaren">1<' in page
    assert f'id="item-{comment_id}"' in page
    assert f"<strong>Bezwaar van de auteur:</strong> {APPEAL_TEXT}" in page
    assert fan.username in page


def test_upholding_an_appeal_publishes_the_comment_and_tells_the_author(
    rejected: tuple[FlaskClient, User, Article, int],
    db: Session,
    mod_client: FlaskClient,
) -> None:
    client, fan, article, comment_id = rejected
    api_appeal(client, comment_id)
    appeal = appeal_of(db, comment_id)
    moderator = db.scalar(select(User).where(User.username == "moderatorA"))

    response = decide(mod_client, appeal.id, "uphold", "Context gemist")
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)

    assert response.status_code == 200
    assert response.get_json()["appeal_id"] == appeal.id
    stored = reload(db, Comment, comment_id)
    assert (stored.state, stored.decision_reason) == (CommentState.PUBLISHED, None)
    decided = appeal_of(db, comment_id)
    assert (decided.state, decided.decided_by_id, decided.decision_note) == (
        AppealState.UPHELD,
        moderator.id,
        "Context gemist",
    )
    row = audit_rows(db, comment_id)[-1]
    assert (row.actor_id, row.action, row.from_state, row.to_state, row.note) == (
        moderator.id,
        "appeal_upheld",
        "rejected",
        "published",
        "Context gemist",
    )
    assert queue_counts(db)["appeals"] == 0
    assert mod_client.get("/moderatie/tellers").get_json()["tabs"]["bezwaren"] == 0
    assert f'id="reactie-{comment_id}"' in page  # back in the thread
    assert "Je bezwaar: toegekend" in page  # the author is told the outcome
    assert_no_drift(db)


def test_denying_an_appeal_keeps_the_rejection_and_shows_the_note(
    rejected: tuple[FlaskClient, User, Article, int],
    db: Session,
    mod_client: FlaskClient,
) -> None:
    client, _, article, comment_id = rejected
    page_appeal(client, comment_id)
    appeal = appeal_of(db, comment_id)

    response = decide(mod_client, appeal.id, "deny", "Blijft racistisch")
    again = decide(mod_client, appeal.id, "uphold")
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)

    assert response.status_code == 200
    assert again.status_code == 409
    assert error_code(again) == "appeal_decided"
    assert reload(db, Comment, comment_id).state is CommentState.REJECTED
    assert appeal_of(db, comment_id).state is AppealState.DENIED
    row = audit_rows(db, comment_id)[-1]
    assert (row.action, row.from_state, row.to_state, row.note) == (
        "appeal_denied",
        "rejected",
        "rejected",
        "Blijft racistisch",
    )
    assert "Je bezwaar: afgewezen · Blijft racistisch" in page
    assert "Bezwaar maken" not in page
    assert queue_counts(db)["appeals"] == 0
    assert_no_drift(db)


def test_a_removed_comment_can_be_appealed_and_restored(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    mod_client: FlaskClient,
) -> None:
    fan, article = make_user(), make_article()
    client = client_for(app, fan)
    posted = post_comment(client, article.cms_id, CLEAN_TEXTS[0])
    comment_id = posted.get_json()["id"]
    mod_client.post(
        f"/moderatie/reacties/{comment_id}/verwijderen",
        data={"reason": "off-topic", "note": "Hoort niet bij dit artikel"},
    )
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)

    filed = api_appeal(client, comment_id)
    decided = decide(mod_client, appeal_of(db, comment_id).id, "uphold")

    assert "Verwijderd: Niet ter zake. Hoort niet bij dit artikel" in page
    assert filed.status_code == 201
    assert decided.status_code == 200
    assert reload(db, Comment, comment_id).state is CommentState.PUBLISHED
    assert [r.action for r in audit_rows(db, comment_id)] == [
        "post",
        "remove",
        "appeal",
        "appeal_upheld",
    ]
    assert_no_drift(db)


def test_restoring_an_appealed_comment_settles_its_appeal(
    rejected: tuple[FlaskClient, User, Article, int],
    db: Session,
    mod_client: FlaskClient,
) -> None:
    client, _, _, comment_id = rejected
    api_appeal(client, comment_id)
    appeal_id = appeal_of(db, comment_id).id

    restored = mod_client.post(f"/moderatie/reacties/{comment_id}/herstellen", headers=JSON)
    upheld = decide(mod_client, appeal_id, "uphold")

    assert restored.status_code == 200
    assert reload(db, Comment, comment_id).state is CommentState.PUBLISHED
    # The comment is online again: its appeal must not wait in Bezwaren, nor be undecidable.
    assert mod_client.get("/moderatie/tellers").get_json()["tabs"]["bezwaren"] == 0
    assert upheld.status_code in (200, 409)
    assert appeal_of(db, comment_id).state is not AppealState.PENDING


@pytest.mark.parametrize(
    ("appeal_id", "decision", "status", "code"),
    [(999999, "uphold", 404, "appeal_not_found"), (None, "maybe", 422, "invalid_decision")],
)
def test_bad_appeal_decisions_are_refused(
    rejected: tuple[FlaskClient, User, Article, int],
    db: Session,
    mod_client: FlaskClient,
    appeal_id: int | None,
    decision: str,
    status: int,
    code: str,
) -> None:
    client, _, _, comment_id = rejected
    api_appeal(client, comment_id)
    target = appeal_id or appeal_of(db, comment_id).id

    response = decide(mod_client, target, decision)

    assert response.status_code == status
    assert error_code(response) == code
    assert appeal_of(db, comment_id).state is AppealState.PENDING


# ---------------------------------------------------------------- reporters see the outcome


@pytest.mark.parametrize(
    ("path", "form", "outcome", "shown"),
    [
        (
            "verwijderen",
            {"reason": "beledigend"},
            "upheld",
            "Terecht: de reactie werd weggehaald",
        ),
        ("meldingen-afwijzen", {}, "dismissed", "Niet weerhouden: de reactie blijft staan"),
        (None, {}, "pending", "Nog in behandeling"),
    ],
)
def test_a_reader_sees_the_outcome_of_their_report(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    mod_client: FlaskClient,
    path: str | None,
    form: dict[str, str],
    outcome: str,
    shown: str,
) -> None:
    comment = create_comment(db, make_article(), make_user(), CommentState.PUBLISHED)
    reader = client_for(app, make_user())
    reported = reader.post(
        f"/api/v1/comments/{comment.id}/reports", json={"reason": "beledigend"}, headers=ORIGIN
    )
    assert reported.status_code == 201
    if path:
        decided = mod_client.post(
            f"/moderatie/reacties/{comment.id}/{path}", data=form, headers=JSON
        )
        assert decided.status_code == 200

    page = reader.get("/profiel/gemeld").get_data(as_text=True)
    api = reader.get("/api/v1/me/reports")

    assert shown in page
    assert api.status_code == 200
    assert api.headers["Cache-Control"] == "private, no-store"
    [report] = api.get_json()["reports"]
    assert (report["comment_id"], report["reason"], report["outcome"]) == (
        comment.id,
        "beledigend",
        outcome,
    )
    assert (report["resolved_at"] is None) == (outcome == "pending")


def test_a_reader_sees_only_their_own_reports(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    comment = create_comment(db, make_article(), make_user(), CommentState.PUBLISHED)
    reporter, other = client_for(app, make_user()), client_for(app, make_user())
    reporter.post(f"/api/v1/comments/{comment.id}/reports", json={"reason": "spam"}, headers=ORIGIN)

    assert other.get("/api/v1/me/reports").get_json() == {"reports": []}
    assert "Je meldde nog niets." in other.get("/profiel/gemeld").get_data(as_text=True)
    assert len(reporter.get("/api/v1/me/reports").get_json()["reports"]) == 1
