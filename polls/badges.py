"""Vote badges: a member's choice in an article's poll beside their name on every comment they
post under that article ("stemde: Ja"), and the thread filter by choice.

Opt-in twice over: the account setting `users.show_vote_badge` (on: every ballot of the member
shows; off: none) and, per poll, the checkbox beside the vote (`ballots.show_badge`, prefilled
from the setting). A badge is computed when the thread is read, from the ballot as it is then:
only a member's ballot (`user_id` set; anonymous voter-token ballots never have one, and
account deletion empties it), with `show_badge` on and not in quarantine. So it cannot go stale;
every change to those columns retires the article's cached thread pages (touch_article).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from caching import touch_article
from errors import Invalid
from models import Ballot, BallotChoice, Poll, PollOption, User
from parsing import is_id_text


def _shown(article_id: int) -> Select:
    """(user_id, option id, label) of every badge that shows under the article."""
    return (
        select(Ballot.user_id, PollOption.id, PollOption.label)
        .join(BallotChoice, BallotChoice.ballot_id == Ballot.id)
        .join(PollOption, PollOption.id == BallotChoice.option_id)
        .join(Poll, Poll.id == Ballot.poll_id)
        .where(
            Poll.article_id == article_id,
            Ballot.user_id.is_not(None),
            Ballot.show_badge.is_(True),
            Ballot.quarantined_at.is_(None),
        )
    )


def badges_for(
    session: Session, article_id: int, author_ids: Iterable[int]
) -> dict[int, list[tuple[int, str]]]:
    """The shown choices (option id, label) per author among `author_ids`: one query."""
    ids = sorted(set(author_ids))
    if not ids:
        return {}
    rows = session.execute(
        _shown(article_id)
        .where(Ballot.user_id.in_(ids))
        .order_by(Ballot.user_id, Poll.id, PollOption.position)
    )
    found: dict[int, list[tuple[int, str]]] = {}
    for user_id, option_id, label in rows:
        found.setdefault(user_id, []).append((option_id, label))
    return found


def voters_subquery(article_id: int, option_id: int) -> Select:
    """The members whose badge shows `option_id` (the thread filter `?stemde=`)."""
    return _shown(article_id).with_only_columns(Ballot.user_id).where(PollOption.id == option_id)


def article_option(session: Session, article_id: int, raw: object) -> PollOption:
    """The option of one of the article's polls that `?stemde=` names, or 422."""
    option = None
    if isinstance(raw, str) and is_id_text(raw):
        option = session.scalar(
            select(PollOption)
            .join(Poll, Poll.id == PollOption.poll_id)
            .where(PollOption.id == int(raw), Poll.article_id == article_id)
        )
    if option is None:
        raise Invalid(
            "invalid_parameter", "stemde moet een antwoord van een peiling bij dit artikel zijn."
        )
    return option


def show_on_ballot(session: Session, poll_id: int, user_id: int, show: bool) -> bool:
    """Show (or hide) the member's choice in one poll; False when they have no ballot there."""
    moved = session.scalar(
        update(Ballot)
        .where(Ballot.poll_id == poll_id, Ballot.user_id == user_id)
        .values(show_badge=show)
        .returning(Ballot.id)
        .execution_options(synchronize_session=False)
    )
    if moved is None:
        return False
    touch_article(session, session.scalars(select(Poll.article_id).where(Poll.id == poll_id)).one())
    return True


def set_vote_badge(session: Session, user: User, show: bool) -> int:
    """The account setting: every ballot of the member shows its choice, or none does (each
    poll's checkbox changes one afterwards). How many ballots it concerned."""
    user.show_vote_badge = show
    polls = list(
        session.scalars(
            update(Ballot)
            .where(Ballot.user_id == user.id, Ballot.show_badge.is_not(show))
            .values(show_badge=show)
            .returning(Ballot.poll_id)
            .execution_options(synchronize_session=False)
        )
    )
    if polls:
        for article_id in session.scalars(
            select(Poll.article_id).where(Poll.id.in_(set(polls))).distinct()
        ):
            touch_article(session, article_id)
    session.flush()
    return len(polls)


def record_badge_choice(
    session: Session, poll_id: int, user_id: int | None, created: bool, show: bool | None
) -> bool | None:
    """The voter's badge choice with their vote: a member's new ballot shows when `show`; an
    existing one changes when `show` is given. Anonymous ballots never show. The ballot's
    resulting show_badge (None: unknown, unchanged)."""
    if user_id is None:
        return False
    if show is None:
        return None if not created else False
    if created and not show:
        return False  # a new ballot starts hidden: no write
    show_on_ballot(session, poll_id, user_id, show)
    return show


def badge_shown(session: Session, ballot_id: int) -> bool:
    """Whether the ballot shows its choice (its stored choice; quarantine aside)."""
    return bool(session.scalar(select(Ballot.show_badge).where(Ballot.id == ballot_id)))


def badge_options(session: Session, article_id: int) -> list[tuple[int, str, int]]:
    """The answers of the article's polls that some shown badge carries: (option id, label,
    how many members show it), for the thread's "reacties van …-stemmers" links."""
    rows = session.execute(
        _shown(article_id)
        .with_only_columns(PollOption.id, PollOption.label, func.count())
        .group_by(Poll.id, PollOption.id, PollOption.position, PollOption.label)
        .order_by(Poll.id, PollOption.position)
    )
    return [(option_id, label, count) for option_id, label, count in rows]
