"""Moderator decisions through /moderatie/: each transition allowed and refused, with its audit
row, its counters and the reports it settles (which moves the reporters' weight)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from comments.services import report_comment, reporter_weight
from models import (
    Article,
    Comment,
    CommentState,
    ModerationAction,
    ReasonCode,
    Report,
    ReportOutcome,
    Role,
    User,
    utcnow,
)
from moderation import actions
from moderation.rules import PostingPolicy
from tests.conftest import login
from tests.factories import (
    assert_no_drift,
    audit_rows,
    changes,
    counters,
    create_comment,
    error_code,
    fresh,
    reload,
    state_change,
)

JSON = {"Accept": "application/json"}
POLICY = PostingPolicy()


pytestmark = pytest.mark.usefixtures("own_redis_keys")


@pytest.fixture
def moderator(make_user: Callable[..., User]) -> User:
    return make_user(Role.MODERATOR)


@pytest.fixture
def mod_client(client: FlaskClient, moderator: User) -> FlaskClient:
    login(client, moderator)
    return client


def decide(client: FlaskClient, path: str, **form: Any) -> Any:
    """POST a moderator form asking for a JSON answer."""
    return client.post(f"/moderatie/{path}", data=form, headers=JSON)


def last_row(db: Session, comment_id: int) -> ModerationAction:
    return audit_rows(db, comment_id)[-1]


def row_tuple(row: ModerationAction) -> tuple[Any, ...]:
    return (
        row.actor_id,
        row.action,
        row.from_state,
        row.to_state,
        row.reason_code,
        row.note,
    )


def review(db: Session, moderator: User, comment: Comment) -> None:
    """A moderator looked at a published comment already (it left Recent)."""
    actions.approve(db, moderator, comment.id)
    db.commit()


# ---------------------------------------------------------------- allowed transitions


@pytest.mark.parametrize(
    ("start", "path", "form", "expected"),
    [
        pytest.param(
            CommentState.HELD,
            "goedkeuren",
            {},
            ("approve", "held", "published", None, None),
            id="approve-held",
        ),
        pytest.param(
            CommentState.HELD,
            "afwijzen",
            {"reason": "racisme", "note": "Haatdragend"},
            ("reject", "held", "rejected", "racisme", "Haatdragend"),
            id="reject-held",
        ),
        pytest.param(
            CommentState.PUBLISHED,
            "verwijderen",
            {"reason": "spam", "note": ""},
            ("remove", "published", "removed", "spam", None),
            id="remove-published",
        ),
        pytest.param(
            CommentState.REJECTED,
            "herstellen",
            {"note": "Te streng"},
            ("restore", "rejected", "published", None, "Te streng"),
            id="restore-rejected",
        ),
        pytest.param(
            CommentState.REMOVED,
            "herstellen",
            {},
            ("restore", "removed", "published", None, None),
            id="restore-removed",
        ),
    ],
)
def test_allowed_decision_moves_state_counters_and_audits(
    mod_client: FlaskClient,
    db: Session,
    moderator: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    start: CommentState,
    path: str,
    form: dict[str, str],
    expected: tuple[Any, ...],
) -> None:
    author, article = make_user(), make_article()
    comment = create_comment(db, article, author, start, actor=moderator)
    before = counters(db, article, author)

    response = decide(mod_client, f"reacties/{comment.id}/{path}", **form)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["ok"] is True
    assert response.get_json()["comment_id"] == comment.id
    action, from_state, to_state, reason, note = expected
    stored = reload(db, Comment, comment.id)
    assert stored.state.value == to_state
    assert stored.reviewed_at is not None
    # The statement of reasons the author sees; a published comment has none.
    shown = (reason, note) if to_state != "published" else (None, None)
    decision = stored.decision_reason.value if stored.decision_reason else None
    assert (decision, stored.decision_note) == shown
    assert row_tuple(last_row(db, comment.id)) == (moderator.id, *expected)
    # A comment published straight from posting counted as unreviewed until now.
    reviewed = start is not CommentState.PUBLISHED
    assert changes(before, counters(db, article, author)) == state_change(
        from_state, to_state, action, reviewed=reviewed
    )
    assert_no_drift(db)


def test_approving_a_published_unreviewed_comment_marks_it_reviewed(
    mod_client: FlaskClient,
    db: Session,
    moderator: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    author, article = make_user(), make_article()
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    before = counters(db, article, author)

    response = decide(mod_client, f"reacties/{comment.id}/goedkeuren")

    assert response.status_code == 200
    stored = reload(db, Comment, comment.id)
    assert stored.state is CommentState.PUBLISHED
    assert stored.reviewed_at is not None
    assert row_tuple(last_row(db, comment.id)) == (
        moderator.id,
        "mark_reviewed",
        "published",
        "published",
        None,
        None,
    )
    assert changes(before, counters(db, article, author)) == {"queue:unreviewed": -1}
    assert_no_drift(db)


def test_dismissing_reports_keeps_the_comment_and_leaves_gemeld(
    mod_client: FlaskClient,
    db: Session,
    moderator: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    author, reader, article = make_user(), make_user(), make_article()
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    report_comment(db, comment.id, reader, "off-topic", None, POLICY)
    db.commit()
    before = counters(db, article, author)
    assert before["queue:reported"] == 1

    response = decide(mod_client, f"reacties/{comment.id}/meldingen-afwijzen", note="Mag")

    assert response.status_code == 200
    stored = reload(db, Comment, comment.id)
    assert (stored.state, stored.queued_at, stored.report_count) == (
        CommentState.PUBLISHED,
        None,
        0,
    )
    assert row_tuple(last_row(db, comment.id)) == (
        moderator.id,
        "dismiss_reports",
        "published",
        "published",
        None,
        "Mag",
    )
    assert changes(before, counters(db, article, author)) == {
        "queue:reported": -1,
        "queue:unreviewed": -1,
    }
    assert db.scalar(select(Report.outcome)) is ReportOutcome.DISMISSED
    assert_no_drift(db)


def test_a_form_post_redirects_back_to_the_queue_with_a_message(
    mod_client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    comment = create_comment(db, make_article(), make_user(), CommentState.HELD)

    response = mod_client.post(
        f"/moderatie/reacties/{comment.id}/goedkeuren", data={"back": "/moderatie/?tab=gemeld"}
    )
    page = mod_client.get(response.headers["Location"]).get_data(as_text=True)
    elsewhere = mod_client.post(
        f"/moderatie/reacties/{comment.id}/afwijzen",
        data={"reason": "spam", "back": "https://evil.example/moderatie/"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/moderatie/?tab=gemeld"
    assert "Reactie goedgekeurd." in page
    assert elsewhere.status_code == 409  # already approved; never a redirect off-site
    assert reload(db, Comment, comment.id).state is CommentState.PUBLISHED


# ---------------------------------------------------------------- refused transitions


@pytest.mark.parametrize(
    ("start", "path", "form", "status", "code", "details"),
    [
        pytest.param(
            CommentState.REJECTED,
            "goedkeuren",
            {},
            409,
            "illegal_transition",
            {"from": "rejected", "to": "published", "action": "approve"},
            id="approve-rejected",
        ),
        pytest.param(
            CommentState.REMOVED,
            "goedkeuren",
            {},
            409,
            "illegal_transition",
            {"from": "removed", "to": "published", "action": "approve"},
            id="approve-removed",
        ),
        pytest.param(
            CommentState.DELETED,
            "goedkeuren",
            {},
            409,
            "illegal_transition",
            {"from": "deleted", "to": "published", "action": "approve"},
            id="approve-deleted",
        ),
        pytest.param(
            CommentState.PUBLISHED,
            "afwijzen",
            {"reason": "spam"},
            409,
            "illegal_transition",
            {"from": "published", "to": "rejected", "action": "reject"},
            id="reject-published",
        ),
        pytest.param(
            CommentState.REJECTED,
            "afwijzen",
            {"reason": "spam"},
            409,
            "illegal_transition",
            {"from": "rejected", "to": "rejected", "action": "reject"},
            id="reject-rejected",
        ),
        pytest.param(
            CommentState.HELD,
            "verwijderen",
            {"reason": "spam"},
            409,
            "illegal_transition",
            {"from": "held", "to": "removed", "action": "remove"},
            id="remove-held",
        ),
        pytest.param(
            CommentState.PUBLISHED,
            "herstellen",
            {},
            409,
            "illegal_transition",
            {"from": "published", "to": "published", "action": "restore"},
            id="restore-published",
        ),
        pytest.param(
            CommentState.HELD,
            "herstellen",
            {},
            409,
            "illegal_transition",
            {"from": "held", "to": "published", "action": "restore"},
            id="restore-held",
        ),
        pytest.param(
            CommentState.PUBLISHED,
            "meldingen-afwijzen",
            {},
            409,
            "not_reported",
            None,
            id="dismiss-without-reports",
        ),
        pytest.param(
            CommentState.HELD,
            "meldingen-afwijzen",
            {},
            409,
            "not_reported",
            None,
            id="dismiss-held",
        ),
        pytest.param(
            CommentState.HELD,
            "afwijzen",
            {"reason": "lelijk"},
            422,
            "invalid_reason",
            {"allowed": [code.value for code in ReasonCode]},
            id="reject-bad-reason",
        ),
        pytest.param(
            CommentState.HELD,
            "afwijzen",
            {},
            422,
            "invalid_reason",
            {"allowed": [code.value for code in ReasonCode]},
            id="reject-no-reason",
        ),
        pytest.param(
            CommentState.PUBLISHED,
            "verwijderen",
            {"reason": "spam", "note": "x" * 1001},
            422,
            "invalid_note",
            None,
            id="remove-note-too-long",
        ),
    ],
)
def test_refused_decision_changes_nothing(
    mod_client: FlaskClient,
    db: Session,
    moderator: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    start: CommentState,
    path: str,
    form: dict[str, str],
    status: int,
    code: str,
    details: dict[str, Any] | None,
) -> None:
    author, article = make_user(), make_article()
    comment = create_comment(db, article, author, start, actor=moderator)
    if start is CommentState.PUBLISHED and path != "meldingen-afwijzen":
        review(db, moderator, comment)
    trail = [row_tuple(row) for row in audit_rows(db, comment.id)]
    before = counters(db, article, author)

    response = decide(mod_client, f"reacties/{comment.id}/{path}", **form)

    assert response.status_code == status
    body = response.get_json()
    assert set(body["error"]) >= {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    if details is not None:
        assert body["error"]["details"] == details
    assert reload(db, Comment, comment.id).state is start
    assert [row_tuple(row) for row in audit_rows(db, comment.id)] == trail
    assert changes(before, counters(db, article, author)) == {}
    assert_no_drift(db)


def test_approving_a_reviewed_published_comment_is_illegal(
    mod_client: FlaskClient,
    db: Session,
    moderator: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    comment = create_comment(db, make_article(), make_user(), CommentState.PUBLISHED)
    first = decide(mod_client, f"reacties/{comment.id}/goedkeuren")

    second = decide(mod_client, f"reacties/{comment.id}/goedkeuren")

    assert first.status_code == 200
    assert second.status_code == 409
    assert error_code(second) == "illegal_transition"
    assert [row.action for row in audit_rows(db, comment.id)] == ["post", "mark_reviewed"]


@pytest.mark.parametrize(
    "path", ["goedkeuren", "afwijzen", "verwijderen", "herstellen", "meldingen-afwijzen"]
)
def test_deciding_on_an_unknown_comment_is_404(mod_client: FlaskClient, path: str) -> None:
    response = decide(mod_client, f"reacties/999999/{path}", reason="spam")

    assert response.status_code == 404
    assert error_code(response) == "comment_not_found"


def test_a_refused_form_post_comes_back_as_the_comments_page_with_why(
    mod_client: FlaskClient, db: Session, make_user: Callable[..., User], make_article
) -> None:
    comment = create_comment(db, make_article(), make_user(), CommentState.REJECTED)

    response = mod_client.post(f"/moderatie/reacties/{comment.id}/goedkeuren")

    # The comment's own page (its state, its actions) with the refusal in Dutch above them.
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"<h1>Reactie {comment.id}</h1>" in page
    assert 'class="form-error" role="alert"' in page


# ---------------------------------------------------------------- reports and reporter weight


def _reported(
    db: Session, article: Article, author: User, readers: list[User], held: bool
) -> Comment:
    fresh(db)
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    # Readers here weigh 1.0 each: the last report reaches the threshold when `held`.
    policy = PostingPolicy(report_threshold=float(len(readers)) if held else 100.0)
    for reader in readers:
        report_comment(db, comment.id, reader, "beledigend", None, policy)
    db.commit()
    stored = reload(db, Comment, comment.id)
    assert stored.state is (CommentState.HELD if held else CommentState.PUBLISHED)
    return stored


@pytest.mark.parametrize(
    ("held", "path", "form", "outcome"),
    [
        (True, "afwijzen", {"reason": "beledigend"}, ReportOutcome.UPHELD),
        (False, "verwijderen", {"reason": "beledigend"}, ReportOutcome.UPHELD),
        (True, "goedkeuren", {}, ReportOutcome.DISMISSED),
        (False, "meldingen-afwijzen", {}, ReportOutcome.DISMISSED),
    ],
    ids=["reject", "remove", "approve", "dismiss"],
)
def test_decisions_settle_reports_and_move_the_reporters_weight(
    mod_client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    held: bool,
    path: str,
    form: dict[str, str],
    outcome: ReportOutcome,
) -> None:
    old = utcnow() - timedelta(days=400)
    readers = [make_user(created_at=old), make_user(created_at=old)]
    bystander = make_user(created_at=old)
    comment = _reported(db, make_article(), make_user(), readers, held)
    now = utcnow()
    weights_before = [reporter_weight(db, reader, POLICY, now) for reader in readers]

    response = decide(mod_client, f"reacties/{comment.id}/{path}", **form)

    assert response.status_code == 200, response.get_data(as_text=True)
    fresh(db)
    reports = db.scalars(select(Report).where(Report.comment_id == comment.id)).all()
    assert [r.outcome for r in reports] == [outcome, outcome]
    assert all(r.resolved_at is not None for r in reports)
    weights_after = [reporter_weight(db, reader, POLICY, now) for reader in readers]
    step = 0.25 if outcome is ReportOutcome.UPHELD else -0.25
    assert weights_before == [1.0, 1.0]
    assert weights_after == [1.0 + step, 1.0 + step]
    assert reporter_weight(db, bystander, POLICY, now) == 1.0
    stored = reload(db, Comment, comment.id)
    assert (stored.report_count, stored.report_score) == (0, 0.0)
    assert_no_drift(db)


def test_a_reporter_with_upheld_reports_weighs_more_on_the_next_report(
    mod_client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    old = utcnow() - timedelta(days=400)
    good, bad = make_user(created_at=old), make_user(created_at=old)
    article, author = make_article(), make_user()
    upheld = _reported(db, article, author, [good], held=False)
    dismissed = _reported(db, article, author, [bad], held=False)
    decide(mod_client, f"reacties/{upheld.id}/verwijderen", reason="beledigend")
    decide(mod_client, f"reacties/{dismissed.id}/meldingen-afwijzen")
    fresh(db)
    target = create_comment(db, article, author, CommentState.PUBLISHED)

    good_report, _ = report_comment(db, target.id, good, "spam", None, POLICY)
    bad_report, _ = report_comment(db, target.id, bad, "spam", None, POLICY)
    db.commit()

    assert (good_report.weight, bad_report.weight) == (1.25, 0.75)
    assert reload(db, Comment, target.id).report_score == 2.0


# ---------------------------------------------------------------- bulk


def test_bulk_approve_does_the_legal_ones_and_lists_the_rest(
    mod_client: FlaskClient,
    db: Session,
    moderator: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    author, article = make_user(), make_article()
    held = [create_comment(db, article, author, CommentState.HELD) for _ in range(3)]
    rejected = create_comment(db, article, author, CommentState.REJECTED)
    reviewed = create_comment(db, article, author, CommentState.PUBLISHED)
    review(db, moderator, reviewed)
    before = counters(db, article, author)
    ids = [c.id for c in (*held, rejected, reviewed)] + [999999]

    response = mod_client.post(
        "/moderatie/bulk",
        data={"action": "approve", "ids": [str(i) for i in ids]},
        headers=JSON,
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["done"] == [c.id for c in held]
    assert body["refused"] == {
        str(rejected.id): "illegal_transition",
        str(reviewed.id): "illegal_transition",
        "999999": "comment_not_found",
    }
    assert "3 reacties verwerkt, 3 overgeslagen" in body["message"]
    assert [reload(db, Comment, c.id).state for c in held] == [CommentState.PUBLISHED] * 3
    assert reload(db, Comment, rejected.id).state is CommentState.REJECTED
    for comment in held:
        assert [r.action for r in audit_rows(db, comment.id)] == ["post", "approve"]
    assert [r.action for r in audit_rows(db, rejected.id)] == ["post"]
    assert changes(before, counters(db, article, author)) == {
        "held": -3,
        "queue:held": -3,
        "published": 3,
        "queue:published": 3,
        "article": 3,
    }
    assert_no_drift(db)


def test_bulk_reject_uses_one_reason_and_skips_published(
    mod_client: FlaskClient,
    db: Session,
    moderator: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    author, article = make_user(), make_article()
    held = [create_comment(db, article, author, CommentState.HELD) for _ in range(2)]
    published = create_comment(db, article, author, CommentState.PUBLISHED)
    before = counters(db, article, author)

    response = mod_client.post(
        "/moderatie/bulk",
        data={
            "action": "reject",
            "reason": "spam",
            "note": "reclame",
            "ids": [str(c.id) for c in (*held, published)],
        },
        headers=JSON,
    )

    assert response.status_code == 200
    assert response.get_json()["done"] == [c.id for c in held]
    assert response.get_json()["refused"] == {str(published.id): "illegal_transition"}
    for comment in held:
        row = last_row(db, comment.id)
        assert row_tuple(row) == (moderator.id, "reject", "held", "rejected", "spam", "reclame")
    assert reload(db, Comment, published.id).state is CommentState.PUBLISHED
    assert changes(before, counters(db, article, author)) == {
        "held": -2,
        "queue:held": -2,
        "rejected": 2,
        "queue:rejected": 2,
    }
    assert_no_drift(db)


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"action": "approve"}, "nothing_selected"),
        ({"action": "approve", "ids": ["abc"]}, "nothing_selected"),
        ({"action": "remove", "ids": ["1"]}, "invalid_action"),
        ({"action": "reject", "ids": ["1"]}, "invalid_reason"),
        ({"action": "reject", "reason": "boos", "ids": ["1"]}, "invalid_reason"),
    ],
)
def test_bulk_refuses_bad_input_before_touching_anything(
    mod_client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    form: dict[str, Any],
    code: str,
) -> None:
    author, article = make_user(), make_article()
    comment = create_comment(db, article, author, CommentState.HELD)
    if "ids" in form and form["ids"] == ["1"]:
        form = {**form, "ids": [str(comment.id)]}

    response = mod_client.post("/moderatie/bulk", data=form, headers=JSON)

    assert response.status_code == 422
    assert error_code(response) == code
    assert reload(db, Comment, comment.id).state is CommentState.HELD
    assert_no_drift(db)


def test_service_and_route_agree_on_the_moderator_of_record(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    admin = make_user(Role.ADMIN)
    comment = create_comment(db, make_article(), make_user(), CommentState.HELD)
    client = app.test_client()
    login(client, admin)

    response = decide(client, f"reacties/{comment.id}/afwijzen", reason="andere")

    assert response.status_code == 200
    assert last_row(db, comment.id).actor_id == admin.id
