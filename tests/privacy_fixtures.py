"""A fan who owns at least one row of every kind that references an account (shared by the
export and deletion tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import (
    AccountToken,
    ApiToken,
    Appeal,
    Article,
    Comment,
    CommentState,
    ComplaintState,
    Delivery,
    DigestItem,
    EmbedSession,
    EmbedVia,
    Flag,
    LexiconAction,
    LexiconEntry,
    MatchDayMode,
    MatchDayWindow,
    Notice,
    NoticeDecision,
    NoticeGround,
    NoticeState,
    NotificationKind,
    NotificationSettings,
    Poll,
    ReasonCode,
    Role,
    SsoIdentity,
    TokenPurpose,
    User,
    UserNote,
    WebhookEndpoint,
    utcnow,
)
from moderation.actions import add_note
from moderation.comment_states import adjust_queue
from moderation.queue import APPEALS
from outbox import enqueue_mail
from tests.conftest import client_for, login
from tests.factories import (
    CLEAN_TEXTS,
    HOLD_TEXT,
    ORIGIN,
    REJECT_TEXT,
    create_comment,
)
from tests.polls_fixtures import create_poll, vote

REPORT_NOTE = "Reclame voor een gokwebsite"
APPEAL_TEXT = "Dit was geen racisme, lees het opnieuw."
NOTE_ABOUT_FAN = "Let op: scherpe toon bij derby's"
TOKEN_NAME = "Mijn CMS-sleutel"
SSO_EMAIL = "supporter@krant.test"


@dataclass
class Fan:
    """The fan, a browser logged in as them, and what they own."""

    user: User
    client: FlaskClient
    remembered: FlaskClient  # another browser, signed in with "aangemeld blijven"
    other: User
    moderator: User
    article: Article
    poll: Poll
    comments: dict[CommentState, Comment]
    reply_by_other: Comment
    others_comment: Comment


def populate_fan(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> Fan:
    """A fan with comments in every state, a report, a "Sterk", an appeal, a ballot, sessions,
    an API token, an embed session, an SSO identity, a moderator's note, and (as if staff once) a
    poll, a match-day window, a word-list change, an appeal decision and a note written."""
    fan = make_user(Role.FAN, username="supporter")
    other = make_user(Role.FAN, username="andere")
    moderator = make_user(Role.MODERATOR, username="moderator")
    article = make_article(cms_id="defour")
    comments = {
        CommentState.PUBLISHED: create_comment(
            db, article, fan, CommentState.PUBLISHED, CLEAN_TEXTS[0]
        ),
        CommentState.HELD: create_comment(db, article, fan, CommentState.HELD, HOLD_TEXT),
        CommentState.REJECTED: create_comment(db, article, fan, CommentState.REJECTED, REJECT_TEXT),
        CommentState.REMOVED: create_comment(
            db, article, fan, CommentState.REMOVED, CLEAN_TEXTS[1], actor=moderator
        ),
        CommentState.DELETED: create_comment(
            db, article, fan, CommentState.DELETED, CLEAN_TEXTS[2]
        ),
    }
    others_comment = create_comment(db, article, other, CommentState.PUBLISHED, CLEAN_TEXTS[3])
    reply_by_other = create_comment(
        db,
        article,
        other,
        CommentState.PUBLISHED,
        CLEAN_TEXTS[4],
        parent=comments[CommentState.PUBLISHED],
    )
    others_rejected = create_comment(db, article, other, CommentState.REJECTED, REJECT_TEXT)

    client = client_for(app, fan)
    response = client.post(
        f"/api/v1/comments/{others_comment.id}/reports",
        json={"reason": "spam", "note": REPORT_NOTE},
        headers=ORIGIN,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    response = client.post(
        f"/api/v1/comments/{others_comment.id}/reactions", json={}, headers=ORIGIN
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    response = client.post(
        f"/api/v1/comments/{comments[CommentState.REJECTED].id}/appeal",
        json={"body": APPEAL_TEXT},
        headers=ORIGIN,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    poll = create_poll(db, article)
    response = vote(client, poll.id, [poll.options[0].id])
    assert response.status_code == 201, response.get_data(as_text=True)
    remembered = app.test_client()
    login(remembered, fan, remember=True)

    now = utcnow()
    add_note(db, moderator, fan.id, NOTE_ABOUT_FAN)
    db.add_all(
        [
            AccountToken(
                purpose=TokenPurpose.RESET,
                user_id=fan.id,
                token_hash="c" * 64,
                created_at=now,
                expires_at=now + timedelta(hours=1),
            ),
            ApiToken(
                user_id=fan.id,
                name=TOKEN_NAME,
                token_hash="a" * 64,
                prefix="trb_aaaaaa",
                scopes="articles:write",
            ),
            EmbedSession(
                user_id=fan.id,
                token_hash="b" * 64,
                via=EmbedVia.SSO,
                session_version=fan.session_version,
                expires_at=now + timedelta(minutes=15),
            ),
            SsoIdentity(
                issuer="demo-site", subject="42", user_id=fan.id, name="Supporter", email=SSO_EMAIL
            ),
            MatchDayWindow(
                mode=MatchDayMode.PREMODERATE,
                starts_at=now,
                ends_at=now + timedelta(hours=2),
                created_by_id=fan.id,
            ),
            LexiconEntry(
                action=LexiconAction.ADD,
                word="scheidsrechtersfout",
                list_name="insult",
                created_by_id=fan.id,
            ),
            UserNote(user_id=other.id, author_id=fan.id, body="Een notitie over een ander"),
            DigestItem(
                user_id=fan.id,
                kind=NotificationKind.REPLY,
                article_id=article.id,
                article_title=article.title,
                data={"summary": "andere antwoordde op je reactie", "path": "/artikels/defour"},
            ),
            WebhookEndpoint(
                url="https://redactie.example.be/tribune",
                description="CMS",
                events=["comment.created"],
                secret="whsec_" + "d" * 32,
                created_by_id=fan.id,
            ),
            # The screening flag of the rejected comment (create_comment stores none).
            Flag(
                comment_id=comments[CommentState.REJECTED].id,
                code="slur",
                reason=ReasonCode.RACISME,
                severity=3,
                detail="makakken",
                span_start=6,
                span_end=14,
            ),
        ]
    )
    poll.created_by_id = fan.id
    # As if staff once: a comment the fan marked "Uitgelicht" (comments.featured_by_id).
    comments[CommentState.PUBLISHED].featured_by_id = fan.id
    comments[CommentState.PUBLISHED].featured_at = utcnow()
    # Replies in the daily digest (the row may exist already: posting made one).
    settings = db.get(NotificationSettings, fan.id) or NotificationSettings(
        user_id=fan.id, unsubscribe_key="c" * 64
    )
    settings.reply = Delivery.DAILY
    db.add(settings)
    # Mail to the fan: one by account, one by address only (from before the account, say).
    enqueue_mail(
        db,
        to=fan.email,
        template="outbox_test",
        context={"name": fan.username},
        kind="outbox_test",
        user_id=fan.id,
    )
    enqueue_mail(db, to=fan.email.upper(), template="outbox_test", context={}, kind="outbox_test")
    db.flush()
    others_appeal = Appeal(
        comment_id=others_rejected.id,
        author_id=other.id,
        body="Bezwaar van een ander",
        decided_by_id=fan.id,
    )
    db.add(others_appeal)
    # A DSA notice the fan filed signed in, and (as if staff once) one the fan decided.
    db.add_all(
        [
            Notice(
                comment_id=others_comment.id,
                ground=NoticeGround.BEDREIGING,
                explanation="Dit is een bedreiging aan het adres van de scheidsrechter.",
                notifier_name="Supporter",
                notifier_email=fan.email,
                notifier_user_id=fan.id,
                good_faith=True,
            ),
            Notice(
                comment_id=others_comment.id,
                ground=NoticeGround.ANDERE,
                explanation="Een melding die de fan als moderator besliste.",
                good_faith=True,
                state=NoticeState.DECIDED,
                decision=NoticeDecision.NO_ACTION,
                decided_by_id=fan.id,
                decided_at=utcnow(),
                # The notifier complained (art. 20) and the fan, as staff, denied it.
                complaint_state=ComplaintState.DENIED,
                complaint_body="Ik ben het niet eens: dit is wel illegaal.",
                complaint_at=utcnow(),
                complaint_decided_by_id=fan.id,
                complaint_decided_at=utcnow(),
            ),
        ]
    )
    db.commit()
    # The appeal above went in without the state machine: count it in the Bezwaren tab.
    adjust_queue(db, APPEALS, +1)
    db.commit()
    return Fan(
        fan,
        client,
        remembered,
        other,
        moderator,
        article,
        poll,
        comments,
        reply_by_other,
        others_comment,
    )
