"""DSA notice-and-action: the notice form anyone can use (CSRF, rate limit, validation in Dutch
beside each field, typed input kept), the moderators' decisions, the statement of reasons to the
author and the outcome to the notifier (mail through the outbox to a real SMTP server), and the
transparency export's figures against the rows."""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

import brussels
from models import (
    Appeal,
    AppealState,
    Article,
    Comment,
    CommentState,
    ModerationAction,
    Notice,
    NoticeDecision,
    NoticeGround,
    NoticeState,
    ReasonCode,
    Role,
    User,
    utcnow,
)
from moderation.actions import decide_appeal, file_appeal
from tests.conftest import client_for
from tests.factories import HOLD_TEXT, REJECT_TEXT, create_comment, fresh, post_comment
from tests.mail_server import SmtpSink
from tests.test_notifications import PUBLIC, html_of, mails_to, text_of, verified, work

pytestmark = pytest.mark.usefixtures("own_redis_keys")

JSON = {"Accept": "application/json"}
EXPLANATION = "Deze reactie bedreigt de scheidsrechter met geweld na de match."
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DISPUTE_BODY = "Je kan naar het Geschillenorgaan Digitale Diensten, Brussel."


def valid_form(**changes: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "ground": "bedreiging",
        "explanation": EXPLANATION,
        "name": "Els Peeters",
        "email": "els@example.test",
        "good_faith": "y",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def new_ip() -> dict[str, str]:
    """A client address of its own (the limiter keeps its counters between tests)."""
    return {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"}


def anonymous(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update(new_ip())
    return client


@dataclass
class Scene:
    """An author's published comment on an article, a moderator, on an app that mails."""

    app: Flask
    db: Session
    smtp: SmtpSink
    author: User
    moderator: User
    article: Article
    comment: Comment
    mod_client: FlaskClient

    def file(
        self,
        client: FlaskClient | None = None,
        comment_id: int | None = None,
        **form: str | None,
    ) -> TestResponse:
        return (client or anonymous(self.app)).post(
            f"/melden/{comment_id or self.comment.id}", data=valid_form(**form)
        )

    def decide(self, notice_id: int, decision: str, note: str = "", **headers: str) -> TestResponse:
        return self.mod_client.post(
            f"/moderatie/meldingen-dsa/{notice_id}",
            data={"decision": decision, "note": note},
            headers=headers,
        )

    def notices(self) -> list[Notice]:
        fresh(self.db)
        return list(self.db.scalars(select(Notice).order_by(Notice.id)))


@pytest.fixture
def scene(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> Scene:
    author = verified(make_user, username="Jonas")
    moderator = verified(make_user, Role.MODERATOR, username="Mod")
    article = make_article("derby")
    article.title = "Derby in Sclessin"
    db.commit()
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    return Scene(
        app, db, smtp_server, author, moderator, article, comment, client_for(app, moderator)
    )


# ---------------------------------------------------------------- the form, logged out


def test_the_thread_links_every_comment_to_the_notice_form_also_logged_out(scene: Scene) -> None:
    page = anonymous(scene.app).get("/artikels/derby").get_data(as_text=True)

    assert f'href="/melden/{scene.comment.id}"' in page
    assert "Illegale inhoud melden" in page


def test_the_embed_opens_the_form_first_party_in_a_new_window(scene: Scene) -> None:
    page = anonymous(scene.app).get("/embed/comments/derby?fragment=1").get_data(as_text=True)

    link = re.search(r'<a class="notice-link" href="([^"]+)"([^>]*)>', page)
    assert link is not None, page[:500]
    assert link.group(1) == f"/melden/{scene.comment.id}"  # made absolute by comments.js
    assert 'target="_blank"' in link.group(2) and 'rel="noopener"' in link.group(2)


def test_the_form_shows_the_comment_and_every_ground_to_anyone(scene: Scene) -> None:
    response = anonymous(scene.app).get(f"/melden/{scene.comment.id}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert scene.comment.body in page and "Jonas" in page
    for ground in NoticeGround:
        assert f'value="{ground.value}"' in page and ground.label_nl in page
    assert "Seksueel misbruik van kinderen" in page
    assert 'name="good_faith"' in page and 'type="checkbox"' in page


def test_a_held_comment_can_be_noticed_without_its_text_being_shown(scene: Scene) -> None:
    held = create_comment(scene.db, scene.article, scene.author, CommentState.HELD, HOLD_TEXT)

    response = anonymous(scene.app).get(f"/melden/{held.id}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert HOLD_TEXT not in page and "wacht op nakijken" in page
    assert scene.file(comment_id=held.id).status_code == 303


@pytest.mark.parametrize("state", [CommentState.REMOVED, CommentState.DELETED, None])
def test_a_comment_off_the_site_or_unknown_is_a_404_page(
    scene: Scene, state: CommentState | None
) -> None:
    target = create_comment(scene.db, scene.article, scene.author, state).id if state else 987654

    shown = anonymous(scene.app).get(f"/melden/{target}")
    filed = scene.file(comment_id=target)

    assert shown.status_code == filed.status_code == 404
    assert "niet meer op de site" in shown.get_data(as_text=True)
    assert scene.notices() == []


def test_a_valid_notice_logged_out_is_stored_and_acknowledged(scene: Scene) -> None:
    client = anonymous(scene.app)

    response = scene.file(client)

    assert response.status_code == 303
    assert response.headers["Location"] == "/melden/ontvangen"
    [notice] = scene.notices()
    assert (notice.comment_id, notice.ground, notice.state) == (
        scene.comment.id,
        NoticeGround.BEDREIGING,
        NoticeState.OPEN,
    )
    assert (notice.notifier_name, notice.notifier_email) == ("Els Peeters", "els@example.test")
    assert notice.notifier_user_id is None and notice.good_faith
    receipt = client.get("/melden/ontvangen").get_data(as_text=True)
    assert "Melding ontvangen" in receipt and f"<dd>{notice.id}</dd>" in receipt
    assert "els@example.test" in receipt
    # The receipt (art. 16(4)) is mailed too.
    work(scene.app)
    [mail] = mails_to(scene.smtp, "els@example.test")
    assert mail["Subject"] == f"Je melding van illegale inhoud is ontvangen (nr. {notice.id})"
    assert "Bedreiging of aanzetten tot geweld" in text_of(mail)
    assert "Derby in Sclessin" in html_of(mail)
    audit = scene.db.scalars(
        select(ModerationAction.action).where(ModerationAction.target_type == "notice")
    ).all()
    assert audit == ["notice_filed"]


def test_another_browser_sees_no_receipt(scene: Scene) -> None:
    assert scene.file().status_code == 303

    response = anonymous(scene.app).get("/melden/ontvangen")

    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_every_problem_is_shown_in_dutch_beside_its_field_and_the_input_kept(
    scene: Scene,
) -> None:
    response = scene.file(
        ground="", explanation="te kort", name="", email="els@@voorbeeld", good_faith=None
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = dict(re.findall(r'<p class="form-error" id="([a-z_]+)-error">([^<]+)</p>', page))
    assert errors == {
        "ground": "Kies een wettelijke grond.",
        "explanation": "Leg in 10 tot 4000 tekens uit waarom deze reactie illegaal is.",
        "name": "Vul je naam in (niet nodig bij seksueel misbruik van kinderen).",
        "email": "Vul een geldig e-mailadres in.",
        "good_faith": "Bevestig dat je deze melding te goeder trouw doet.",
    }
    assert re.search(r">\s*te kort</textarea>", page)
    assert 'value="els@@voorbeeld"' in page
    assert 'aria-invalid="true"' in page
    assert scene.notices() == []


def test_a_bad_ground_is_refused_beside_the_field_and_the_rest_kept(scene: Scene) -> None:
    response = scene.file(ground="laster", name="Els Peeters")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<p class="form-error" id="ground-error">Kies een wettelijke grond.</p>' in page
    assert 'value="Els Peeters"' in page and EXPLANATION in page
    assert scene.notices() == []


def test_name_and_address_are_required_except_for_child_sexual_abuse(scene: Scene) -> None:
    refused = scene.file(ground="racisme", name="", email="")
    allowed = scene.file(ground="kindermisbruik", name="", email="")
    bad_address = scene.file(ground="kindermisbruik", name="", email="geen-adres")

    assert refused.status_code == 422
    refused_page = refused.get_data(as_text=True)
    assert 'id="name-error"' in refused_page and 'id="email-error"' in refused_page
    assert allowed.status_code == 303
    assert bad_address.status_code == 422
    assert "Vul een geldig e-mailadres in." in bad_address.get_data(as_text=True)
    [notice] = scene.notices()
    assert notice.ground is NoticeGround.KINDERMISBRUIK
    assert notice.notifier_name is None and notice.notifier_email is None
    work(scene.app)
    assert scene.smtp.messages() == []  # no address, no receipt


def test_a_too_long_explanation_is_refused(scene: Scene) -> None:
    response = scene.file(explanation="x" * 4001)

    assert response.status_code == 422
    assert 'id="explanation-error"' in response.get_data(as_text=True)


@pytest.fixture
def csrf_on(app_settings: dict[str, Any]) -> None:
    app_settings["WTF_CSRF_ENABLED"] = True


@pytest.mark.usefixtures("csrf_on")
def test_without_the_csrf_token_a_logged_out_notice_is_refused(
    app: Flask, db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    comment = create_comment(db, make_article("derby"), make_user(), CommentState.PUBLISHED)
    client = anonymous(app)

    refused = client.post(f"/melden/{comment.id}", data=valid_form())
    page = client.get(f"/melden/{comment.id}").get_data(as_text=True)
    token = CSRF_FIELD.search(page)
    assert token is not None
    accepted = client.post(
        f"/melden/{comment.id}", data={**valid_form(), "csrf_token": token.group(1)}
    )

    assert refused.status_code == 400
    assert "Je formulier is verlopen of ongeldig" in refused.get_data(as_text=True)
    assert accepted.status_code == 303
    fresh(db)
    assert len(db.scalars(select(Notice)).all()) == 1


@pytest.fixture
def limited(app_settings: dict[str, Any]) -> None:
    app_settings["TRIBUNE_RATELIMIT_ENABLED"] = True
    app_settings["TRIBUNE_NOTICE_LIMIT_IP"] = "2 per minute"
    app_settings["RATELIMIT_STORAGE_URI"] = "memory://"


@pytest.mark.usefixtures("limited")
def test_notices_from_one_address_are_rate_limited_with_a_dutch_page(scene: Scene) -> None:
    client = anonymous(scene.app)

    first = scene.file(client)
    second = scene.file(client, explanation="kort")  # a refused one counts as well
    third = scene.file(client)
    elsewhere = scene.file(anonymous(scene.app))

    assert (first.status_code, second.status_code, third.status_code) == (303, 422, 429)
    page = third.get_data(as_text=True)
    assert "Even geduld" in page and "te veel verzoeken" in page
    assert client.get(f"/melden/{scene.comment.id}").status_code == 200  # reading is free
    assert elsewhere.status_code == 303
    assert len(scene.notices()) == 2


# ---------------------------------------------------------------- signed in


def test_signed_in_the_form_is_filled_in_and_the_outcome_shows_on_the_profile(
    scene: Scene, make_user: Callable[..., User]
) -> None:
    reader = verified(make_user, username="Lotte")
    client = client_for(scene.app, reader)

    page = client.get(f"/melden/{scene.comment.id}").get_data(as_text=True)
    filed = scene.file(client, name="Lotte", email=reader.email, ground="racisme")
    [notice] = scene.notices()
    before = client.get("/profiel/gemeld").get_data(as_text=True)
    assert scene.decide(notice.id, "removed", "Racistische taal.").status_code == 303
    after = client.get("/profiel/gemeld").get_data(as_text=True)

    assert 'value="Lotte"' in page and f'value="{reader.email}"' in page
    assert filed.status_code == 303
    assert notice.notifier_user_id == reader.id
    assert "Meldingen van illegale inhoud" in before and "Nog in behandeling" in before
    assert "Verwijderd: de reactie werd van de site gehaald" in after
    assert "Racistische taal." in after


# ---------------------------------------------------------------- decisions


def test_the_tab_lists_open_notices_with_ground_age_and_comment(scene: Scene) -> None:
    assert scene.file().status_code == 303

    queue = scene.mod_client.get("/moderatie/").get_data(as_text=True)
    page = scene.mod_client.get("/moderatie/meldingen-dsa").get_data(as_text=True)

    assert 'Meldingen (DSA) <span class="count">1</span>' in queue
    assert "Bedreiging of aanzetten tot geweld" in page
    assert scene.comment.body in page and EXPLANATION in page
    assert re.search(r"wacht <span data-age>0 min</span>", page)
    assert "els@example.test" in page


def test_removal_after_a_notice_sends_the_statement_of_reasons_and_the_outcome(
    scene: Scene,
) -> None:
    assert scene.file().status_code == 303
    [notice] = scene.notices()

    response = scene.decide(notice.id, "removed", "Dit is een bedreiging.")

    assert response.status_code == 303
    assert response.headers["Location"] == "/moderatie/meldingen-dsa"
    fresh(scene.db)
    comment = scene.db.get_one(Comment, scene.comment.id)
    assert comment.state is CommentState.REMOVED
    assert comment.decision_reason is ReasonCode.BEDREIGING
    [notice] = scene.notices()
    assert notice.state is NoticeState.DECIDED and notice.decision is NoticeDecision.REMOVED
    assert notice.decided_by_id == scene.moderator.id and notice.automated is False
    assert notice.decided_at is not None and notice.decided_at >= notice.created_at
    actions = scene.db.execute(
        select(ModerationAction.target_type, ModerationAction.action, ModerationAction.actor_id)
        .where(ModerationAction.actor_id == scene.moderator.id)
        .order_by(ModerationAction.id)
    ).all()
    assert [tuple(row) for row in actions] == [
        ("comment", "remove", scene.moderator.id),
        ("notice", "notice_removed", scene.moderator.id),
    ]
    work(scene.app)
    [statement] = mails_to(scene.smtp, scene.author.email)
    assert statement["Subject"] == 'Je reactie bij "Derby in Sclessin" werd verwijderd'
    text = text_of(statement)
    assert "Reden: Bedreiging" in text
    assert (
        "Aanleiding: een melding van illegale inhoud (Digital Services Act, art. 16), op grond "
        "van: Bedreiging of aanzetten tot geweld"
    ) in text
    assert "Toelichting van de moderator: Dit is een bedreiging." in text
    assert "Een moderator nam deze beslissing, na de melding van illegale inhoud." in text
    assert "Automatische middelen: er werden geen automatische middelen gebruikt." in text
    assert f"Bezwaar maken: {PUBLIC}/artikels/derby#reactie-{comment.id}" in text
    assert "Buitengerechtelijke geschillenbeslechting: Je kan je ook wenden tot een erkend" in text
    assert "naar de rechter" in text
    assert "Bedreiging of aanzetten tot geweld" in html_of(statement)
    # The notifier never learns who wrote it; they hear the outcome.
    receipt, outcome = mails_to(scene.smtp, "els@example.test")
    assert outcome["Subject"] == f"Beslissing over je melding nr. {notice.id}: reactie verwijderd"
    outcome_text = text_of(outcome)
    assert "de reactie werd van de site gehaald" in outcome_text
    assert "door een moderator, zonder automatische middelen" in outcome_text
    assert "Jonas" not in outcome_text


def test_a_held_comment_removed_after_a_notice_is_rejected(scene: Scene) -> None:
    posted = post_comment(client_for(scene.app, scene.author), "derby", HOLD_TEXT)
    assert posted.status_code == 202  # screening held it
    held = scene.db.get_one(Comment, posted.get_json()["id"])
    assert scene.file(comment_id=held.id, ground="privacy").status_code == 303
    [notice] = scene.notices()

    assert scene.decide(notice.id, "removed").status_code == 303

    fresh(scene.db)
    comment = scene.db.get_one(Comment, held.id)
    assert comment.state is CommentState.REJECTED
    assert comment.decision_reason is ReasonCode.PERSOONSGEGEVENS
    work(scene.app)
    [statement] = mails_to(scene.smtp, scene.author.email)
    assert "werd niet geplaatst" in statement["Subject"]
    text = text_of(statement)
    assert "op grond van: Schending van privacy of persoonsgegevens" in text
    # Screening flagged it: said so, and that a person decided.
    assert (
        "onze automatische controle signaleerde je reactie; de beslissing zelf nam een mens" in text
    )


def test_no_action_keeps_the_comment_and_tells_only_the_notifier(scene: Scene) -> None:
    assert scene.file().status_code == 303
    [notice] = scene.notices()

    response = scene.decide(notice.id, "no_action", "Scherp maar niet illegaal.", **JSON)

    assert response.status_code == 200 and response.get_json()["notice_id"] == notice.id
    fresh(scene.db)
    assert scene.db.get_one(Comment, scene.comment.id).state is CommentState.PUBLISHED
    [notice] = scene.notices()
    assert notice.decision is NoticeDecision.NO_ACTION
    work(scene.app)
    assert mails_to(scene.smtp, scene.author.email) == []
    _, outcome = mails_to(scene.smtp, "els@example.test")
    assert outcome["Subject"].endswith(": geen actie")
    assert "Scherp maar niet illegaal." in text_of(outcome)
    page = scene.mod_client.get("/moderatie/meldingen-dsa").get_data(as_text=True)
    assert "Geen open meldingen" in page
    assert re.search(
        r"Geen actie: Scherp maar niet illegaal\.</td>\s*<td data-handling>0 min", page
    )


def test_a_notice_is_decided_once(scene: Scene) -> None:
    assert scene.file().status_code == 303
    [notice] = scene.notices()
    assert scene.decide(notice.id, "no_action").status_code == 303

    again = scene.decide(notice.id, "removed", **JSON)

    assert again.status_code == 409 and again.get_json()["error"]["code"] == "notice_decided"
    fresh(scene.db)
    assert scene.db.get_one(Comment, scene.comment.id).state is CommentState.PUBLISHED


def test_a_bad_decision_comes_back_beside_its_field(scene: Scene) -> None:
    assert scene.file().status_code == 303
    [notice] = scene.notices()

    page_answer = scene.decide(notice.id, "weg", "mijn notitie")
    json_answer = scene.decide(notice.id, "weg", **JSON)

    assert page_answer.status_code == 422
    page = page_answer.get_data(as_text=True)
    assert f'id="decision-{notice.id}-error"' in page and "Kies verwijderen of geen actie." in page
    assert 'value="mijn notitie"' in page
    assert json_answer.get_json()["error"]["code"] == "invalid_decision"
    assert scene.notices()[0].state is NoticeState.OPEN


def test_a_moderator_does_not_decide_on_their_own_comment(scene: Scene) -> None:
    own = create_comment(scene.db, scene.article, scene.moderator, CommentState.PUBLISHED)
    assert scene.file(comment_id=own.id).status_code == 303
    [notice] = scene.notices()

    response = scene.decide(notice.id, "removed", **JSON)

    assert response.status_code == 403 and response.get_json()["error"]["code"] == "own_comment"


@pytest.mark.parametrize("role", [None, Role.FAN, Role.EDITOR])
def test_only_moderators_see_and_decide_notices(
    scene: Scene, make_user: Callable[..., User], role: Role | None
) -> None:
    assert scene.file().status_code == 303
    [notice] = scene.notices()
    client = client_for(scene.app, make_user(role)) if role else anonymous(scene.app)

    listed = client.get("/moderatie/meldingen-dsa")
    decided = client.post(f"/moderatie/meldingen-dsa/{notice.id}", data={"decision": "removed"})

    assert listed.status_code in (302, 403) and decided.status_code in (302, 403)
    assert scene.notices()[0].state is NoticeState.OPEN


def test_an_ordinary_rejection_names_the_redress_but_no_notice(
    scene: Scene, app_settings: dict[str, Any]
) -> None:
    held = create_comment(scene.db, scene.article, scene.author, CommentState.HELD, HOLD_TEXT)

    response = scene.mod_client.post(
        f"/moderatie/reacties/{held.id}/afwijzen", data={"reason": "beledigend"}, headers=JSON
    )

    assert response.status_code == 200
    work(scene.app)
    [statement] = mails_to(scene.smtp, scene.author.email)
    text = text_of(statement)
    assert "Aanleiding" not in text
    assert "Buitengerechtelijke geschillenbeslechting:" in text and "naar de rechter" in text


@pytest.fixture
def own_dispute_body(app_settings: dict[str, Any]) -> None:
    app_settings["TRIBUNE_DISPUTE_SETTLEMENT_BODY"] = DISPUTE_BODY


def test_the_dispute_settlement_body_is_a_setting(own_dispute_body: None, scene: Scene) -> None:
    assert scene.file().status_code == 303
    [notice] = scene.notices()

    assert scene.decide(notice.id, "removed").status_code == 303

    work(scene.app)
    [statement] = mails_to(scene.smtp, scene.author.email)
    assert f"Buitengerechtelijke geschillenbeslechting: {DISPUTE_BODY}" in text_of(statement)
    assert DISPUTE_BODY in html_of(statement)


# ---------------------------------------------------------------- transparency


# What the test expects each audit row to be: (action, to_state) → kind, written out here
# rather than read from dsa.transparency.
EXPECTED_KINDS = {
    ("post", "held"): "hold",
    ("post", "rejected"): "reject",
    ("edit", "held"): "hold",
    ("report_threshold", "held"): "hold",
    ("approve", "published"): "approve",
    ("mark_reviewed", "published"): "approve",
    ("reject", "rejected"): "reject",
    ("remove", "removed"): "remove",
    ("restore", "published"): "restore",
    ("dismiss_reports", "published"): "keep",
}


def _expected(db: Session, start: Any, end: Any) -> dict[str, Any]:
    """The figures of [start, end), computed here from every row."""
    fresh(db)
    notices = list(db.scalars(select(Notice)))
    received = [n for n in notices if start <= n.created_at < end]
    decided = [n for n in notices if n.decided_at is not None and start <= n.decided_at < end]
    by_ground = Counter(n.ground.value for n in received)
    decisions: dict[str, dict[str, int]] = {}
    for row in db.scalars(select(ModerationAction)):
        if row.target_type != "comment" or not start <= row.created_at < end:
            continue
        kind = EXPECTED_KINDS.get((row.action, row.to_state or ""))
        if kind is None:
            continue
        automated = row.actor_id is None or row.action == "edit"
        means = decisions.setdefault(kind, {"automated": 0, "human": 0})
        means["automated" if automated else "human"] += 1
    appeals = [a for a in db.scalars(select(Appeal)) if start <= a.created_at < end]
    handling = [(n.decided_at - n.created_at).total_seconds() for n in decided]  # type: ignore[operator]
    return {
        "by_ground": {g.value: by_ground.get(g.value, 0) for g in NoticeGround},
        "received": len(received),
        "still_open": sum(n.state is NoticeState.OPEN for n in received),
        "decisions": {d.value: sum(n.decision is d for n in decided) for d in NoticeDecision},
        "by_means": {
            "automated": sum(n.automated for n in decided),
            "human": sum(not n.automated for n in decided),
        },
        "median": statistics.median(handling) if handling else None,
        "comment_decisions": decisions,
        "appeals": {
            "received": len(appeals),
            **{s.value: sum(a.state is s for a in appeals) for s in AppealState},
        },
    }


@pytest.fixture
def history(scene: Scene, make_user: Callable[..., User]) -> tuple[date, date]:
    """Notices (decided after different waits, some open, one before the period), screening
    holds and rejections, moderators' decisions and appeals; the period: the last week."""
    db = scene.db
    now = utcnow()
    fans = [verified(make_user, username=f"Fan{i}") for i in range(4)]
    clients = [client_for(scene.app, fan) for fan in fans]
    held_ids = []
    for client in clients:
        held = post_comment(client, "derby", HOLD_TEXT)
        assert held.status_code == 202
        held_ids.append(held.get_json()["id"])
        assert post_comment(client, "derby", REJECT_TEXT).status_code == 422
    mod = scene.mod_client
    assert (
        mod.post(f"/moderatie/reacties/{held_ids[0]}/goedkeuren", headers=JSON).status_code == 200
    )
    assert (
        mod.post(
            f"/moderatie/reacties/{held_ids[1]}/afwijzen",
            data={"reason": "beledigend"},
            headers=JSON,
        ).status_code
        == 200
    )
    assert (
        mod.post(
            f"/moderatie/reacties/{held_ids[2]}/afwijzen", data={"reason": "spam"}, headers=JSON
        ).status_code
        == 200
    )
    # Appeals: one upheld, one denied, one pending.
    rejected_by_fan = []
    for fan in fans:
        fresh(db)
        rejected_id = db.scalar(
            select(Comment.id).where(
                Comment.author_id == fan.id, Comment.state == CommentState.REJECTED
            )
        )
        assert rejected_id is not None
        rejected_by_fan.append(rejected_id)
    appeals = [
        file_appeal(db, db.get_one(User, fan.id), cid, "Dit was niet kwetsend bedoeld.")
        for fan, cid in zip(fans[:3], rejected_by_fan[:3], strict=True)
    ]
    db.commit()
    moderator = db.get_one(User, scene.moderator.id)
    decide_appeal(db, moderator, appeals[0].id, True)
    decide_appeal(db, moderator, appeals[1].id, False)
    db.commit()
    # Notices: filed through the form, then dated back so their handling times differ.
    targets = [scene.comment.id] * 5
    grounds = ["racisme", "racisme", "privacy", "kindermisbruik", "auteursrecht"]
    for target, ground in zip(targets, grounds, strict=True):
        anonymous_ground = ground == "kindermisbruik"
        name, email = ("", "") if anonymous_ground else ("Els Peeters", "els@example.test")
        filed = scene.file(comment_id=target, ground=ground, name=name, email=email)
        assert filed.status_code == 303
    notices = scene.notices()
    for notice, hours in zip(notices, (5, 3, 30, 1, 2), strict=True):
        notice.created_at = now - timedelta(hours=hours)
    db.commit()
    assert scene.decide(notices[0].id, "no_action").status_code == 303
    assert scene.decide(notices[1].id, "no_action").status_code == 303
    assert scene.decide(notices[2].id, "removed").status_code == 303
    # Before the period: a notice, a decision and an appeal that must not count.
    old = now - timedelta(days=40)
    db.add(
        Notice(
            comment_id=scene.comment.id, ground=NoticeGround.NEGATIONISME, explanation="oud",
            good_faith=True, state=NoticeState.DECIDED, decision=NoticeDecision.REMOVED,
            decided_by_id=scene.moderator.id, decided_at=old + timedelta(hours=1),
            created_at=old,
        )
    )  # fmt: skip
    db.add(
        ModerationAction(
            actor_id=scene.moderator.id, target_type="comment", target_id="1",
            action="remove", from_state="published", to_state="removed", created_at=old,
        )
    )  # fmt: skip
    db.add(
        Appeal(
            comment_id=rejected_by_fan[3], author_id=fans[3].id, body="Oud bezwaar",
            state=AppealState.DENIED, created_at=old,
        )
    )  # fmt: skip
    db.commit()
    today = brussels.to_local(now).date()
    return today - timedelta(days=6), today


def _csv_figures(text: str) -> dict[tuple[str, str], str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "key", "value"]
    return {(section, key): value for section, key, value in rows[1:]}


def test_the_transparency_figures_match_the_rows_in_json_and_csv(
    scene: Scene, history: tuple[date, date], make_user: Callable[..., User]
) -> None:
    first, last = history
    expected = _expected(
        scene.db,
        brussels.from_local(datetime.combine(first, time())),
        brussels.from_local(datetime.combine(last + timedelta(days=1), time())),
    )
    admin = client_for(scene.app, verified(make_user, Role.ADMIN, username="Baas"))
    query = f"/beheer/transparantie?van={first}&tot={last}&formaat="

    as_json = admin.get(query + "json")
    as_csv = admin.get(query + "csv")
    shown = admin.get(query + "html")

    assert as_json.status_code == as_csv.status_code == shown.status_code == 200
    assert as_csv.headers["Content-Disposition"].startswith("attachment; filename=")
    document = json.loads(as_json.get_data(as_text=True))
    # The scene is what the test says it is.
    assert expected["received"] == 5 and expected["decisions"] == {"removed": 1, "no_action": 2}
    assert expected["appeals"] == {"received": 3, "upheld": 1, "denied": 1, "pending": 1}
    assert expected["comment_decisions"]["hold"]["automated"] == 4
    assert expected["comment_decisions"]["reject"] == {"automated": 4, "human": 2}
    assert expected["median"] == pytest.approx(5 * 3600, abs=120)  # waits of 3 h, 5 h, 30 h
    notices = document["notices"]
    assert notices["by_ground"] == expected["by_ground"]
    assert notices["received"] == expected["received"]
    assert notices["still_open"] == expected["still_open"] == 2
    assert notices["decisions"] == expected["decisions"]
    assert notices["decisions_by_means"] == expected["by_means"]
    assert notices["median_handling_seconds"] == pytest.approx(expected["median"])
    for kind, means in document["decisions"].items():
        assert means == expected["comment_decisions"].get(kind, {"automated": 0, "human": 0}), kind
    assert set(expected["comment_decisions"]) <= set(document["decisions"])
    assert document["appeals"] == expected["appeals"]
    figures = _csv_figures(as_csv.get_data(as_text=True))
    for ground, count in expected["by_ground"].items():
        assert figures[("notices_by_ground", ground)] == str(count)
    assert figures[("notices", "received")] == str(expected["received"])
    assert float(figures[("notices", "median_handling_seconds")]) == pytest.approx(
        expected["median"]
    )
    for decision, count in expected["decisions"].items():
        assert figures[("notice_decisions", decision)] == str(count)
    for kind, means in expected["comment_decisions"].items():
        for mean, count in means.items():
            assert figures[(f"decisions_{mean}", kind)] == str(count)
    for key, count in expected["appeals"].items():
        assert figures[("appeals", key)] == str(count)
    assert "Racisme of discriminatie" in shown.get_data(as_text=True)


def test_the_cli_writes_the_same_figures(
    scene: Scene, history: tuple[date, date], runner: Any
) -> None:
    first, last = history

    as_json = runner.invoke(
        args=["tribune", "transparency", "--from", str(first), "--to", str(last)]
    )
    as_csv = runner.invoke(
        args=["tribune", "transparency", "--from", str(first), "--to", str(last), "--format", "csv"]
    )
    backwards = runner.invoke(
        args=["tribune", "transparency", "--from", str(last), "--to", str(first)]
    )

    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.output)
    figures = _csv_figures(as_csv.output)
    assert document["notices"]["received"] == int(figures[("notices", "received")]) == 5
    assert document["appeals"]["received"] == int(figures[("appeals", "received")]) == 3
    assert backwards.exit_code != 0 and "einddatum ligt voor de begindatum" in backwards.output


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("van=2026-12-10&tot=2026-12-01", "tot", "De einddatum ligt voor de begindatum."),
        ("van=gisteren&tot=2026-12-01", "van", None),
        ("van=&tot=2026-12-01", "van", "Kies een begindatum."),
        ("van=2026-12-01&tot=2026-12-02&formaat=xml", "formaat", "Kies pagina, CSV of JSON."),
    ],
)
def test_a_bad_period_is_refused_beside_its_field(
    client: FlaskClient,
    make_user: Callable[..., User],
    query: str,
    field: str,
    message: str | None,
) -> None:
    admin = client_for(client.application, make_user(Role.ADMIN))

    response = admin.get(f"/beheer/transparantie?{query}")
    as_json = admin.get(f"/beheer/transparantie?{query}", headers=JSON)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="form-error" id="{field}-error">([^<]+)</p>', page)
    assert error is not None, page[:2000]
    if message:
        assert error.group(1) == message
    assert as_json.status_code == 422
    assert as_json.get_json()["error"]["code"] in ("invalid_period", "validation_failed")


def test_the_transparency_page_is_for_admins_only(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    moderator = client_for(client.application, make_user(Role.MODERATOR))

    assert moderator.get("/beheer/transparantie").status_code == 403
    assert client.get("/beheer/transparantie").status_code in (302, 401)
