"""Deleting one's own account (GDPR Art. 17), on /profiel/verwijderen.

The users row stays (the comments that stay need an author, the audit log an id) but holds no
personal data afterwards: the name shows as "verwijderde gebruiker", the e-mail address is a
unique address that cannot receive mail, the password cannot match, the account is inactive
and `deleted_at` is set, so it never signs in again by any route (password, remember-me cookie,
API token, embed token or SSO: those rows are deleted). Its username and e-mail address are free
to register again at once. What happens to the rest:

- comments: the fan chooses. KEEP: they stay as they are, by "verwijderde gebruiker". REMOVE:
  published and held ones go to `deleted` through the comment state machine (action
  `account_deleted`, so counters and tallies follow), and every comment's text is erased (the
  rows and their states stay, so replies by others keep their place);
- ballots stay counted, unlinked: `user_id` is emptied and the voter key "u:<id>" becomes a
  random "x:<…>" (the one-ballot-per-voter constraint stays meaningful); in a poll's
  "Enkel aangemelde fans" stand they now count as anonymous;
- "Sterk" reactions are deleted and the comments' counters lowered with them;
- appeals are deleted (a pending one leaves the Bezwaren tab); reports stay (their outcome
  weighs in other reporters' records) without their note;
- moderators' notes about the account are deleted; audit rows stay, with the account's id only:
  the notes of rows about the account or its API tokens are emptied. What the account did as
  staff keeps pointing at the id;
- outbox messages to the account (mail, by user id or address) are deleted, sent or not: the
  name and address are gone first, so nothing the steps here publish can reach the person.

Every other package with rows about an account registers an eraser (`register_eraser`, e.g.
the notification settings) that runs in the same transaction. tests/test_account_deletion.py
reads every column with a foreign key to users.id from the metadata and fails when it is neither
emptied by an eraser nor listed in KEPT_REFERENCES with the reason it stays.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from accounts.services import end_sessions
from caching import touch_article
from comments.reactions import remove_readers_reactions
from errors import Conflict, Invalid
from models import (
    ApiToken,
    Appeal,
    AppealState,
    Ballot,
    Comment,
    CommentState,
    EmbedSession,
    Flag,
    ModerationAction,
    OutboxAttempt,
    OutboxMessage,
    RememberToken,
    Report,
    Role,
    SsoIdentity,
    User,
    UserNote,
    utcnow,
)
from moderation.audit import record_action
from moderation.comment_states import adjust_queue, transition
from moderation.queue import APPEALS

DELETED_NAME = "verwijderde gebruiker"
# What a removed comment's text becomes (the state machine keeps the row and its state).
ERASED_WITH_ACCOUNT = "[verwijderd met het account]"
# Never a valid werkzeug hash: check_password_hash answers False for it whatever the password.
NO_PASSWORD = "!deleted"
# A username key no registration or SSO name can produce (both refuse control characters), so
# the placeholder never collides with a real name and frees the old one at once.
_KEY_MARK = "\x1f"


class CommentChoice(enum.Enum):
    """What becomes of the comments of a deleted account."""

    KEEP = "keep"  # they stay, by "verwijderde gebruiker"
    REMOVE = "remove"  # they go (deleted, text erased)

    @property
    def label_nl(self) -> str:
        return {
            "keep": "Mijn reacties blijven staan, als \u201cverwijderde gebruiker\u201d.",
            "remove": "Mijn reacties worden verwijderd.",
        }[self.value]


@dataclass(frozen=True)
class DeletionReport:
    """What deleting the account did, for the page and the tests."""

    user_id: int
    comments_removed: int
    comments_kept: int
    ballots_unlinked: int


def confirm_identity(user: User, confirmation: str) -> None:
    """The password (or, for an SSO account without one, the exact username) or 422."""
    if user.password_login:
        if not check_password_hash(user.password_hash, confirmation):
            raise Invalid(
                "wrong_password",
                "Je wachtwoord klopt niet.",
                details={"field": "confirmation"},
            )
        return
    if confirmation.strip().casefold() != user.username.strip().casefold():
        raise Invalid(
            "wrong_username",
            "Typ je gebruikersnaam precies zoals hij hierboven staat.",
            details={"field": "confirmation"},
        )


@dataclass(frozen=True)
class FormerAccount:
    """Who the account was, for erasers that find rows by more than the user id (an address)."""

    user_id: int
    username: str
    email: str


Eraser = Callable[[Session, FormerAccount], None]


@dataclass(frozen=True)
class AccountEraser:
    """One step of a deletion and the (table, column) pairs it leaves without the account."""

    name: str
    erase: Eraser
    covers: tuple[tuple[str, str], ...]


# Name → eraser, run in this order after the comments.
account_erasers: dict[str, AccountEraser] = {}

# Columns referencing users.id that keep the deleted account's id, and why.
KEPT_REFERENCES: dict[tuple[str, str], str] = {
    ("comments", "author_id"): "the fan's choice: kept as 'verwijderde gebruiker' or removed",
    ("reports", "reporter_id"): "reports weigh in other reporters' records; their note goes",
    ("moderation_actions", "actor_id"): "the audit log keeps who acted, as an id",
    ("polls", "created_by_id"): "staff work: the id only",
    ("match_day_windows", "created_by_id"): "staff work: the id only",
    ("lexicon_entries", "created_by_id"): "staff work: the id only",
    ("appeals", "decided_by_id"): "staff work: the id only",
    ("user_notes", "author_id"): "a note about someone else, by this id",
    ("webhook_endpoints", "created_by_id"): "staff work: the id only",
    ("notices", "decided_by_id"): "staff work: the id only",
    ("notices", "complaint_decided_by_id"): "staff work: the id only",
    ("comments", "featured_by_id"): "staff work (an editor's pick): the id only",
}


def register_eraser(
    name: str, covers: Iterable[tuple[str, str]] = ()
) -> Callable[[Eraser], Eraser]:
    """Run the decorated function in every account deletion (after the comments)."""

    def record(erase: Eraser) -> Eraser:
        account_erasers[name] = AccountEraser(name, erase, tuple(covers))
        return erase

    return record


def erased_columns() -> set[tuple[str, str]]:
    """Every (table, column) some eraser empties of the deleted account."""
    return {column for eraser in account_erasers.values() for column in eraser.covers}


def delete_account(
    session: Session,
    user: User,
    confirmation: str,
    choice: CommentChoice,
    now: datetime | None = None,
) -> DeletionReport:
    """Delete the fan's own account after the password (or username) check; see the module."""
    if user.deleted_at is not None:
        raise Conflict("account_deleted", "Dit account werd al verwijderd.")
    confirm_identity(user, confirmation)
    now = now or utcnow()
    former = FormerAccount(user.id, user.username, user.email)
    # The name and address go first: an event the steps below publish (a comment's state)
    # finds no way to the person any more.
    _anonymise(user, now)
    session.flush()
    removed, kept = _comments(session, user, choice, now)
    ballots = int(
        session.scalar(select(func.count()).select_from(Ballot).where(Ballot.user_id == user.id))
        or 0
    )
    for eraser in account_erasers.values():
        eraser.erase(session, former)
    end_sessions(session, user)
    record_action(
        session, user, "user", user.id, "delete_account", "active", "deleted", note=choice.value
    )
    session.flush()
    return DeletionReport(user.id, removed, kept, ballots)


def _comments(
    session: Session, user: User, choice: CommentChoice, now: datetime
) -> tuple[int, int]:
    comments = list(
        session.scalars(select(Comment).where(Comment.author_id == user.id).order_by(Comment.id))
    )
    if choice is CommentChoice.KEEP:
        for comment in comments:
            if comment.state is CommentState.PUBLISHED:
                touch_article(session, comment.article_id)  # the thread shows the new name
        return 0, len(comments)
    for comment in comments:
        if comment.state in (CommentState.PUBLISHED, CommentState.HELD):
            transition(session, comment, CommentState.DELETED, "account_deleted", user, now=now)
        erase_body(comment, ERASED_WITH_ACCOUNT, now)
    if comments:
        forget_spans(session, [comment.id for comment in comments])
    return len(comments), 0


def erase_body(comment: Comment, placeholder: str, now: datetime) -> None:
    """Replace a comment's text by a placeholder for good (its row and state stay)."""
    comment.body = placeholder
    comment.body_erased_at = now


def forget_spans(session: Session, comment_ids: list[int]) -> None:
    """Flags point into a text that is gone: keep their reasons, drop their spans."""
    session.execute(
        update(Flag).where(Flag.comment_id.in_(comment_ids)).values(span_start=None, span_end=None)
    )


@register_eraser("ballots", covers=[("ballots", "user_id")])
def _unlink_ballots(session: Session, former: FormerAccount) -> None:
    ballots = list(session.scalars(select(Ballot).where(Ballot.user_id == former.user_id)))
    for ballot in ballots:
        # A random key per ballot: unique per poll as the constraint wants, tied to nobody.
        ballot.voter_key = "x:" + secrets.token_hex(16)
        ballot.user_id = None
        ballot.show_badge = False  # an unlinked ballot is nobody's: no vote badge


@register_eraser("reactions", covers=[("reactions", "user_id")])
def _reactions(session: Session, former: FormerAccount) -> None:
    # The rows go and the counters they counted in go down, in this transaction.
    remove_readers_reactions(session, former.user_id)


@register_eraser("appeals_and_reports", covers=[("appeals", "author_id")])
def _appeals_and_reports(session: Session, former: FormerAccount) -> None:
    pending = session.scalar(
        select(func.count())
        .select_from(Appeal)
        .where(Appeal.author_id == former.user_id, Appeal.state == AppealState.PENDING)
    )
    session.execute(delete(Appeal).where(Appeal.author_id == former.user_id))
    session.execute(update(Report).where(Report.reporter_id == former.user_id).values(note=None))
    if pending:
        adjust_queue(session, APPEALS, -int(pending))


@register_eraser("audit_notes")
def _audit_notes(session: Session, former: FormerAccount) -> None:
    token_ids = [
        str(token_id)
        for token_id in session.scalars(
            select(ApiToken.id).where(ApiToken.user_id == former.user_id)
        )
    ]
    about_user = (ModerationAction.target_type == "user") & (
        ModerationAction.target_id == str(former.user_id)
    )
    about_tokens = (ModerationAction.target_type == "api_token") & (
        ModerationAction.target_id.in_(token_ids)
    )
    session.execute(
        update(ModerationAction)
        .where(or_(about_user, about_tokens) if token_ids else about_user)
        .values(note=None)
    )


@register_eraser(
    "sign_ins",
    covers=[
        ("api_tokens", "user_id"),
        ("remember_tokens", "user_id"),
        ("embed_sessions", "user_id"),
        ("sso_identities", "user_id"),
    ],
)
def _sign_ins(session: Session, former: FormerAccount) -> None:
    # After audit_notes, which reads the API tokens' ids.
    for model in (ApiToken, RememberToken, EmbedSession, SsoIdentity):
        session.execute(delete(model).where(model.user_id == former.user_id))


@register_eraser("notes_about_the_account", covers=[("user_notes", "user_id")])
def _notes(session: Session, former: FormerAccount) -> None:
    session.execute(delete(UserNote).where(UserNote.user_id == former.user_id))


@register_eraser("outbox", covers=[("outbox_messages", "user_id")])
def _outbox(session: Session, former: FormerAccount) -> None:
    # Mail to the person, sent or waiting, by account or by address (a mail before the account
    # existed, e.g. "someone registered with your address"); webhooks carry no user.
    to_person = or_(
        OutboxMessage.user_id == former.user_id,
        OutboxMessage.recipient_key == former.email.casefold(),
    )
    ids = select(OutboxMessage.id).where(to_person).scalar_subquery()
    session.execute(delete(OutboxAttempt).where(OutboxAttempt.message_id.in_(ids)))
    session.execute(delete(OutboxMessage).where(to_person))


def _anonymise(user: User, now: datetime) -> None:
    user.username = DELETED_NAME
    user.username_key = f"{_KEY_MARK}deleted-{user.id}"
    user.email = f"deleted-{user.id}-{secrets.token_hex(8)}@deleted.invalid"
    user.password_hash = NO_PASSWORD
    user.password_login = False
    user.is_active = False
    user.role = Role.FAN
    user.last_login_at = None
    user.banned_until = None
    user.ban_reason = None
    user.deleted_at = now
