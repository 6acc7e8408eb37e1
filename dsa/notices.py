"""Notices of illegal content (DSA art. 16) and the moderator's decision on them (art. 17, 20).

Anyone files a notice, signed in or not; a moderator removes the comment (through the comment
state machine, with the reason its ground maps to) or takes no action. Each decision writes an
audit row, mails the notifier the outcome, and the author's statement of reasons names the
notice's ground (notifications.notices.rejected_notice).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.services import EMAIL_MAX, EMAIL_RE
from dsa.links import complaint_path
from errors import Conflict, Invalid, NotFound
from lookups import get_or_404
from models import (
    Article,
    Comment,
    CommentState,
    Notice,
    NoticeDecision,
    NoticeGround,
    NoticeState,
    ReasonCode,
    User,
    utcnow,
)
from moderation.actions import NOTE_MAX, refuse_own_comment
from moderation.audit import record_action
from moderation.comment_states import transition
from outbox import enqueue_mail

EXPLANATION_MIN = 10
EXPLANATION_MAX = 4000
NAME_MAX = 200
# Grounds for which the notifier may stay anonymous (DSA art. 16(2)(c)).
ANONYMOUS_GROUNDS = frozenset({NoticeGround.KINDERMISBRUIK})
# The comment states a notice can be about: what is online, and what waits to be.
NOTICEABLE = (CommentState.PUBLISHED, CommentState.HELD)
# The reason code a removal after a notice carries (shown to the author, counted in stats).
GROUND_REASONS = {
    NoticeGround.RACISME: ReasonCode.RACISME,
    NoticeGround.NEGATIONISME: ReasonCode.RACISME,
    NoticeGround.BEDREIGING: ReasonCode.BEDREIGING,
    NoticeGround.PRIVACY: ReasonCode.PERSOONSGEGEVENS,
    NoticeGround.AUTEURSRECHT: ReasonCode.ILLEGAAL,
    NoticeGround.KINDERMISBRUIK: ReasonCode.ILLEGAAL,
    NoticeGround.ANDERE: ReasonCode.ILLEGAAL,
}
DECISION_ACTIONS = {
    NoticeDecision.REMOVED: "notice_removed",
    NoticeDecision.NO_ACTION: "notice_kept",
}

NAME_REQUIRED_NL = "Vul je naam in (niet nodig bij seksueel misbruik van kinderen)."
EMAIL_REQUIRED_NL = "Vul je e-mailadres in (niet nodig bij seksueel misbruik van kinderen)."
EMAIL_INVALID_NL = "Vul een geldig e-mailadres in."
EXPLANATION_NL = (
    f"Leg in {EXPLANATION_MIN} tot {EXPLANATION_MAX} tekens uit waarom deze reactie illegaal is."
)
GOOD_FAITH_NL = "Bevestig dat je deze melding te goeder trouw doet."
GROUND_NL = "Kies een wettelijke grond."


@dataclass(frozen=True)
class NoticeInput:
    """What a notifier typed: the ground's value, explanation, name, e-mail, good faith."""

    ground: str
    explanation: str
    name: str = ""
    email: str = ""
    good_faith: bool = False


def parse_ground(raw: object) -> NoticeGround:
    """A ground from a form value, or 422 beside the field."""
    try:
        return NoticeGround(raw)
    except ValueError:
        raise Invalid("invalid_ground", GROUND_NL, details={"field": "ground"}) from None


def notice_problems(data: NoticeInput) -> dict[str, str]:
    """Every field that is wrong, with its Dutch message (empty when the notice is valid)."""
    problems: dict[str, str] = {}
    ground: NoticeGround | None
    try:
        ground = parse_ground(data.ground)
    except Invalid as exc:
        ground = None
        problems["ground"] = exc.message
    if not EXPLANATION_MIN <= len(data.explanation.strip()) <= EXPLANATION_MAX:
        problems["explanation"] = EXPLANATION_NL
    name, email = data.name.strip(), data.email.strip()
    identity_required = ground not in ANONYMOUS_GROUNDS
    if len(name) > NAME_MAX:
        problems["name"] = f"Hoogstens {NAME_MAX} tekens."
    elif identity_required and not name:
        problems["name"] = NAME_REQUIRED_NL
    if email and (len(email) > EMAIL_MAX or not EMAIL_RE.match(email)):
        problems["email"] = EMAIL_INVALID_NL
    elif identity_required and not email:
        problems["email"] = EMAIL_REQUIRED_NL
    if not data.good_faith:
        problems["good_faith"] = GOOD_FAITH_NL
    return problems


def noticeable_comment(session: Session, comment_id: int) -> Comment:
    """The comment a notice may be about: published or held, else 404."""
    comment = session.get(Comment, comment_id)
    if comment is None or comment.state not in NOTICEABLE:
        raise NotFound("comment_not_found", "Deze reactie bestaat niet of is niet meer op de site.")
    return comment


def file_notice(
    session: Session,
    comment_id: int,
    data: NoticeInput,
    notifier: User | None,
    now: datetime | None = None,
) -> Notice:
    """Store a notice (422 with every field's problem), its audit row, and the receipt mail
    (art. 16(4)) when the notifier gave an address."""
    comment = noticeable_comment(session, comment_id)
    problems = notice_problems(data)
    if problems:
        first = next(iter(problems))
        raise Invalid("invalid_notice", problems[first], details={"fields": problems})
    notice = Notice(
        comment_id=comment.id,
        ground=NoticeGround(data.ground),
        explanation=data.explanation.strip(),
        notifier_name=data.name.strip() or None,
        notifier_email=data.email.strip() or None,
        notifier_user_id=notifier.id if notifier is not None else None,
        good_faith=True,
        state=NoticeState.OPEN,
        automated=False,
        created_at=now or utcnow(),
        complaint_key=secrets.token_hex(16),  # signs the complaint link (dsa.links)
    )
    session.add(notice)
    session.flush()
    record_action(
        session, notifier, "notice", notice.id, "notice_filed", None, NoticeState.OPEN.value,
        GROUND_REASONS[notice.ground].value,
    )  # fmt: skip
    if notice.notifier_email:
        article = session.get_one(Article, comment.article_id)
        enqueue_mail(
            session,
            to=notice.notifier_email,
            template="notice_receipt",
            context=_mail_context(notice, article),
            kind="notice_receipt",
            user_id=notice.notifier_user_id,
        )
    return notice


def _mail_context(notice: Notice, article: Article) -> dict[str, object]:
    return {
        "notice_id": notice.id,
        "name": notice.notifier_name,
        "ground": notice.ground.label_nl,
        "article_title": article.title,
        "comment_id": notice.comment_id,
        "created_at": notice.created_at.isoformat(),
    }


def decision_note(note: object) -> str | None:
    """A moderator's note, stripped (None when empty), or 422 beside the field."""
    text = note.strip() if isinstance(note, str) else ""
    if len(text) > NOTE_MAX:
        raise Invalid(
            "invalid_note", f"Een notitie heeft hoogstens {NOTE_MAX} tekens.",
            details={"field": "note"},
        )  # fmt: skip
    return text or None


def lock_for_decision(session: Session, moderator: User, notice: Notice) -> Comment:
    """The noticed comment, once the moderator may decide on it (403 on one's own comment)
    and the notice row is locked against a second decision at the same time."""
    comment = session.get_one(Comment, notice.comment_id)
    refuse_own_comment(moderator, comment)
    session.refresh(notice, with_for_update=True)
    return comment


def decide_notice(
    session: Session,
    moderator: User,
    notice_id: int,
    decision: object,
    note: object = None,
    now: datetime | None = None,
) -> Notice:
    """Remove the comment (it leaves the site; the author gets the statement of reasons) or
    take no action; the notifier is told the outcome. 409 when it was decided already."""
    notice = get_or_404(
        session, Notice, notice_id, "notice_not_found", "Deze melding bestaat niet."
    )
    try:
        chosen = NoticeDecision(decision)
    except ValueError:
        raise Invalid(
            "invalid_decision", "Kies verwijderen of geen actie.", details={"field": "decision"}
        ) from None
    text = decision_note(note)
    comment = lock_for_decision(session, moderator, notice)
    if notice.state is not NoticeState.OPEN:
        raise Conflict("notice_decided", "Over deze melding werd al beslist.")
    now = now or utcnow()
    notice.state = NoticeState.DECIDED
    notice.decision = chosen
    notice.decided_by_id = moderator.id
    notice.decided_at = now
    notice.automated = False
    notice.decision_note = text
    session.flush()
    reason = GROUND_REASONS[notice.ground]
    if chosen is NoticeDecision.REMOVED:
        take_down(session, comment, moderator, reason, text, notice.id, now)
    record_action(
        session, moderator, "notice", notice.id, DECISION_ACTIONS[chosen],
        NoticeState.OPEN.value, NoticeState.DECIDED.value, reason.value, text,
    )  # fmt: skip
    if notice.notifier_email:
        article = session.get_one(Article, comment.article_id)
        enqueue_mail(
            session,
            to=notice.notifier_email,
            template="notice_outcome",
            context={
                **_mail_context(notice, article),
                "removed": chosen is NoticeDecision.REMOVED,
                "decided_at": now.isoformat(),
                "note": notice.decision_note,
                "automated": notice.automated,
                # Art. 20: the notifier may complain about "no action", without an account.
                "complaint_path": None
                if chosen is NoticeDecision.REMOVED
                else complaint_path(session, notice),
            },
            kind="notice_outcome",
            user_id=notice.notifier_user_id,
        )
    return notice


def take_down(
    session: Session,
    comment: Comment,
    moderator: User,
    reason: ReasonCode,
    note: str | None,
    notice_id: int,
    now: datetime,
) -> None:
    """Published → removed, held → rejected; a comment already off the site stays so."""
    if comment.state is CommentState.PUBLISHED:
        to_state, action = CommentState.REMOVED, "remove"
    elif comment.state is CommentState.HELD:
        to_state, action = CommentState.REJECTED, "reject"
    else:
        return
    transition(
        session, comment, to_state, action, moderator, reason, note, now=now, notice_id=notice_id
    )


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class NoticeItem:
    """One notice as the moderators' tab shows it."""

    notice: Notice
    comment: Comment
    article: Article
    author: str


def items(session: Session, notices: list[Notice]) -> list[NoticeItem]:
    """Each notice with its comment, article and the comment's author."""
    items = []
    for notice in notices:
        comment = session.get_one(Comment, notice.comment_id)
        article = session.get_one(Article, comment.article_id)
        author = session.get_one(User, comment.author_id).username
        items.append(NoticeItem(notice, comment, article, author))
    return items


def open_notices(session: Session, limit: int = 100) -> list[NoticeItem]:
    """Open notices, oldest first (the longest wait on top)."""
    rows = session.scalars(
        select(Notice)
        .where(Notice.state == NoticeState.OPEN)
        .order_by(Notice.created_at, Notice.id)
        .limit(limit)
    )
    return items(session, list(rows))


def decided_notices(session: Session, limit: int = 50) -> list[NoticeItem]:
    """The latest decided notices, newest decision first."""
    rows = session.scalars(
        select(Notice)
        .where(Notice.state == NoticeState.DECIDED)
        .order_by(Notice.decided_at.desc(), Notice.id.desc())
        .limit(limit)
    )
    return items(session, list(rows))


def open_count(session: Session) -> int:
    """How many notices wait for a decision."""
    return int(
        session.scalar(
            select(func.count()).select_from(Notice).where(Notice.state == NoticeState.OPEN)
        )
        or 0
    )


def notices_by(session: Session, user: User, limit: int = 50) -> list[Notice]:
    """The notices an account filed while signed in, newest first (its /profiel/gemeld)."""
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.notifier_user_id == user.id)
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )


def removal_notice(session: Session, notice_id: object) -> Notice | None:
    """The notice a removal came from (the comment.state_changed event's notice_id)."""
    if not isinstance(notice_id, int):
        return None
    return session.get(Notice, notice_id)
