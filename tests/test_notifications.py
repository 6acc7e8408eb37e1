"""Notifications to fans: the settings page, the unsubscribe links, and every kind of mail
through the outbox to a real SMTP server (aiosmtpd), with its opt-out and its link."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from uuid import uuid4

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.services import Registration, register_user
from app import create_app
from brussels import text_nl
from errors import Invalid
from models import (
    Appeal,
    Article,
    CommentState,
    Delivery,
    DigestItem,
    NotificationKind,
    NotificationSettings,
    Role,
    SsoIdentity,
    User,
    utcnow,
)
from notifications import preferences
from notifications.export import export_notification_data
from outbox import run_worker
from tests.conftest import CHEAP_HASH, TEST_PASSWORD, client_for
from tests.factories import HOLD_TEXT, ORIGIN, REJECT_TEXT, create_comment, fresh, post_comment
from tests.mail_server import SmtpSink

pytestmark = pytest.mark.usefixtures("own_redis_keys")


def verified(make_user: Callable[..., User], role: Role = Role.FAN, **fields: Any) -> User:
    """A user whose address is confirmed (account care's users.email_verified_at)."""
    return make_user(role, email_verified_at=utcnow(), **fields)


def sso_client(app: Flask, db: Session, user: User, email: str | None) -> FlaskClient:
    """A client signed in as an SSO account (its identity carrying `email`)."""
    user.password_login = False
    db.add(
        SsoIdentity(issuer="site", subject=f"s{user.id}", user_id=user.id, name="x", email=email)
    )
    db.commit()
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.get_id()
        cookie["_fresh"] = True
    return client


def choices(db: Session, user: User) -> dict[NotificationKind, Delivery]:
    fresh(db)
    return preferences.current_choices(db, db.get_one(User, user.id))


def checked(page: str, name: str) -> str:
    """The value of the checked radio button of one group."""
    found = re.findall(rf'<input checked id="{name}-\d+" name="{name}"[^>]* value="(\w+)"', page)
    assert len(found) == 1, f"{name}: {found}"
    return str(found[0])


# ---------------------------------------------------------------- the settings page


def test_settings_page_shows_the_defaults_and_staff_get_the_queue_alarm(
    app: Flask, make_user: Callable[..., User]
) -> None:
    fan_page = client_for(app, verified(make_user)).get("/profiel/meldingen")
    mod_page = client_for(app, verified(make_user, Role.MODERATOR)).get("/profiel/meldingen")
    editor_page = client_for(app, verified(make_user, Role.EDITOR)).get("/profiel/meldingen")

    assert fan_page.status_code == 200
    page = fan_page.get_data(as_text=True)
    assert "<legend>Een antwoord op mijn reactie</legend>" in page
    assert {kind: checked(page, kind) for kind in ("reply", "decision", "report")} == {
        "reply": "immediate",
        "decision": "immediate",
        "report": "daily",
    }
    assert "Wachtrij-alarm" not in page
    assert "Wachtrij-alarm" in mod_page.get_data(as_text=True)
    assert checked(mod_page.get_data(as_text=True), "queue_alert") == "never"
    assert "Wachtrij-alarm" not in editor_page.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/profiel/meldingen")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_choices_are_saved_and_shown_again(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    fan = verified(make_user)
    client = client_for(app, fan)
    form = {
        "reply": "daily",
        "decision": "never",
        "report": "immediate",
        "appeal": "immediate",
        "suspension": "daily",
    }

    response = client.post("/profiel/meldingen", data=form)

    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Je keuzes voor meldingen zijn bewaard." in page
    assert checked(page, "reply") == "daily" and checked(page, "decision") == "never"
    assert choices(db, fan)[NotificationKind.SUSPENSION] is Delivery.DAILY


def test_a_bad_choice_is_refused_beside_its_field_and_the_others_kept(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    fan = verified(make_user)
    form = {
        "reply": "sometimes",
        "decision": "never",
        "report": "immediate",
        "appeal": "immediate",
        "suspension": "daily",
    }

    response = client_for(app, fan).post("/profiel/meldingen", data=form)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<p class="form-error" id="reply-error">' in page
    assert checked(page, "decision") == "never"
    assert db.scalar(select(func.count()).select_from(NotificationSettings)) == 0


def test_the_service_refuses_a_kind_or_choice_the_account_cannot_have(
    db: Session, make_user: Callable[..., User]
) -> None:
    fan, moderator = make_user(), make_user(Role.MODERATOR)

    with pytest.raises(Invalid) as not_staff:
        preferences.save_choices(db, fan, {NotificationKind.QUEUE_ALERT: Delivery.IMMEDIATE})
    with pytest.raises(Invalid) as no_digest:
        preferences.save_choices(db, moderator, {NotificationKind.QUEUE_ALERT: Delivery.DAILY})

    assert not_staff.value.code == no_digest.value.code == "invalid_notification_choice"


def test_an_sso_account_without_an_address_is_told_so(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    without = sso_client(app, db, make_user(), None).get("/profiel/meldingen")
    with_address = sso_client(app, db, make_user(), "lezer@krant.test").get("/profiel/meldingen")

    assert "gaf ons geen e-mailadres door" in without.get_data(as_text=True)
    assert "We sturen meldingen naar <strong>lezer@krant.test</strong>" in (
        with_address.get_data(as_text=True)
    )


def test_an_unconfirmed_address_gets_nothing_and_the_page_says_so(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    fan = make_user(email_verified_at=None)

    page = client_for(app, fan).get("/profiel/meldingen").get_data(as_text=True)

    assert "Je e-mailadres is nog niet bevestigd" in page
    assert preferences.notification_address(db, fan) is None
    assert preferences.notification_address(db, verified(make_user)) is not None


# ---------------------------------------------------------------- unsubscribe links


@pytest.fixture
def csrf_on(app_settings: dict[str, Any]) -> None:
    """The real CSRF check (the one-click POST must pass without a token)."""
    app_settings["WTF_CSRF_ENABLED"] = True


@pytest.mark.usefixtures("csrf_on")
def test_unsubscribe_get_confirms_and_post_is_one_click_without_login_or_csrf(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    fan = verified(make_user)
    path = preferences.unsubscribe_path(db, fan.id, NotificationKind.REPLY)
    db.commit()
    client = app.test_client()

    confirm = client.get(path)

    assert confirm.status_code == 200
    assert "Een antwoord op mijn reactie" in confirm.get_data(as_text=True)
    assert choices(db, fan)[NotificationKind.REPLY] is Delivery.IMMEDIATE  # GET changes nothing

    done = client.post(path, data={"List-Unsubscribe": "One-Click"})

    assert done.status_code == 200
    assert "Je krijgt geen mail meer over" in done.get_data(as_text=True)
    after = choices(db, fan)
    assert after[NotificationKind.REPLY] is Delivery.NEVER
    assert after[NotificationKind.DECISION] is Delivery.IMMEDIATE  # only the link's kind


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_or_foreign_token_is_404(
    app: Flask, db: Session, make_user: Callable[..., User], method: str
) -> None:
    fan, other = verified(make_user), verified(make_user)
    token = preferences.unsubscribe_token(db, fan.id, NotificationKind.REPLY)
    preferences.unsubscribe_token(db, other.id, NotificationKind.REPLY)
    db.commit()
    user_id, kind, signature = token.split(".")
    forged = [
        f"{user_id}.{kind}.{'0' * len(signature)}",
        f"{other.id}.{kind}.{signature}",  # another account's id with this one's signature
        f"{user_id}.decision.{signature}",  # another kind
        f"{user_id}.nonsense.{signature}",
        "zomaar",
    ]
    client = app.test_client()

    for bad in forged:
        response = getattr(client, method)(
            f"/meldingen/afmelden/{bad}", headers={"Accept": "application/json"}
        )
        assert response.status_code == 404, bad
        assert response.get_json()["error"]["code"] == "unsubscribe_link_invalid"
    assert choices(db, fan)[NotificationKind.REPLY] is Delivery.IMMEDIATE


def test_the_digest_link_turns_off_every_kind_in_the_digest(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    fan = verified(make_user)
    preferences.save_choices(db, fan, {NotificationKind.REPLY: Delivery.DAILY})
    path = preferences.unsubscribe_path(db, fan.id, preferences.DIGEST)
    db.commit()

    response = app.test_client().post(path)

    assert response.status_code == 200
    after = choices(db, fan)
    assert after[NotificationKind.REPLY] is after[NotificationKind.REPORT] is Delivery.NEVER
    assert after[NotificationKind.DECISION] is Delivery.IMMEDIATE


# ---------------------------------------------------------------- mails through a real SMTP server

JSON = {"Accept": "application/json"}
PUBLIC = "http://127.0.0.1:5000"


def work(app: Flask) -> None:
    """Run one worker until nothing is due: it delivers to the test's SMTP server."""
    run_worker(app.extensions["tribune.sessionmaker"], app.config, once=True)


def mails_to(smtp: SmtpSink, address: str) -> list[EmailMessage]:
    return [mail for mail in smtp.messages() if mail["To"] == address]


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def unsubscribe_link(mail: EmailMessage) -> str:
    """The path of the mail's List-Unsubscribe header (RFC 8058 one-click)."""
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = str(mail["List-Unsubscribe"])
    assert header.startswith(f"<{PUBLIC}/meldingen/afmelden/") and header.endswith(">")
    return header[1 + len(PUBLIC) : -1]


@dataclass
class Scene:
    """A fan, a second fan, a moderator (logged in) and an article, on an app that mails."""

    app: Flask
    db: Session
    smtp: SmtpSink
    fan: User
    other: User
    moderator: User
    article: Article
    fan_client: FlaskClient
    other_client: FlaskClient
    mod_client: FlaskClient

    def moderate(self, path: str, **form: str) -> None:
        response = self.mod_client.post(f"/moderatie/{path}", data=form, headers=JSON)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    def post(self, client: FlaskClient, body: str, parent_id: int | None = None) -> Any:
        return post_comment(client, self.article.cms_id, body, parent_id)

    def mails(self, user: User) -> list[EmailMessage]:
        work(self.app)
        return mails_to(self.smtp, user.email)


@pytest.fixture
def scene(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> Scene:
    fan, other = verified(make_user, username="Jonas"), verified(make_user, username="Lotte")
    moderator = verified(make_user, Role.MODERATOR, username="Mod")
    article = make_article("derby")
    article.title = "Derby in Sclessin"
    db.commit()
    return Scene(
        app, db, smtp_server, fan, other, moderator, article,
        client_for(app, fan), client_for(app, other), client_for(app, moderator),
    )  # fmt: skip


def test_a_reply_mails_the_parent_author_with_who_what_and_where(scene: Scene) -> None:
    parent = create_comment(scene.db, scene.article, scene.fan, CommentState.PUBLISHED)
    reply = scene.post(scene.other_client, "Helemaal mee eens, wat een match!", parent.id)
    assert reply.status_code == 201
    reply_id = reply.get_json()["id"]

    [mail] = scene.mails(scene.fan)

    assert mail["Subject"] == 'Lotte antwoordde op je reactie bij "Derby in Sclessin"'
    text = text_of(mail)
    assert "Helemaal mee eens, wat een match!" in text
    assert f"{PUBLIC}/artikels/derby#reactie-{reply_id}" in text
    assert f'href="{PUBLIC}/artikels/derby#reactie-{reply_id}"' in html_of(mail)
    assert mails_to(scene.smtp, scene.other.email) == []  # the replier hears nothing


def test_the_reply_anchor_is_the_one_the_article_page_renders(scene: Scene) -> None:
    parent = create_comment(scene.db, scene.article, scene.fan, CommentState.PUBLISHED)
    reply_id = scene.post(scene.other_client, "Een antwoord met een anker.", parent.id).get_json()[
        "id"
    ]

    page = scene.fan_client.get("/artikels/derby").get_data(as_text=True)

    assert f'id="reactie-{reply_id}"' in page


def test_a_held_reply_reaches_the_parent_author_when_approved(scene: Scene) -> None:
    parent = create_comment(scene.db, scene.article, scene.fan, CommentState.PUBLISHED)
    held = scene.post(scene.other_client, HOLD_TEXT, parent.id)
    assert held.status_code == 202
    assert scene.mails(scene.fan) == []  # not while it waits

    scene.moderate(f"reacties/{held.get_json()['id']}/goedkeuren")

    [reply] = scene.mails(scene.fan)
    assert reply["Subject"] == 'Lotte antwoordde op je reactie bij "Derby in Sclessin"'
    [approved] = mails_to(scene.smtp, scene.other.email)
    assert approved["Subject"] == 'Je reactie bij "Derby in Sclessin" staat online'


def test_no_mail_for_a_reply_to_ones_own_comment_or_under_a_deleted_one(scene: Scene) -> None:
    own = create_comment(scene.db, scene.article, scene.fan, CommentState.PUBLISHED)
    parent = create_comment(scene.db, scene.article, scene.other, CommentState.PUBLISHED)
    assert scene.post(scene.fan_client, "Ik vul mezelf nog even aan.", own.id).status_code == 201
    held = scene.post(scene.fan_client, HOLD_TEXT, parent.id).get_json()["id"]
    deleted = scene.other_client.post(
        f"/reacties/{parent.id}/verwijderen", data={"bevestigd": "ja"}
    )
    assert deleted.status_code in (302, 303)

    scene.moderate(f"reacties/{held}/goedkeuren")  # published under a deleted comment

    assert [mail["Subject"] for mail in scene.mails(scene.fan)] == [
        'Je reactie bij "Derby in Sclessin" staat online'
    ]
    assert mails_to(scene.smtp, scene.other.email) == []


def test_an_approved_held_comment_mails_its_author(scene: Scene) -> None:
    held = scene.post(scene.fan_client, HOLD_TEXT)
    assert held.status_code == 202

    scene.moderate(f"reacties/{held.get_json()['id']}/goedkeuren")

    [mail] = scene.mails(scene.fan)
    assert mail["Subject"] == 'Je reactie bij "Derby in Sclessin" staat online'
    assert "nagekeken en goedgekeurd" in text_of(mail)


def test_a_rejection_mail_is_a_statement_of_reasons(scene: Scene) -> None:
    held = scene.post(scene.fan_client, HOLD_TEXT)
    comment_id = held.get_json()["id"]

    scene.moderate(f"reacties/{comment_id}/afwijzen", reason="beledigend", note="Hou het sportief.")

    [mail] = scene.mails(scene.fan)
    assert mail["Subject"] == 'Je reactie bij "Derby in Sclessin" werd niet geplaatst'
    text = text_of(mail)
    assert "Reden: Beledigend" in text
    assert "Toelichting van de moderator: Hou het sportief." in text
    assert '* Samenstelling met een vloek ("kanker-")' in text  # the rule and word that fired
    assert "Een moderator nam deze beslissing, nadat onze automatische controle" in text
    assert "(Belgische tijd)" in text
    assert "Er geldt geen termijn" in text
    assert f"Bezwaar maken: {PUBLIC}/artikels/derby#reactie-{comment_id}" in text
    assert "<strong>Beledigend</strong>" in html_of(mail)


def test_a_removal_after_reports_says_so(scene: Scene) -> None:
    comment = create_comment(scene.db, scene.article, scene.fan, CommentState.PUBLISHED)
    reported = scene.other_client.post(
        f"/api/v1/comments/{comment.id}/reports", json={"reason": "spam"}, headers=ORIGIN
    )
    assert reported.status_code == 201

    scene.moderate(f"reacties/{comment.id}/verwijderen", reason="spam")

    [mail] = scene.mails(scene.fan)
    assert mail["Subject"] == 'Je reactie bij "Derby in Sclessin" werd verwijderd'
    text = text_of(mail)
    assert "Reden: Spam of reclame" in text
    assert "Andere lezers meldden je reactie." in text
    assert "Een moderator nam deze beslissing, na meldingen van lezers." in text


def test_a_rejection_at_posting_is_answered_on_the_spot_not_by_mail(scene: Scene) -> None:
    assert scene.post(scene.fan_client, REJECT_TEXT).status_code == 422

    assert scene.mails(scene.fan) == []


def test_a_decided_report_mails_the_reporter_by_their_choice(scene: Scene) -> None:
    preferences.save_choices(scene.db, scene.other, {NotificationKind.REPORT: Delivery.IMMEDIATE})
    scene.db.commit()
    kept = create_comment(scene.db, scene.article, scene.fan, CommentState.PUBLISHED)
    removed = create_comment(scene.db, scene.article, scene.fan, CommentState.PUBLISHED)
    for comment in (kept, removed):
        scene.other_client.post(
            f"/api/v1/comments/{comment.id}/reports", json={"reason": "spam"}, headers=ORIGIN
        )

    scene.moderate(f"reacties/{kept.id}/meldingen-afwijzen")
    scene.moderate(f"reacties/{removed.id}/verwijderen", reason="spam")

    mails = scene.mails(scene.other)
    assert [mail["Subject"] for mail in mails] == [
        'Je melding bij "Derby in Sclessin": niet weerhouden',
        'Je melding bij "Derby in Sclessin": terecht',
    ]
    assert "Niet weerhouden: de reactie blijft staan." in text_of(mails[0])
    assert "Terecht: de reactie werd weggehaald." in text_of(mails[1])
    assert f"{PUBLIC}/profiel/gemeld" in text_of(mails[1])


def test_an_appeal_decision_mails_its_author(scene: Scene) -> None:
    rejected = scene.post(scene.fan_client, REJECT_TEXT)
    comment_id = rejected.get_json()["error"]["details"]["comment_id"]
    appealed = scene.fan_client.post(
        f"/api/v1/comments/{comment_id}/appeal",
        json={"body": "Ik citeerde alleen de tribune."},
        headers=ORIGIN,
    )
    appeal_id = appealed.get_json()["id"]

    scene.moderate(f"bezwaren/{appeal_id}", decision="deny", note="Ook citeren mag niet.")

    [mail] = scene.mails(scene.fan)
    assert mail["Subject"] == 'Je bezwaar bij "Derby in Sclessin" werd afgewezen'
    text = text_of(mail)
    assert "de beslissing blijft staan" in text
    assert "Toelichting van de moderator: Ook citeren mag niet." in text


def test_an_upheld_appeal_is_one_mail_not_two(scene: Scene) -> None:
    held = scene.post(scene.fan_client, HOLD_TEXT).get_json()["id"]
    scene.moderate(f"reacties/{held}/afwijzen", reason="beledigend")
    appeal_id = scene.fan_client.post(
        f"/api/v1/comments/{held}/appeal", json={"body": "Dat was een grap."}, headers=ORIGIN
    ).get_json()["id"]
    work(scene.app)
    before = len(mails_to(scene.smtp, scene.fan.email))

    scene.moderate(f"reacties/{held}/herstellen")  # a restore settles the pending appeal

    mails = scene.mails(scene.fan)[before:]
    assert [mail["Subject"] for mail in mails] == [
        'Je bezwaar bij "Derby in Sclessin" werd toegekend'
    ]
    assert scene.db.get_one(Appeal, appeal_id) is not None


def test_a_suspension_mail_gives_the_end_in_brussels_time_and_the_route(
    scene: Scene, app_settings: dict[str, Any]
) -> None:
    scene.moderate(f"gebruikers/{scene.fan.id}/schorsen", duration="7d", reason="beledigend")
    fresh(scene.db)
    until = scene.db.get_one(User, scene.fan.id).banned_until
    assert until is not None

    [mail] = scene.mails(scene.fan)

    assert mail["Subject"] == "Je account bij Tribune is geschorst"
    text = text_of(mail)
    assert f"geschorst tot {text_nl(until)} (Belgische tijd)" in text
    assert "Reden: Beledigend" in text
    assert "Niet akkoord?" in text and "redactie van Tribune" in text


def test_a_ban_is_permanent_and_names_the_contact(
    mail_settings: dict[str, Any],
    app_settings: dict[str, Any],
    smtp_server: SmtpSink,
    make_user: Callable[..., User],
) -> None:
    app_settings["TRIBUNE_SUSPENSION_CONTACT"] = "moderatie@tribune.test"
    app = create_app(app_settings)
    try:
        fan = verified(_maker(app), username="Banned")
        moderator = verified(_maker(app), Role.MODERATOR, username="Mod2")
        mod_client = client_for(app, moderator)
        mod_client.post(
            f"/moderatie/gebruikers/{fan.id}/schorsen",
            data={"duration": "permanent", "reason": "bedreiging"},
            headers=JSON,
        )
        mod_client.post(f"/moderatie/gebruikers/{fan.id}/opheffen", headers=JSON)
        work(app)
    finally:
        app.extensions["tribune.engine"].dispose()

    banned, lifted = mails_to(smtp_server, fan.email)
    assert banned["Subject"] == "Je account bij Tribune is permanent verbannen"
    assert "geen einddatum" in text_of(banned)
    assert "mail naar moderatie@tribune.test" in text_of(banned)
    assert lifted["Subject"] == "Je schorsing bij Tribune is opgeheven"


def _maker(app: Flask) -> Callable[..., User]:
    """make_user for a second app of the test (its own session)."""
    session = app.extensions["tribune.sessionmaker"]()

    def make(role: Role = Role.FAN, username: str = "x", **fields: Any) -> User:
        user = register_user(
            session,
            Registration(username, f"{username.lower()}@example.test", TEST_PASSWORD),
            CHEAP_HASH,
            role,
        )
        for key, value in fields.items():
            setattr(user, key, value)
        session.commit()
        return user

    return make


def test_a_permanently_banned_author_gets_no_reply_mail(scene: Scene) -> None:
    parent = create_comment(scene.db, scene.article, scene.fan, CommentState.PUBLISHED)
    scene.moderate(f"gebruikers/{scene.fan.id}/schorsen", duration="permanent", reason="spam")
    work(scene.app)
    before = len(mails_to(scene.smtp, scene.fan.email))  # the ban itself

    scene.post(scene.other_client, "Antwoord aan iemand die weg is.", parent.id)

    assert len(scene.mails(scene.fan)) == before == 1


# Each kind: something that sends it once more, to the recipient it returns.
def _reply(scene: Scene) -> User:
    parent = create_comment(scene.db, scene.article, scene.fan, CommentState.PUBLISHED)
    scene.post(scene.other_client, "Nog een antwoord op jou.", parent.id)
    return scene.fan


def _decision(scene: Scene) -> User:
    held = scene.post(scene.fan_client, HOLD_TEXT + f" {uuid4().hex[:6]}").get_json()["id"]
    scene.moderate(f"reacties/{held}/goedkeuren")
    return scene.fan


def _report(scene: Scene) -> User:
    comment = create_comment(scene.db, scene.article, scene.fan, CommentState.PUBLISHED)
    scene.other_client.post(
        f"/api/v1/comments/{comment.id}/reports", json={"reason": "spam"}, headers=ORIGIN
    )
    scene.moderate(f"reacties/{comment.id}/verwijderen", reason="spam")
    return scene.other


def _appeal(scene: Scene) -> User:
    comment = create_comment(scene.db, scene.article, scene.fan, CommentState.REJECTED)
    appeal = scene.fan_client.post(
        f"/api/v1/comments/{comment.id}/appeal", json={"body": "Niet terecht."}, headers=ORIGIN
    )
    scene.moderate(f"bezwaren/{appeal.get_json()['id']}", decision="deny")
    return scene.fan


def _suspension(scene: Scene) -> User:
    scene.moderate(f"gebruikers/{scene.fan.id}/schorsen", duration="24h", reason="spam")
    return scene.fan


TRIGGERS = {
    NotificationKind.REPLY: _reply,
    NotificationKind.DECISION: _decision,
    NotificationKind.REPORT: _report,
    NotificationKind.APPEAL: _appeal,
    NotificationKind.SUSPENSION: _suspension,
}


@pytest.mark.parametrize("kind", list(TRIGGERS), ids=lambda kind: kind.value)
def test_every_kind_has_its_own_one_click_unsubscribe(scene: Scene, kind: NotificationKind) -> None:
    preferences.save_choices(scene.db, scene.other, {NotificationKind.REPORT: Delivery.IMMEDIATE})
    scene.db.commit()
    recipient = TRIGGERS[kind](scene)
    [mail] = scene.mails(recipient)
    link = unsubscribe_link(mail)
    assert link.split("/")[-1].split(".")[1] == kind.value

    response = scene.app.test_client().post(link, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert choices(scene.db, recipient)[kind] is Delivery.NEVER
    TRIGGERS[kind](scene)
    assert len(scene.mails(recipient)) == 1  # nothing more of this kind


@pytest.mark.parametrize("kind", list(TRIGGERS), ids=lambda kind: kind.value)
def test_every_kind_can_be_turned_off_on_the_settings_page(
    scene: Scene, kind: NotificationKind
) -> None:
    recipient = scene.fan if kind is not NotificationKind.REPORT else scene.other
    client = scene.fan_client if recipient is scene.fan else scene.other_client
    form = {other.value: "immediate" for other in TRIGGERS}
    form[kind.value] = "never"
    assert client.post("/profiel/meldingen", data=form).status_code == 303

    TRIGGERS[kind](scene)

    assert scene.mails(recipient) == []


def test_nothing_goes_to_an_unconfirmed_address(scene: Scene) -> None:
    scene.fan.email_verified_at = None
    preferences.save_choices(scene.db, scene.other, {NotificationKind.REPORT: Delivery.IMMEDIATE})
    scene.db.commit()

    for trigger in TRIGGERS.values():
        trigger(scene)

    assert scene.mails(scene.fan) == []
    assert len(scene.mails(scene.other)) == 1  # the report's, to a confirmed address


def test_an_sso_account_is_mailed_at_the_address_its_site_sent(scene: Scene) -> None:
    scene.fan.password_login = False
    scene.db.add(
        SsoIdentity(
            issuer="krant", subject="42", user_id=scene.fan.id, name="J", email="j@krant.test"
        )
    )
    scene.db.commit()

    _reply(scene)

    work(scene.app)
    assert mails_to(scene.smtp, scene.fan.email) == []
    [mail] = mails_to(scene.smtp, "j@krant.test")
    assert "antwoordde op je reactie" in mail["Subject"]


def test_the_export_lists_the_choices_and_waiting_digest_items(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    fan, untouched = verified(make_user), verified(make_user)
    preferences.save_choices(db, fan, {NotificationKind.REPLY: Delivery.DAILY})
    db.add(
        DigestItem(
            user_id=fan.id,
            kind=NotificationKind.REPLY,
            article_title="Titel",
            data={"summary": "Iemand antwoordde", "path": "/artikels/x"},
        )
    )
    db.commit()

    document = export_notification_data(db, fan)

    assert document["settings"] == [{"id": fan.id, **document["choices"]}]
    assert document["choices"]["reply"] == "daily" and document["choices"]["report"] == "daily"
    assert [item["summary"] for item in document["digest_items"]] == ["Iemand antwoordde"]
    key = db.get_one(NotificationSettings, fan.id).unsubscribe_key
    assert key not in str(document)  # the links' secret stays with Tribune
    empty = export_notification_data(db, untouched)
    assert empty["settings"] == [] and empty["defaults_apply"] is True
