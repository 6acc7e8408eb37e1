"""Everything Tribune holds about one account, as one JSON document ("Mijn gegevens").

The document is built from a registry of sections (`export_sections`): each section is a
function (session, user) -> JSON-ready value, registered under a name with the (table, column)
pairs referencing users.id whose rows it lists. Another package adds its own rows the same way,
e.g. the notification settings:

    from privacy.export import register_section

    @register_section("notification_settings", covers={("notification_settings", "user_id"): ""})
    def _notification_settings(session, user):
        return [{"id": row.id, "kind": row.kind, "frequency": row.frequency} for row in ...]

`covers` maps each (table, column) to the key inside the section that lists those rows ("" when
the section itself is the list); every listed row carries its primary key as "id".
tests/test_gdpr_export.py fails when a table with a column referencing users.id is covered by no
section, and when a row of the fan's is missing from the document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from comments.reactions import readers_reactions
from models import (
    ApiToken,
    Appeal,
    Article,
    Ballot,
    BallotChoice,
    Comment,
    EmbedSession,
    Flag,
    LexiconEntry,
    MatchDayWindow,
    ModerationAction,
    OutboxMessage,
    PlayerRating,
    Poll,
    PollOption,
    PollPlayer,
    RememberToken,
    Report,
    ScorePrediction,
    SsoIdentity,
    User,
    UserNote,
    utcnow,
)

EXPORT_FORMAT = "tribune-export/1"
Json = Any
SectionBuilder = Callable[[Session, User], Json]


@dataclass(frozen=True)
class ExportSection:
    """One named part of the export and the user-referencing columns whose rows it lists."""

    name: str
    build: SectionBuilder
    covers: Mapping[tuple[str, str], str]


# Section name → section, in the order they appear in the document.
export_sections: dict[str, ExportSection] = {}


def register_section(
    name: str, covers: Mapping[tuple[str, str], str] | None = None
) -> Callable[[SectionBuilder], SectionBuilder]:
    """Add a section to every export (a later registration under the same name replaces it)."""

    def record(build: SectionBuilder) -> SectionBuilder:
        export_sections[name] = ExportSection(name, build, dict(covers or {}))
        return build

    return record


def covered_columns() -> dict[tuple[str, str], tuple[str, str]]:
    """(table, column) → (section, key inside it) for every column some section lists."""
    return {
        column: (section.name, key)
        for section in export_sections.values()
        for column, key in section.covers.items()
    }


def export_user_data(session: Session, user: User, now: datetime | None = None) -> dict[str, Json]:
    """The whole export of `user`: format, time, then every registered section."""
    document: dict[str, Json] = {
        "format": EXPORT_FORMAT,
        "exported_at": _time(now or utcnow()),
    }
    for name, section in export_sections.items():
        document[name] = section.build(session, user)
    return document


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _value(member: Any) -> Any:
    return member.value if member is not None else None


# ---------------------------------------------------------------- Tribune's own sections


@register_section("account")
def _account(session: Session, user: User) -> Json:
    history = session.scalars(
        select(ModerationAction)
        .where(ModerationAction.target_type == "user", ModerationAction.target_id == str(user.id))
        .order_by(ModerationAction.created_at, ModerationAction.id)
    )
    account: dict[str, Json] = {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role.value,
        "active": user.is_active,
        "password_login": user.password_login,
        "created_at": _time(user.created_at),
        "last_login_at": _time(user.last_login_at),
        "banned_until": _time(user.banned_until),
        "ban_reason": user.ban_reason,
        "show_vote_badge": user.show_vote_badge,
        "comment_counts": {
            "published": user.published_count,
            "held": user.held_count,
            "rejected": user.rejected_count,
        },
        # Suspensions, bans, their lifting, role and status changes: the audit rows about the
        # account (without the moderator who acted).
        "history": [
            {
                "id": row.id,
                "action": row.action,
                "from_state": row.from_state,
                "to_state": row.to_state,
                "reason": row.reason_code,
                "note": row.note,
                "created_at": _time(row.created_at),
            }
            for row in history
        ],
    }
    # Columns another package may add to users (e.g. a verified e-mail address).
    for column in ("email_verified_at", "email_verified"):
        if column in User.__table__.c:
            value = getattr(user, column)
            account[column] = _time(value) if isinstance(value, datetime) else value
    return account


@register_section("comments", covers={("comments", "author_id"): ""})
def _comments(session: Session, user: User) -> Json:
    rows = session.execute(
        select(Comment, Article.cms_id, Article.title)
        .join(Article, Article.id == Comment.article_id)
        .where(Comment.author_id == user.id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    reasons: dict[int, list[str]] = {}
    if rows:
        for comment_id, reason in session.execute(
            select(Flag.comment_id, Flag.reason)
            .join(Comment, Comment.id == Flag.comment_id)
            .where(Comment.author_id == user.id)
            .order_by(Flag.id)
        ):
            found = reasons.setdefault(comment_id, [])
            if reason.value not in found:
                found.append(reason.value)
    return [
        {
            "id": comment.id,
            "article_id": cms_id,
            "article_title": title,
            "parent_id": comment.parent_id,
            "body": comment.body,
            "state": comment.state.value,
            "reasons": reasons.get(comment.id, []),
            "decision_reason": _value(comment.decision_reason),
            "decision_note": comment.decision_note,
            "created_at": _time(comment.created_at),
            "edited_at": _time(comment.edited_at),
            "updated_at": _time(comment.updated_at),
            "body_erased_at": _time(comment.body_erased_at),
        }
        for comment, cms_id, title in rows
    ]


@register_section("reports", covers={("reports", "reporter_id"): ""})
def _reports(session: Session, user: User) -> Json:
    reports = session.scalars(
        select(Report).where(Report.reporter_id == user.id).order_by(Report.created_at, Report.id)
    )
    return [
        {
            "id": report.id,
            "comment_id": report.comment_id,
            "reason": report.reason.value,
            "note": report.note,
            "outcome": report.outcome.value,
            "created_at": _time(report.created_at),
            "resolved_at": _time(report.resolved_at),
        }
        for report in reports
    ]


@register_section("reactions", covers={("reactions", "user_id"): ""})
def _reactions(session: Session, user: User) -> Json:
    return [
        {"id": r.id, "comment_id": r.comment_id, "created_at": _time(r.created_at)}
        for r in readers_reactions(session, user.id)
    ]


@register_section("appeals", covers={("appeals", "author_id"): ""})
def _appeals(session: Session, user: User) -> Json:
    appeals = session.scalars(
        select(Appeal).where(Appeal.author_id == user.id).order_by(Appeal.created_at, Appeal.id)
    )
    return [
        {
            "id": appeal.id,
            "comment_id": appeal.comment_id,
            "body": appeal.body,
            "state": appeal.state.value,
            "created_at": _time(appeal.created_at),
            "decided_at": _time(appeal.decided_at),
            "decision_note": appeal.decision_note,
        }
        for appeal in appeals
    ]


@register_section("ballots", covers={("ballots", "user_id"): ""})
def _ballots(session: Session, user: User) -> Json:
    rows = session.execute(
        select(Ballot, Poll.question, Article.cms_id)
        .join(Poll, Poll.id == Ballot.poll_id)
        .join(Article, Article.id == Poll.article_id)
        .where(Ballot.user_id == user.id)
        .order_by(Ballot.created_at, Ballot.id)
    ).all()
    choices: dict[int, list[str]] = {}
    if rows:
        for ballot_id, label in session.execute(
            select(BallotChoice.ballot_id, PollOption.label)
            .join(PollOption, PollOption.id == BallotChoice.option_id)
            .join(Ballot, Ballot.id == BallotChoice.ballot_id)
            .where(Ballot.user_id == user.id)
            .order_by(BallotChoice.ballot_id, PollOption.position)
        ):
            choices.setdefault(ballot_id, []).append(label)
    ratings: dict[int, list[Json]] = {}
    if rows:
        for ballot_id, name, number, score in session.execute(
            select(
                PlayerRating.ballot_id,
                PollPlayer.name,
                PollPlayer.shirt_number,
                PlayerRating.score,
            )
            .join(PollPlayer, PollPlayer.id == PlayerRating.player_id)
            .join(Ballot, Ballot.id == PlayerRating.ballot_id)
            .where(Ballot.user_id == user.id)
            .order_by(PlayerRating.ballot_id, PollPlayer.position)
        ):
            ratings.setdefault(ballot_id, []).append(
                {"player": name, "shirt_number": number, "score": score}
            )
    predictions: dict[int, Json] = {}
    if rows:
        for prediction, home, away, competition in session.execute(
            select(ScorePrediction, Poll.home_team, Poll.away_team, Poll.competition)
            .join(Ballot, Ballot.id == ScorePrediction.ballot_id)
            .join(Poll, Poll.id == Ballot.poll_id)
            .where(Ballot.user_id == user.id)
        ):
            predictions[prediction.ballot_id] = {
                "match": f"{home} - {away}",
                "competition": competition,
                "home_goals": prediction.home_goals,
                "away_goals": prediction.away_goals,
                "points": prediction.points,
            }
    return [
        {
            "id": ballot.id,
            "poll_id": ballot.poll_id,
            "poll_question": question,
            "article_id": cms_id,
            "choices": choices.get(ballot.id, []),
            # A player_ratings poll: the scores this ballot gave.
            "ratings": ratings.get(ballot.id, []),
            # A score_prediction poll: the predicted score and its points (null: no result yet).
            "prediction": predictions.get(ballot.id),
            "counted": ballot.quarantined_at is None,
            "show_badge": ballot.show_badge,
            # A keyed hash of the IP address (never the address), erased after
            # TRIBUNE_RETAIN_IP_DAYS; only whether one is kept is of use to its owner.
            "ip_hash_kept": ballot.ip_hash is not None,
            "created_at": _time(ballot.created_at),
        }
        for ballot, question, cms_id in rows
    ]


@register_section("api_tokens", covers={("api_tokens", "user_id"): ""})
def _api_tokens(session: Session, user: User) -> Json:
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    )
    # Never the token or its hash: names, scopes and times only.
    return [
        {
            "id": token.id,
            "name": token.name,
            "scopes": sorted(scope.value for scope in token.scope_set),
            "created_at": _time(token.created_at),
            "last_used_at": _time(token.last_used_at),
            "revoked_at": _time(token.revoked_at),
            "revoked_reason": _value(token.revoked_reason),
        }
        for token in tokens
    ]


@register_section(
    "sessions",
    covers={
        ("remember_tokens", "user_id"): "remember_tokens",
        ("embed_sessions", "user_id"): "embed_sessions",
    },
)
def _sessions(session: Session, user: User) -> Json:
    remembered = list(
        session.scalars(
            select(RememberToken).where(RememberToken.user_id == user.id).order_by(RememberToken.id)
        )
    )
    embeds = list(
        session.scalars(
            select(EmbedSession).where(EmbedSession.user_id == user.id).order_by(EmbedSession.id)
        )
    )
    # The browsers that stay signed in ("aangemeld blijven") and the comments embed's tokens;
    # never their secrets or hashes.
    return {
        "remember_count": len(remembered),
        "embed_session_count": len(embeds),
        "remember_tokens": [
            {
                "id": token.id,
                "created_at": _time(token.created_at),
                "used_at": _time(token.used_at),
                "expires_at": _time(token.expires_at),
            }
            for token in remembered
        ],
        "embed_sessions": [
            {
                "id": embed.id,
                "via": embed.via.value,
                "created_at": _time(embed.created_at),
                "expires_at": _time(embed.expires_at),
                "revoked_at": _time(embed.revoked_at),
            }
            for embed in embeds
        ],
    }


@register_section("sso_identities", covers={("sso_identities", "user_id"): ""})
def _sso_identities(session: Session, user: User) -> Json:
    identities = session.scalars(select(SsoIdentity).where(SsoIdentity.user_id == user.id))
    return [
        {
            "id": identity.id,
            "issuer": identity.issuer,
            "subject": identity.subject,
            "name": identity.name,
            "email": identity.email,
            "created_at": _time(identity.created_at),
            "last_seen_at": _time(identity.last_seen_at),
        }
        for identity in identities
    ]


@register_section("notes_about_you", covers={("user_notes", "user_id"): ""})
def _notes_about_you(session: Session, user: User) -> Json:
    notes = session.scalars(
        select(UserNote).where(UserNote.user_id == user.id).order_by(UserNote.created_at)
    )
    # Moderators' notes on the account, without the moderator who wrote them.
    return [
        {"id": note.id, "body": note.body, "created_at": _time(note.created_at)} for note in notes
    ]


@register_section("messages", covers={("outbox_messages", "user_id"): ""})
def _messages(session: Session, user: User) -> Json:
    messages = session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == user.id).order_by(OutboxMessage.id)
    )
    # The mails Tribune wrote to the account: what, to which address, and whether it left.
    return [
        {
            "id": message.id,
            "channel": message.channel.value,
            "kind": message.kind,
            "recipient": message.recipient,
            "state": message.state.value,
            "created_at": _time(message.created_at),
            "sent_at": _time(message.sent_at),
        }
        for message in messages
    ]


@register_section(
    "staff_activity",
    covers={
        ("moderation_actions", "actor_id"): "actions",
        ("polls", "created_by_id"): "polls_created",
        ("match_day_windows", "created_by_id"): "match_day_windows_created",
        ("lexicon_entries", "created_by_id"): "word_list_changes",
        ("appeals", "decided_by_id"): "appeals_decided",
        ("user_notes", "author_id"): "notes_written",
        ("comments", "featured_by_id"): "comments_featured",
    },
)
def _staff_activity(session: Session, user: User) -> Json:
    """What the account did in Tribune: its audit rows (a fan's too: posts, deletions, appeals)
    and, for staff, what it created or decided. Rows about other people are named by id only."""
    actions = session.scalars(
        select(ModerationAction)
        .where(ModerationAction.actor_id == user.id)
        .order_by(ModerationAction.created_at, ModerationAction.id)
    )
    polls = session.scalars(select(Poll).where(Poll.created_by_id == user.id).order_by(Poll.id))
    windows = session.scalars(
        select(MatchDayWindow)
        .where(MatchDayWindow.created_by_id == user.id)
        .order_by(MatchDayWindow.id)
    )
    words = session.scalars(
        select(LexiconEntry).where(LexiconEntry.created_by_id == user.id).order_by(LexiconEntry.id)
    )
    decided = session.scalars(
        select(Appeal).where(Appeal.decided_by_id == user.id).order_by(Appeal.id)
    )
    written = session.scalars(
        select(UserNote).where(UserNote.author_id == user.id).order_by(UserNote.id)
    )
    featured = session.scalars(
        select(Comment).where(Comment.featured_by_id == user.id).order_by(Comment.id)
    )
    return {
        "actions": [
            {
                "id": row.id,
                "action": row.action,
                "target_type": row.target_type,
                "target_id": row.target_id,
                "from_state": row.from_state,
                "to_state": row.to_state,
                "created_at": _time(row.created_at),
            }
            for row in actions
        ],
        "polls_created": [
            {"id": poll.id, "question": poll.question, "created_at": _time(poll.created_at)}
            for poll in polls
        ],
        "match_day_windows_created": [
            {
                "id": window.id,
                "mode": window.mode.value,
                "starts_at": _time(window.starts_at),
                "ends_at": _time(window.ends_at),
            }
            for window in windows
        ],
        "word_list_changes": [
            {
                "id": entry.id,
                "action": entry.action.value,
                "word": entry.word,
                "created_at": _time(entry.created_at),
            }
            for entry in words
        ],
        "appeals_decided": [
            {
                "id": appeal.id,
                "comment_id": appeal.comment_id,
                "decided_at": _time(appeal.decided_at),
            }
            for appeal in decided
        ],
        "notes_written": [
            {"id": note.id, "user_id": note.user_id, "created_at": _time(note.created_at)}
            for note in written
        ],
        # Comments this account marked "Uitgelicht" (someone else's, by id only).
        "comments_featured": [
            {"id": comment.id, "featured_at": _time(comment.featured_at)} for comment in featured
        ],
    }
