"""'Account verwijderen' on /profiel: the password again, the fan's choice for the comments,
personal data gone, ballots still counted without a link, counters true afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import models
from accounts.services import set_active
from app import load_event_handlers
from errors import DomainError
from models import (
    ApiToken,
    Appeal,
    Article,
    Ballot,
    Comment,
    CommentState,
    EmbedSession,
    Flag,
    ModerationAction,
    OutboxMessage,
    Poll,
    RememberToken,
    Report,
    Role,
    SsoIdentity,
    User,
    UserNote,
)
from moderation.queue import APPEALS, queue_counts
from privacy.deletion import (
    DELETED_NAME,
    ERASED_WITH_ACCOUNT,
    KEPT_REFERENCES,
    erased_columns,
)
from tests.conftest import TEST_PASSWORD, client_for
from tests.factories import CLEAN_TEXTS, fresh
from tests.privacy_fixtures import NOTE_ABOUT_FAN, REPORT_NOTE, Fan, populate_fan

# Sections and erasers of other packages register when their module loads (as in the app).
load_event_handlers()


@pytest.fixture
def fan(
    app: Flask, db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> Fan:
    return populate_fan(app, db, make_user, make_article)


def delete(client: FlaskClient, confirmation: str, comments: str | None) -> object:
    data = {"confirmation": confirmation}
    if comments is not None:
        data["comments"] = comments
    return client.post("/profiel/verwijderen", data=data)


def recount_output(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["tribune", "recount"])
    assert result.exit_code == 0, result.output
    return result.output


def count(db: Session, model: type, **where: object) -> int:
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return int(db.scalar(stmt) or 0)


def user_columns() -> list[tuple[str, str]]:
    """(table, column) of every column with a foreign key to users.id, from the metadata."""
    return sorted(
        (table.name, column.name)
        for table in models.Base.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "users" for fk in column.foreign_keys)
    )


@pytest.mark.parametrize(("table", "column"), user_columns())
def test_every_table_referencing_an_account_is_handled_by_the_deletion(
    table: str, column: str
) -> None:
    # A new table with a user column fails here until an eraser empties it
    # (privacy.deletion.register_eraser) or KEPT_REFERENCES says why it keeps the id.
    assert (table, column) in erased_columns() | set(KEPT_REFERENCES), (
        f"{table}.{column} references users.id; the account deletion does not say what becomes "
        "of it"
    )


def test_no_erased_column_names_the_account_afterwards(fan: Fan, db: Session) -> None:
    fresh(db)
    for table_name, column_name in erased_columns():
        table = models.Base.metadata.tables[table_name]
        stmt = select(func.count()).select_from(table).where(table.c[column_name] == fan.user.id)
        assert db.scalar(stmt), f"the fixture owns no {table_name} row through {column_name}"

    delete(fan.client, TEST_PASSWORD, "keep")

    fresh(db)
    for table_name, column_name in erased_columns():
        table = models.Base.metadata.tables[table_name]
        stmt = select(func.count()).select_from(table).where(table.c[column_name] == fan.user.id)
        assert db.scalar(stmt) == 0, f"{table_name}.{column_name} still names the account"
    # The mail sent to the address alone went too.
    assert count(db, OutboxMessage) == 0


def test_the_confirm_page_asks_for_the_password_and_the_choice(fan: Fan) -> None:
    response = fan.client.get("/profiel/verwijderen")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Je account verwijderen" in page
    assert 'type="password"' in page and 'name="confirmation"' in page
    assert 'value="keep"' in page and 'value="remove"' in page
    assert "verwijderde gebruiker" in page


def test_a_wrong_password_is_refused_beside_the_field(fan: Fan, db: Session) -> None:
    response = delete(fan.client, "niet mijn wachtwoord", "keep")

    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert 'id="confirmation-error"' in page and "Je wachtwoord klopt niet." in page
    assert re.search(r'<input checked[^>]*value="keep"', page)  # the choice is kept
    fresh(db)
    user = db.get(User, fan.user.id)
    assert user is not None and user.deleted_at is None and user.username == "supporter"


def test_no_choice_is_refused_beside_the_choice(fan: Fan) -> None:
    response = delete(fan.client, TEST_PASSWORD, None)

    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert 'id="comments-error"' in page and "Kies wat er met je reacties gebeurt." in page


def test_the_form_needs_its_csrf_token(app: Flask, fan: Fan) -> None:
    app.config["WTF_CSRF_ENABLED"] = True

    response = delete(fan.client, TEST_PASSWORD, "keep")

    assert response.status_code == 400  # type: ignore[attr-defined]


def test_keeping_the_comments(app: Flask, fan: Fan, db: Session) -> None:
    comment_ids = {state: comment.id for state, comment in fan.comments.items()}
    before_queues = queue_counts(db)

    response = delete(fan.client, TEST_PASSWORD, "keep")

    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["Location"] == "/"  # type: ignore[attr-defined]
    fresh(db)
    user = db.get(User, fan.user.id)
    assert user is not None
    assert user.username == DELETED_NAME
    assert user.email.endswith("@deleted.invalid") and "supporter" not in user.email
    assert user.deleted_at is not None and not user.is_active and not user.password_login
    assert user.last_login_at is None
    for state, comment_id in comment_ids.items():
        comment = db.get(Comment, comment_id)
        assert comment is not None and comment.state is state and comment.author_id == user.id
        assert comment.body_erased_at is None
    assert queue_counts(db) == {**before_queues, APPEALS: before_queues[APPEALS] - 1}
    assert "Alle tellers kloppen." in recount_output(app)
    page = fan.client.get(f"/artikels/{fan.article.cms_id}").get_data(as_text=True)
    assert CLEAN_TEXTS[0] in page and DELETED_NAME in page and "supporter" not in page


def test_personal_rows_go_and_audit_rows_stay_without_notes(fan: Fan, db: Session) -> None:
    delete(fan.client, TEST_PASSWORD, "keep")

    fresh(db)
    user_id = fan.user.id
    for model in (ApiToken, RememberToken, EmbedSession, SsoIdentity):
        assert count(db, model, user_id=user_id) == 0, model.__name__
    assert count(db, UserNote, user_id=user_id) == 0
    assert count(db, Appeal, author_id=user_id) == 0
    assert count(db, UserNote, author_id=user_id) == 1  # a note the account wrote about another
    reports = list(db.scalars(select(Report).where(Report.reporter_id == user_id)))
    assert len(reports) == 1 and reports[0].note is None
    about_user = list(
        db.scalars(
            select(ModerationAction).where(
                ModerationAction.target_type == "user",
                ModerationAction.target_id == str(user_id),
            )
        )
    )
    assert {row.action for row in about_user} >= {"add_note", "delete_account"}
    assert all(row.note in (None, "keep") for row in about_user)
    assert NOTE_ABOUT_FAN not in {row.note for row in about_user}
    assert count(db, ModerationAction, actor_id=user_id) >= 2  # its appeal, its deletion
    assert REPORT_NOTE not in str([report.note for report in reports])


def test_ballots_stay_counted_without_a_link(app: Flask, fan: Fan, db: Session) -> None:
    fresh(db)
    poll_before = db.get(Poll, fan.poll.id)
    assert poll_before is not None
    counted = poll_before.ballot_count

    delete(fan.client, TEST_PASSWORD, "keep")

    fresh(db)
    ballots = list(db.scalars(select(Ballot).where(Ballot.poll_id == fan.poll.id)))
    assert len(ballots) == 1
    assert ballots[0].user_id is None
    assert re.fullmatch(r"x:[0-9a-f]{32}", ballots[0].voter_key)  # random, not "u:<id>"
    poll = db.get(Poll, fan.poll.id)
    assert poll is not None and poll.ballot_count == counted == 1
    assert "Alle tellers kloppen." in recount_output(app)


def test_removing_the_comments(app: Flask, fan: Fan, db: Session) -> None:
    # The published one is in the Gemeld tab: another fan reported it.
    reported = client_for(app, fan.other).post(
        f"/api/v1/comments/{fan.comments[CommentState.PUBLISHED].id}/reports",
        json={"reason": "off-topic"},
        headers={"Origin": "http://localhost"},
    )
    assert reported.status_code == 201
    fresh(db)
    article = db.get(Article, fan.article.id)
    assert article is not None
    published_before = article.comment_count

    response = delete(fan.client, TEST_PASSWORD, "remove")

    assert response.status_code == 303  # type: ignore[attr-defined]
    fresh(db)
    states = {state: db.get(Comment, comment.id) for state, comment in fan.comments.items()}
    assert states[CommentState.PUBLISHED].state is CommentState.DELETED  # type: ignore[union-attr]
    assert states[CommentState.HELD].state is CommentState.DELETED  # type: ignore[union-attr]
    assert states[CommentState.REJECTED].state is CommentState.REJECTED  # type: ignore[union-attr]
    assert states[CommentState.REMOVED].state is CommentState.REMOVED  # type: ignore[union-attr]
    for comment in states.values():
        assert comment is not None
        assert comment.body == ERASED_WITH_ACCOUNT and comment.body_erased_at is not None
    flags = list(
        db.scalars(select(Flag).where(Flag.comment_id.in_([c.id for c in fan.comments.values()])))
    )
    assert flags and all(flag.span_start is None and flag.span_end is None for flag in flags)
    article = db.get(Article, fan.article.id)
    assert article is not None and article.comment_count == published_before - 1
    history = [
        (row.action, row.from_state, row.to_state)
        for row in db.scalars(
            select(ModerationAction).where(
                ModerationAction.target_type == "comment",
                ModerationAction.target_id == str(fan.comments[CommentState.HELD].id),
            )
        )
    ]
    assert ("account_deleted", "held", "deleted") in history
    assert "Alle tellers kloppen." in recount_output(app)
    page = fan.client.get(f"/artikels/{fan.article.cms_id}").get_data(as_text=True)
    assert CLEAN_TEXTS[0] not in page
    assert "Deze reactie werd verwijderd." in page
    assert CLEAN_TEXTS[4] in page  # the other fan's reply stays


def test_the_account_never_signs_in_again(app: Flask, fan: Fan) -> None:
    delete(fan.client, TEST_PASSWORD, "keep")

    assert fan.client.get("/profiel").status_code == 302  # this browser: logged out
    assert fan.remembered.get("/profiel").status_code == 302  # the remembered browser too
    for login_name in ("supporter", "supporter@example.test"):
        response = app.test_client().post(
            "/login", data={"login": login_name, "password": TEST_PASSWORD}
        )
        assert response.status_code == 200
        assert "Gebruikersnaam of wachtwoord klopt niet." in response.get_data(as_text=True)


def test_the_name_and_address_are_free_again(app: Flask, fan: Fan, db: Session) -> None:
    delete(fan.client, TEST_PASSWORD, "keep")

    response = app.test_client().post(
        "/registreren",
        data={
            "username": "supporter",
            "email": "supporter@example.test",
            "password": "een heel nieuw wachtwoord",
            "password_repeat": "een heel nieuw wachtwoord",
        },
    )

    # Registration answers 303 (accounts.care: the same for any address) and signs nobody in.
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    fresh(db)
    newcomer = db.scalar(select(User).where(User.username == "supporter"))
    assert newcomer is not None and newcomer.id != fan.user.id
    assert newcomer.published_count == 0


def test_an_admin_cannot_bring_a_deleted_account_back(
    fan: Fan, db: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN, username="beheerder")
    delete(fan.client, TEST_PASSWORD, "keep")
    fresh(db)

    with pytest.raises(DomainError) as refused:
        set_active(db, admin, fan.user.id, True)

    assert refused.value.code == "account_deleted" and refused.value.status_code == 409


def test_an_sso_account_confirms_with_its_username(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    reader = make_user(Role.FAN, username="Lezer")
    client = client_for(app, reader)  # signed in before the account became an SSO account
    fresh(db)
    user = db.get(User, reader.id)
    assert user is not None
    user.password_login = False
    db.commit()

    page = client.get("/profiel/verwijderen").get_data(as_text=True)
    assert 'type="password"' not in page and "Typ je gebruikersnaam" in page
    wrong = delete(client, TEST_PASSWORD, "remove")
    assert wrong.status_code == 422  # type: ignore[attr-defined]
    assert "Typ je gebruikersnaam precies" in wrong.get_data(as_text=True)  # type: ignore[attr-defined]
    right = delete(client, "lezer", "remove")

    assert right.status_code == 303  # type: ignore[attr-defined]
    fresh(db)
    gone = db.get(User, reader.id)
    assert gone is not None and gone.deleted_at is not None


def test_nothing_changes_without_the_account_being_deleted(fan: Fan, db: Session) -> None:
    # A GET shows the page only; a failed POST leaves every row as it was.
    fan.client.get("/profiel/verwijderen")
    delete(fan.client, "fout", "remove")

    fresh(db)
    assert count(db, ApiToken, user_id=fan.user.id) == 1
    assert count(db, Ballot, user_id=fan.user.id) == 1
    comment = db.get(Comment, fan.comments[CommentState.PUBLISHED].id)
    assert comment is not None and comment.state is CommentState.PUBLISHED


def test_the_admin_list_shows_the_account_as_deleted(
    app: Flask, fan: Fan, make_user: Callable[..., User]
) -> None:
    admin = client_for(app, make_user(Role.ADMIN, username="beheerder"))
    delete(fan.client, TEST_PASSWORD, "keep")

    page = admin.get("/beheer/?q=deleted").get_data(as_text=True)

    assert DELETED_NAME in page and "verwijderd op" in page
    assert f"/beheer/gebruikers/{fan.user.id}/status" not in page
