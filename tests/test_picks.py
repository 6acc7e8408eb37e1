"""Editor picks ("Uitgelicht") and pins ("Redactie: …"): the API, the article page and the
comments embed, the refusals, the audit rows, the author's notification and its mail through the
real test SMTP server, and the references the migration adds."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from models import Article, Comment, CommentState, ModerationAction, Role, User, utcnow
from outbox import run_worker
from tests.conftest import TEST_PASSWORD, client_for
from tests.factories import ORIGIN, create_comment, error_code, fresh
from tests.mail_server import SmtpSink

pytestmark = pytest.mark.usefixtures("own_redis_keys")

JSON_ORIGIN = {**ORIGIN, "Accept": "application/json"}


def feature(client: FlaskClient, comment_id: int, on: bool = True) -> Any:
    method = client.put if on else client.delete
    return method(f"/api/v1/comments/{comment_id}/feature", json={}, headers=ORIGIN)


def pin(client: FlaskClient, article: Article, comment_id: int | None) -> Any:
    if comment_id is None:
        return client.delete(f"/api/v1/articles/{article.cms_id}/pin", headers=ORIGIN)
    return client.put(
        f"/api/v1/articles/{article.cms_id}/pin", json={"comment_id": comment_id}, headers=ORIGIN
    )


def thread(client: FlaskClient, article: Article, **query: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/articles/{article.cms_id}/comments", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body: dict[str, Any] = response.get_json()
    return body


def actions(db: Session, target_type: str, target_id: object) -> list[tuple[str, int | None]]:
    fresh(db)
    rows = db.scalars(
        select(ModerationAction)
        .where(
            ModerationAction.target_type == target_type,
            ModerationAction.target_id == str(target_id),
            ModerationAction.action.in_(("feature", "unfeature", "pin", "unpin")),
        )
        .order_by(ModerationAction.id)
    )
    return [(row.action, row.actor_id) for row in rows]


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "fan": make_user(Role.FAN, username="Jonas", email_verified_at=utcnow()),
        "moderator": make_user(Role.MODERATOR, username="Mod"),
        "editor": make_user(Role.EDITOR, username="Redacteur"),
    }


@pytest.fixture
def article(make_article: Callable[..., Article], db: Session) -> Article:
    made = make_article("derby")
    made.title = "Derby in Sclessin"
    db.commit()
    return made


# ---------------------------------------------------------------- Uitgelicht


@pytest.mark.parametrize("role", ["moderator", "editor"])
def test_staff_feature_a_comment_it_shows_in_the_section_and_the_filter(
    app: Flask, db: Session, people: dict[str, User], article: Article, role: str
) -> None:
    picked = create_comment(db, article, people["fan"], CommentState.PUBLISHED, "Wat een match!")
    other = create_comment(db, article, people["fan"], CommentState.PUBLISHED, "Scheidsrechter?")
    reply = create_comment(
        db, article, people["editor"], CommentState.PUBLISHED, "Dank je!", parent=picked
    )
    staff = client_for(app, people[role])

    answer = feature(staff, picked.id)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["featured"] is True
    assert feature(staff, reply.id).status_code == 200

    body = thread(staff, article)
    assert [c["id"] for c in body["featured"]] == [reply.id, picked.id]  # latest pick first
    shown = {c["id"]: c for c in body["comments"]}
    assert shown[picked.id]["featured"] is True and shown[other.id]["featured"] is False
    assert shown[picked.id]["replies"][0]["featured"] is True
    filtered = thread(staff, article, filter="uitgelicht")
    assert {c["id"] for c in filtered["comments"]} == {picked.id, reply.id}  # flat, replies too
    assert filtered["total_threads"] == 2
    assert actions(db, "comment", picked.id) == [("feature", people[role].id)]


def test_featuring_again_changes_nothing_and_unfeaturing_is_audited(
    app: Flask, db: Session, people: dict[str, User], article: Article
) -> None:
    picked = create_comment(db, article, people["fan"], CommentState.PUBLISHED)
    staff = client_for(app, people["moderator"])
    assert feature(staff, picked.id).status_code == 200
    first = thread(staff, article)["featured"][0]["id"]
    assert feature(staff, picked.id).status_code == 200  # idempotent: no second audit row

    off = feature(staff, picked.id, on=False)

    assert off.status_code == 200 and off.get_json() == {
        "id": picked.id,
        "featured": False,
        "featured_at": None,
    }
    assert first == picked.id
    assert thread(staff, article)["featured"] == []  # the cached page went with the change
    assert thread(staff, article, filter="uitgelicht")["comments"] == []
    assert actions(db, "comment", picked.id) == [
        ("feature", people["moderator"].id),
        ("unfeature", people["moderator"].id),
    ]


@pytest.mark.parametrize("state", [CommentState.HELD, CommentState.REJECTED, CommentState.DELETED])
def test_only_a_published_comment_is_featured(
    app: Flask, db: Session, people: dict[str, User], article: Article, state: CommentState
) -> None:
    comment = create_comment(db, article, people["fan"], state, actor=people["moderator"])

    answer = feature(client_for(app, people["moderator"]), comment.id)

    assert answer.status_code == 409
    assert error_code(answer) == "not_featurable"
    assert actions(db, "comment", comment.id) == []


def test_a_fan_and_a_visitor_cannot_feature(
    app: Flask, client: FlaskClient, db: Session, people: dict[str, User], article: Article
) -> None:
    comment = create_comment(db, article, people["fan"], CommentState.PUBLISHED)

    as_fan = feature(client_for(app, people["fan"]), comment.id)
    as_visitor = feature(client, comment.id)

    assert (as_fan.status_code, error_code(as_fan)) == (403, "forbidden")
    assert as_visitor.status_code == 401
    assert feature(client_for(app, people["moderator"]), 10**9).status_code == 404


def test_a_pick_that_is_removed_leaves_the_section(
    app: Flask, db: Session, people: dict[str, User], article: Article
) -> None:
    picked = create_comment(db, article, people["fan"], CommentState.PUBLISHED)
    staff = client_for(app, people["moderator"])
    assert feature(staff, picked.id).status_code == 200
    assert [c["id"] for c in thread(staff, article)["featured"]] == [picked.id]

    removed = staff.post(
        f"/moderatie/reacties/{picked.id}/verwijderen",
        data={"reason": "spam"},
        headers={"Accept": "application/json"},
    )

    assert removed.status_code == 200, removed.get_data(as_text=True)[:300]
    assert thread(staff, article)["featured"] == []
    assert thread(staff, article, filter="uitgelicht")["comments"] == []


def test_the_author_is_told_by_mail_through_the_outbox(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    people: dict[str, User],
    article: Article,
) -> None:
    picked = create_comment(
        db, article, people["fan"], CommentState.PUBLISHED, "Defour is de beste middenvelder."
    )

    assert feature(client_for(app, people["moderator"]), picked.id).status_code == 200
    run_worker(app.extensions["tribune.sessionmaker"], app.config, once=True)

    mails: list[EmailMessage] = [
        m for m in smtp_server.messages() if m["To"] == "jonas@example.test"
    ]
    [mail] = mails
    assert mail["Subject"] == 'Je reactie bij "Derby in Sclessin" is uitgelicht'
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None
    content = str(text.get_content())
    assert "Defour is de beste middenvelder." in content
    assert f"/artikels/derby#reactie-{picked.id}" in content
    assert mail["List-Unsubscribe"]  # the decision kind's one-click opt-out


def test_the_author_of_their_own_pick_and_a_repeat_get_no_mail(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    people: dict[str, User],
    article: Article,
) -> None:
    own = create_comment(db, article, people["editor"], CommentState.PUBLISHED)
    picked = create_comment(db, article, people["fan"], CommentState.PUBLISHED)
    editor = client_for(app, people["editor"])
    assert feature(editor, own.id).status_code == 200  # nobody is told of their own action
    assert feature(editor, picked.id).status_code == 200
    assert feature(editor, picked.id).status_code == 200  # featured already: no second mail
    run_worker(app.extensions["tribune.sessionmaker"], app.config, once=True)

    assert [m["To"] for m in smtp_server.messages()] == ["jonas@example.test"]


# ---------------------------------------------------------------- pins


def test_an_editor_pins_their_own_comment_and_another_replaces_it(
    app: Flask, db: Session, people: dict[str, User], article: Article
) -> None:
    first = create_comment(db, article, people["editor"], CommentState.PUBLISHED, "Eerste uitleg.")
    second = create_comment(db, article, people["editor"], CommentState.PUBLISHED, "Update!")
    editor = client_for(app, people["editor"])

    answer = pin(editor, article, first.id)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"article_id": "derby", "pinned_comment_id": first.id}
    assert thread(editor, article)["pinned"]["id"] == first.id

    assert pin(editor, article, second.id).get_json()["pinned_comment_id"] == second.id
    body = thread(editor, article)
    assert body["pinned"]["id"] == second.id
    assert body["pinned"]["author"] == "Redacteur"

    assert pin(editor, article, None).get_json()["pinned_comment_id"] is None
    assert thread(editor, article)["pinned"] is None
    assert actions(db, "article", "derby") == [
        ("pin", people["editor"].id),
        ("pin", people["editor"].id),
        ("unpin", people["editor"].id),
    ]
    fresh(db)
    replaced = db.scalar(
        select(ModerationAction.note).where(
            ModerationAction.action == "pin", ModerationAction.to_state == str(second.id)
        )
    )
    assert replaced == f"in plaats van reactie {first.id}"


def test_pin_refusals(
    app: Flask,
    db: Session,
    people: dict[str, User],
    article: Article,
    make_article: Callable[..., Article],
) -> None:
    fans = create_comment(db, article, people["fan"], CommentState.PUBLISHED)
    held = create_comment(db, article, people["editor"], CommentState.HELD)
    elsewhere = create_comment(db, make_article("ander"), people["editor"], CommentState.PUBLISHED)
    own = create_comment(db, article, people["editor"], CommentState.PUBLISHED)
    editor = client_for(app, people["editor"])

    cases = [
        (pin(editor, article, fans.id), 403, "not_own_comment"),
        (pin(editor, article, held.id), 409, "not_pinnable"),
        (pin(editor, article, elsewhere.id), 404, "comment_not_found"),
        (pin(client_for(app, people["moderator"]), article, own.id), 403, "forbidden"),
        (pin(client_for(app, people["fan"]), article, fans.id), 403, "forbidden"),
    ]

    assert [(r.status_code, error_code(r)) for r, _, _ in cases] == [
        (status, code) for _, status, code in cases
    ]
    bad = editor.put(f"/api/v1/articles/{article.cms_id}/pin", json={}, headers=ORIGIN)
    assert bad.status_code == 422
    # A number no row can have (beyond 64 bits: the driver would overflow) is a 422 too.
    huge = editor.put(
        f"/api/v1/articles/{article.cms_id}/pin", json={"comment_id": 2**70}, headers=ORIGIN
    )
    assert huge.status_code == 422, huge.get_data(as_text=True)
    assert thread(editor, article)["pinned"] is None
    assert actions(db, "article", "derby") == []


def test_a_pinned_comment_that_is_deleted_is_not_shown(
    app: Flask, db: Session, people: dict[str, User], article: Article
) -> None:
    own = create_comment(db, article, people["editor"], CommentState.PUBLISHED)
    editor = client_for(app, people["editor"])
    assert pin(editor, article, own.id).status_code == 200

    deleted = editor.delete(f"/api/v1/comments/{own.id}", headers=ORIGIN)

    assert deleted.status_code == 200
    assert thread(editor, article)["pinned"] is None


# ---------------------------------------------------------------- pages and the embed


def test_the_article_page_shows_pin_and_picks_and_staff_buttons(
    app: Flask, db: Session, people: dict[str, User], article: Article
) -> None:
    picked = create_comment(db, article, people["fan"], CommentState.PUBLISHED, "Wat een redding!")
    own = create_comment(
        db, article, people["editor"], CommentState.PUBLISHED, "Opstelling bekend."
    )
    editor = client_for(app, people["editor"])
    assert feature(editor, picked.id).status_code == 200
    assert pin(editor, article, own.id).status_code == 200

    page = editor.get("/artikels/derby").get_data(as_text=True)
    fan_page = client_for(app, people["fan"]).get("/artikels/derby").get_data(as_text=True)

    assert "Redactie: Redacteur" in page and "Opstelling bekend." in page
    assert 'id="uitgelicht-titel">Uitgelicht<' in page
    assert f'action="/reacties/{picked.id}/niet-uitlichten"' in page
    assert 'action="/artikels/derby/losmaken"' in page
    assert (
        "Redactie: Redacteur" in fan_page and '<span class="featured-label">Uitgelicht' in fan_page
    )
    assert "uitlichten" not in fan_page and "vastpinnen" not in fan_page  # no staff buttons
    only = editor.get("/artikels/derby?filter=uitgelicht").get_data(as_text=True)
    assert "Wat een redding!" in only and 'id="reactie-' + str(own.id) + '"' not in only


@pytest.fixture
def csrf_on(app_settings: dict[str, Any]) -> None:
    app_settings["WTF_CSRF_ENABLED"] = True


def csrf_token(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found, "no CSRF field on " + path
    return found.group(1)


def signed_in_with_csrf(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"login": user.username, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def test_the_no_js_buttons_feature_pin_and_unpin_with_csrf(
    csrf_on: None, app: Flask, db: Session, people: dict[str, User], article: Article
) -> None:
    picked = create_comment(db, article, people["fan"], CommentState.PUBLISHED)
    own = create_comment(db, article, people["editor"], CommentState.PUBLISHED)
    editor = signed_in_with_csrf(app, people["editor"])
    token = csrf_token(editor, "/artikels/derby")

    refused = editor.post(f"/reacties/{picked.id}/uitlichten", data={})
    featured = editor.post(f"/reacties/{picked.id}/uitlichten", data={"csrf_token": token})
    pinned = editor.post(f"/reacties/{own.id}/vastpinnen", data={"csrf_token": token})
    not_own = editor.post(
        f"/reacties/{picked.id}/vastpinnen", data={"csrf_token": token}, follow_redirects=True
    )

    assert refused.status_code == 400
    assert featured.status_code == 303
    assert featured.headers["Location"].endswith(f"/artikels/derby#reactie-{picked.id}")
    assert pinned.status_code == 303 and pinned.headers["Location"].endswith("#vastgepind")
    assert "Je kan enkel je eigen reactie vastpinnen." in not_own.get_data(as_text=True)
    fresh(db)
    assert db.get_one(Comment, picked.id).featured_at is not None
    assert db.get_one(Article, article.id).pinned_comment_id == own.id
    unpinned = editor.post("/artikels/derby/losmaken", data={"csrf_token": token})
    assert unpinned.status_code == 303
    fresh(db)
    assert db.get_one(Article, article.id).pinned_comment_id is None


def test_a_fan_cannot_use_the_staff_forms(
    app: Flask, db: Session, people: dict[str, User], article: Article
) -> None:
    comment = create_comment(db, article, people["fan"], CommentState.PUBLISHED)
    fan = client_for(app, people["fan"])

    assert fan.post(f"/reacties/{comment.id}/uitlichten").status_code == 403
    assert fan.post(f"/reacties/{comment.id}/vastpinnen").status_code == 403
    assert fan.post("/artikels/derby/losmaken").status_code == 403
    fresh(db)
    assert db.get_one(Comment, comment.id).featured_at is None


def test_the_embed_shows_the_section_and_filters(
    app: Flask, client: FlaskClient, db: Session, people: dict[str, User], article: Article
) -> None:
    picked = create_comment(db, article, people["fan"], CommentState.PUBLISHED, "Gepikt!")
    create_comment(db, article, people["fan"], CommentState.PUBLISHED, "Niet gepikt.")
    assert feature(client_for(app, people["moderator"]), picked.id).status_code == 200

    full = client.get("/embed/comments/derby").get_data(as_text=True)
    only = client.get("/embed/comments/derby?filter=uitgelicht").get_data(as_text=True)
    bad = client.get("/embed/comments/derby?filter=alles")

    assert "Uitgelicht" in full and "Niet gepikt." in full
    assert "Gepikt!" in only and "Niet gepikt." not in only
    assert bad.status_code == 422
    assert "uitlichten" not in client_for(app, people["moderator"]).get(
        "/embed/comments/derby"
    ).get_data(as_text=True)  # no staff forms in the embed


def test_the_thread_api_refuses_an_unknown_filter(client: FlaskClient, article: Article) -> None:
    answer = client.get("/api/v1/articles/derby/comments?filter=alles")

    assert (answer.status_code, error_code(answer)) == (422, "invalid_parameter")


# ---------------------------------------------------------------- schema


def test_the_migration_adds_the_references_with_on_delete_set_null(app: Flask) -> None:
    """migrations.UNCOMPARED_REFERENCES leaves them out of the schema comparison (SQLite's
    reflection cannot read an inline reference's name or ON DELETE): checked here instead."""
    engine = create_engine(app.config["DATABASE_URL"])
    try:
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                found = {
                    (table, row[3], row[2], row[6])
                    for table in ("comments", "articles")
                    for row in conn.exec_driver_sql(f"PRAGMA foreign_key_list({table})")
                }
            assert ("comments", "featured_by_id", "users", "SET NULL") in found
            assert ("articles", "pinned_comment_id", "comments", "SET NULL") in found
        else:
            found = {
                (table, fk["name"], fk["referred_table"], fk["options"].get("ondelete"))
                for table in ("comments", "articles")
                for fk in inspect(engine).get_foreign_keys(table)
            }
            assert ("comments", "fk_comments_featured_by_id_users", "users", "SET NULL") in found
            assert (
                "articles",
                "fk_articles_pinned_comment_id_comments",
                "comments",
                "SET NULL",
            ) in found
    finally:
        engine.dispose()


def test_the_moderation_queue_features_and_goes_back_to_the_queue(
    app: Flask, db: Session, people: dict[str, User], article: Article
) -> None:
    comment = create_comment(db, article, people["fan"], CommentState.PUBLISHED, "Recent!")
    moderator = client_for(app, people["moderator"])
    queue = moderator.get("/moderatie/?tab=recent").get_data(as_text=True)
    assert f'action="/reacties/{comment.id}/uitlichten"' in queue

    picked = moderator.post(
        f"/reacties/{comment.id}/uitlichten", data={"terug": "/moderatie/?tab=recent"}
    )
    elsewhere = moderator.post(
        f"/reacties/{comment.id}/niet-uitlichten", data={"terug": "https://elders.test/"}
    )

    assert picked.status_code == 303 and picked.headers["Location"] == "/moderatie/?tab=recent"
    assert elsewhere.headers["Location"] == "/"  # only a local path is followed
    assert actions(db, "comment", comment.id) == [
        ("feature", people["moderator"].id),
        ("unfeature", people["moderator"].id),
    ]
