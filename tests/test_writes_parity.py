"""Every hot writer writes what the plain path writes (writes/'s contract).

Parametrised over writes.registry: a writer added there is covered here. Post writers are held
to moderation.comment_states.transition() (the comment, its flags, the audit row, every
counter); vote writers to the plain Core writer and to what a vote must do (the ballot and its
choices, suspicion, the option, poll and article counters, the answer), over votes the guard
takes and votes it refuses. Each writer runs on every dialect it serves among the suite's
database and PostgreSQL (on a SQLite suite a throwaway database on the postgres_server, which
skips locally and fails in CI when absent).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from caching import ThreadCache
from db import begin_write, make_engine
from migrations import upgrade_database
from models import (
    Article,
    Ballot,
    BallotChoice,
    Comment,
    CommentState,
    Flag,
    ModerationAction,
    Poll,
    PollOption,
    ReasonCode,
    User,
    VoterScope,
    utcnow,
)
from moderation.comment_states import NewComment, PostedComment, post_rows, transition
from polls.voting import VoteContext, Voter, vote_statements, write_vote
from tests.conftest import _backend
from tests.factories import (
    assert_no_drift,
    audit_trail,
    changes,
    counters,
    module_database,
    reload,
    state_change,
)
from tests.polls_fixtures import create_poll
from writes.registry import POST_WRITERS, VOTE_WRITERS, serves
from writes.votes_core import CoreVoteWriter

# The suite's database, and PostgreSQL beside a SQLite suite (CI runs both suites).
DIALECTS = (_backend(),) + (("postgresql",) if _backend() == "sqlite" else ())


def _cases(writers: tuple[type[Any], ...]) -> list[Any]:
    return [
        pytest.param(writer, dialect, id=f"{writer.__name__}-{dialect}")
        for writer in writers
        for dialect in DIALECTS
        if serves(writer, dialect)
    ]


@pytest.fixture(scope="module")
def sessions(
    request: pytest.FixtureRequest,
    database_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], Session]]:
    """A session factory per dialect, on one migrated database each for the module."""
    made: dict[str, sessionmaker[Session]] = {}
    with ExitStack() as stack:

        def session_on(dialect: str) -> Session:
            if dialect not in made:
                if dialect == _backend():
                    url = stack.enter_context(
                        module_database(request, database_template, tmp_path_factory)
                    )
                else:
                    server = request.getfixturevalue("postgres_server")
                    name = server.create("parity")
                    stack.callback(server.drop, name)
                    url = server.url_for(name)
                    upgrade_database(url)
                engine = make_engine(url)
                stack.callback(engine.dispose)
                made[dialect] = sessionmaker(bind=engine, expire_on_commit=False)
                ThreadCache.listen(made[dialect])  # as the app's sessions: versions on commit
            session = made[dialect]()
            stack.callback(session.close)
            return session

        yield session_on


_numbers = itertools.count(1)


def _article_and_author(session: Session) -> tuple[Article, User]:
    n = next(_numbers)
    article = Article(cms_id=f"pariteit-{n}", title=f"Pariteit {n}")
    author = User(
        username=f"schrijver{n}",
        username_key=f"schrijver{n}",
        email=f"schrijver{n}@example.test",
        password_hash="x",
    )
    session.add_all([article, author])
    session.commit()
    return article, author


# ---------------------------------------------------------------- posting


FLAGS = [
    {
        "code": "profanity",
        "reason": ReasonCode.BELEDIGEND,
        "severity": 2,
        "detail": "kanker",
        "span_start": 4,
        "span_end": 10,
    },
    {
        "code": "shouting",
        "reason": ReasonCode.SPAM,
        "severity": 1,
        "detail": None,
        "span_start": None,
        "span_end": None,
    },
]


def _stored_comment(session: Session, comment_id: int) -> dict[str, Any]:
    """A stored comment's rows that do not depend on which path wrote it (ids aside)."""
    stored = reload(session, Comment, comment_id)
    return {
        **{
            column.key: getattr(stored, column.key)
            for column in Comment.__table__.columns
            if column.key not in ("id", "article_id", "author_id")
        },
        "flags": [
            (f.code, f.reason, f.severity, f.detail, f.span_start, f.span_end, f.created_at)
            for f in stored.flags
        ],
        # record_action stamps its own time (not the post's): the time is left out.
        "audit": [
            (row.actor_id, row.action, row.from_state, row.to_state, row.reason_code, row.note)
            for row in _audit_rows(session, comment_id)
        ],
    }


def _audit_rows(session: Session, comment_id: int) -> list[Any]:
    return list(
        session.scalars(
            select(ModerationAction).where(
                ModerationAction.target_type == "comment",
                ModerationAction.target_id == str(comment_id),
            )
        )
    )


def test_a_posted_comment_has_every_column_of_a_comment() -> None:
    """post_new_comment's record stands for a Comment: same names, nothing left out."""
    assert [f.name for f in fields(PostedComment)] == [c.key for c in Comment.__table__.columns]


@pytest.mark.parametrize("to_state", ["published", "held", "rejected"])
@pytest.mark.parametrize(("writer_class", "dialect"), _cases(POST_WRITERS))
def test_a_post_writer_writes_what_the_transition_writes(
    sessions: Callable[[str], Session], writer_class: type[Any], dialect: str, to_state: str
) -> None:
    """The rows comment_states decides for a post, written by the writer, equal what
    transition() stores for the same comment: columns, flags, audit row, counters."""
    session = sessions(dialect)
    writer = writer_class(session.get_bind().dialect)
    state = CommentState(to_state)
    reason = ReasonCode.BELEDIGEND if state is CommentState.REJECTED else None
    flags = [] if state is CommentState.PUBLISHED else FLAGS
    now = utcnow()
    results = []
    for path in ("transition", "writer"):
        article, author = _article_and_author(session)
        before = counters(session, article, author)
        begin_write(session)
        if path == "transition":
            comment = Comment(article_id=article.id, author_id=author.id, body="Tekst hier")
            comment.flags = [Flag(**flag, created_at=now) for flag in flags]
            strongest = max(flags, key=lambda f: f["severity"], default=None)
            comment.top_severity = strongest["severity"] if strongest else 0
            comment.top_reason = strongest["reason"] if strongest else None
            transition(session, comment, state, "post", None, reason=reason, now=now)
            comment_id = comment.id
        else:
            new = NewComment(article_id=article.id, author_id=author.id, body="Tekst hier")
            _, rows = post_rows(new, flags, state, reason, now)
            comment_id = writer.write(session, rows, None)
        session.commit()
        author_row = reload(session, User, author.id)
        results.append(
            (
                _stored_comment(session, comment_id),
                changes(before, counters(session, article, author)),
                author_row.last_rejected_at,
                reload(session, Article, article.id).thread_version,
            )
        )

    assert results[1] == results[0]
    assert results[0][1] == state_change("new", to_state, "post")
    assert results[0][2] == (now if state is CommentState.REJECTED else None)
    assert audit_trail(session, comment_id) == [("post", "new", to_state, None)]
    assert_no_drift(session)


# ---------------------------------------------------------------- voting


def _vote_world(session: Session, now: datetime, **poll_fields: Any) -> dict[str, Any]:
    """A fresh article with one poll (three options), a member, and a poll elsewhere."""
    article, member = _article_and_author(session)
    closes_at = poll_fields.pop("closes_at", None)  # an editor cannot set a past one
    poll = create_poll(session, article, **poll_fields)
    if closes_at is not None:
        poll.closes_at = closes_at
        session.commit()
    other = create_poll(session, article, question="Een andere vraag?")
    return {
        "article": article,
        "poll": poll,
        "options": [o.id for o in poll.options],
        "foreign": other.options[0].id,
        "member": member,
    }


# Each case: the poll's settings, then the votes: (voter, option positions, context).
# A voter is "a:<name>" (anonymous) or "member"; position -1 is an option of another poll.
ALLOWANCE_1 = {"ip_hash": "ip-1", "ip_allowance": 1}
VOTE_CASES: dict[str, tuple[dict[str, Any], list[tuple[str, list[int], dict[str, Any]]]]] = {
    "one-choice": ({}, [("a:een", [0], {})]),
    "multiple-choices": ({"max_choices": 3}, [("a:een", [2, 0], {}), ("a:twee", [1], {})]),
    "member": ({}, [("member", [1], {})]),
    "ip-allowance": (
        {},
        [("a:een", [0], ALLOWANCE_1), ("a:twee", [1], ALLOWANCE_1), ("a:drie", [1], {})],
    ),
    "burst": ({}, [("a:een", [0], {"burst": True}), ("member", [0], {"burst": True})]),
    "repeat-voter": ({}, [("a:een", [0], {}), ("a:een", [1], {})]),
    "closed": ({"closes_at": -1}, [("a:een", [0], {})]),
    "scheduled": ({"opens_at": +1}, [("a:een", [0], {})]),
    "members-only": ({"voter_scope": VoterScope.LOGGED_IN}, [("a:een", [0], {})]),
    "members-only-member": ({"voter_scope": VoterScope.LOGGED_IN}, [("member", [0], {})]),
    "too-many-choices": ({"max_choices": 2}, [("a:een", [0, 1, 2], {})]),
    "foreign-option": ({}, [("a:een", [0, -1], {})]),
}
# What the guard takes, per case: one flag per vote.
TAKEN = {
    "one-choice": [True],
    "multiple-choices": [True, True],
    "member": [True],
    "ip-allowance": [True, True, True],
    "burst": [True, True],
    "repeat-voter": [True, False],
    "closed": [False],
    "scheduled": [False],
    "members-only": [False],
    "members-only-member": [True],
    "too-many-choices": [False],
    "foreign-option": [False],
}
SUSPICIONS = {"ip-allowance": [None, "ip_allowance", None], "burst": ["burst", None]}


def _run_votes(session: Session, writer: Any, case: str, now: datetime) -> dict[str, Any]:
    """The case's votes through the writer (with the rules' suspicion), and what they left."""
    settings, votes = VOTE_CASES[case]
    poll_fields = dict(settings)
    for name in ("opens_at", "closes_at"):
        if name in poll_fields:
            poll_fields[name] = now + timedelta(days=poll_fields[name])
    world = _vote_world(session, now, **poll_fields)
    poll_id, options = world["poll"].id, world["options"]
    stmts = vote_statements(session.get_bind().dialect.name)
    answers = []
    for key, positions, context_fields in votes:
        member = world["member"]
        voter = Voter(f"u:{member.id}", member.id) if key == "member" else Voter(key)
        context = VoteContext(**{"ip_hash": None, "ip_allowance": 0, **context_fields})
        ordered = sorted(options[p] if p >= 0 else world["foreign"] for p in positions)
        begin_write(session)
        outcome = write_vote(writer, session, stmts, poll_id, ordered, voter, context, now, None)
        session.commit()
        answers.append(None if outcome is None else _answer(outcome, options, world))
    ballots = session.scalars(
        select(Ballot).where(Ballot.poll_id == poll_id).order_by(Ballot.id)
    ).all()
    return {
        "answers": answers,
        "ballots": [
            (
                "member" if b.user_id is not None else b.voter_key,
                b.ip_hash,
                b.created_at,
                b.is_suspicious,
                b.suspicion,
                b.quarantined_at,
                sorted(
                    options.index(option_id)
                    for option_id in session.scalars(
                        select(BallotChoice.option_id).where(BallotChoice.ballot_id == b.id)
                    )
                ),
            )
            for b in ballots
        ],
        "option_counts": [reload(session, PollOption, o).vote_count for o in options],
        "ballot_count": reload(session, Poll, poll_id).ballot_count,
        "article_votes": reload(session, Article, world["article"].id).vote_count,
    }


def _answer(outcome: Any, options: list[int], world: dict[str, Any]) -> tuple[Any, ...]:
    """The vote's answer without the ids that differ between runs."""
    poll = outcome.poll
    return (
        outcome.created,
        outcome.created_at,
        sorted(options.index(o) for o in outcome.option_ids),
        poll.id == world["poll"].id,
        poll.article_id == world["article"].id,
        poll.article_cms_id == world["article"].cms_id,
        poll.created_at == world["poll"].created_at,
        {
            f.name: getattr(poll, f.name)
            for f in fields(poll)
            if f.name not in ("id", "article_id", "article_cms_id", "options", "created_at")
        },
        [(options.index(o.id), o.label, o.vote_count) for o in poll.options],
    )


@pytest.mark.parametrize("case", list(VOTE_CASES))
@pytest.mark.parametrize(("writer_class", "dialect"), _cases(VOTE_WRITERS))
def test_a_vote_writer_writes_what_the_plain_path_writes(
    sessions: Callable[[str], Session], writer_class: type[Any], dialect: str, case: str
) -> None:
    """The same votes through the writer and through the plain Core writer leave the same
    ballots, choices, counters and answers; and those are what the votes must leave."""
    session = sessions(dialect)
    dialect_object = session.get_bind().dialect
    now = utcnow().replace(microsecond=0)

    written = _run_votes(session, writer_class(dialect_object), case, now)
    plain = _run_votes(session, CoreVoteWriter(dialect_object), case, now)

    assert written == plain
    taken = TAKEN[case]
    assert [answer is not None for answer in written["answers"]] == taken
    assert written["ballot_count"] == written["article_votes"] == sum(taken)
    assert [b[4] for b in written["ballots"]] == SUSPICIONS.get(case, [None] * sum(taken))
    chosen = [0, 0, 0]
    for (_, positions, _), counted in zip(VOTE_CASES[case][1], taken, strict=True):
        for position in positions if counted else ():
            chosen[position] += 1
    assert written["option_counts"] == chosen
    for answer in written["answers"]:
        if answer is not None:
            assert answer[0] is True and answer[1] == now and all(answer[3:7])
    if written["answers"] and written["answers"][-1] is not None:
        last = written["answers"][-1]
        assert last[7]["ballot_count"] == sum(taken)
        assert [votes for _, _, votes in last[8]] == chosen
    assert_no_drift(session)
