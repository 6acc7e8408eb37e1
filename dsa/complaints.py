"""The notifier's complaint against a decision to take no action on a notice (DSA art. 20).

A notifier whose notice ended in "no action" may complain once, within six months, through a
link signed with the notice's own key (in the outcome mail and on /profiel/gemeld): no account
is needed. A moderator decides the complaint: upheld takes the comment off the site after all
(the author gets the statement of reasons with the notice's ground), denied lets "no action"
stand. The notifier is told either way. Complaints against a removal are the author's: that is
the appeal (models.Appeal), not this.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dsa.links import notice_for_token
from dsa.notices import GROUND_REASONS, decision_note, lock_for_decision, take_down
from errors import Conflict, Invalid
from lookups import get_or_404
from models import (
    Article,
    ComplaintState,
    Notice,
    NoticeDecision,
    NoticeState,
    User,
    utcnow,
)
from moderation.audit import record_action
from outbox import enqueue_mail

COMPLAINT_MIN = 10
COMPLAINT_MAX = 2000
# Art. 20(1): the complaint system is open for at least six months after the decision.
COMPLAINT_WINDOW = timedelta(days=183)
COMPLAINT_NL = (
    f"Leg in {COMPLAINT_MIN} tot {COMPLAINT_MAX} tekens uit waarom je het niet eens bent."
)


def complaint_refusal(notice: Notice, now: datetime) -> Conflict | None:
    """Why this notice cannot take a complaint now (None when it can)."""
    if notice.state is not NoticeState.DECIDED or notice.decision is not NoticeDecision.NO_ACTION:
        return Conflict(
            "complaint_not_possible",
            "Bezwaar kan alleen tegen een beslissing om geen actie te ondernemen.",
        )
    if notice.complaint_state is not None:
        return Conflict("complaint_exists", "Je maakte al bezwaar tegen deze beslissing.")
    if notice.decided_at is not None and now - notice.decided_at > COMPLAINT_WINDOW:
        return Conflict(
            "complaint_too_late",
            "Bezwaar kan tot zes maanden na de beslissing; die termijn is voorbij.",
        )
    return None


def file_complaint(session: Session, token: str, body: str, now: datetime | None = None) -> Notice:
    """Store the notifier's one complaint (422 beside the field, 409 when not possible)."""
    now = now or utcnow()
    notice = notice_for_token(session, token)
    text = body.strip()
    if not COMPLAINT_MIN <= len(text) <= COMPLAINT_MAX:
        raise Invalid("invalid_complaint", COMPLAINT_NL, details={"field": "body"})
    session.refresh(notice, with_for_update=True)
    refusal = complaint_refusal(notice, now)
    if refusal is not None:
        raise refusal
    notice.complaint_state = ComplaintState.PENDING
    notice.complaint_body = text
    notice.complaint_at = now
    session.flush()
    record_action(
        session, None, "notice", notice.id, "notice_complaint_filed", None,
        ComplaintState.PENDING.value,
    )  # fmt: skip
    return notice


def decide_complaint(
    session: Session,
    moderator: User,
    notice_id: int,
    uphold: bool,
    note: object = None,
    now: datetime | None = None,
) -> Notice:
    """Uphold (the comment leaves the site after all) or deny (no action stands); the notifier
    is told. 409 when there is no pending complaint."""
    notice = get_or_404(
        session, Notice, notice_id, "notice_not_found", "Deze melding bestaat niet."
    )
    text = decision_note(note)
    comment = lock_for_decision(session, moderator, notice)
    if notice.complaint_state is not ComplaintState.PENDING:
        raise Conflict("complaint_decided", "Er is geen open bezwaar bij deze melding.")
    now = now or utcnow()
    state = ComplaintState.UPHELD if uphold else ComplaintState.DENIED
    notice.complaint_state = state
    notice.complaint_decided_at = now
    notice.complaint_decided_by_id = moderator.id
    notice.complaint_note = text
    reason = GROUND_REASONS[notice.ground]
    if uphold:
        take_down(session, comment, moderator, reason, text, notice.id, now)
    record_action(
        session, moderator, "notice", notice.id,
        "notice_complaint_upheld" if uphold else "notice_complaint_denied",
        ComplaintState.PENDING.value, state.value, reason.value, text,
    )  # fmt: skip
    if notice.notifier_email:
        article = session.get_one(Article, comment.article_id)
        enqueue_mail(
            session,
            to=notice.notifier_email,
            template="notice_complaint_outcome",
            context={
                "notice_id": notice.id,
                "name": notice.notifier_name,
                "ground": notice.ground.label_nl,
                "article_title": article.title,
                "upheld": uphold,
                "note": notice.complaint_note,
                "decided_at": now.isoformat(),
            },
            kind="notice_complaint_outcome",
            user_id=notice.notifier_user_id,
        )
    return notice


def pending_complaints(session: Session, limit: int = 100) -> list[Notice]:
    """Complaints waiting for a moderator, oldest first."""
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.complaint_state == ComplaintState.PENDING)
            .order_by(Notice.complaint_at, Notice.id)
            .limit(limit)
        )
    )


def pending_count(session: Session) -> int:
    """How many complaints wait for a moderator."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.complaint_state == ComplaintState.PENDING)
        )
        or 0
    )
