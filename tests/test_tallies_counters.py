"""Counters that are always true: random sequences of every kind of change, then recount.

Comments change through comments.services (post, delete) and moderation.comment_states.transition
(moderator actions); votes through polls.services (cast_vote, set_quarantine).
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from caching import NoCache, TallyCache
from comments.activity import MemoryActivity
from comments.services import delete_comment, post_comment
from errors import Conflict
from models import (
    Article,
    Ballot,
    Comment,
    CommentState,
    Poll,
    PollOption,
    ReasonCode,
    Role,
    User,
    utcnow,
)
from moderation.comment_states import transition
from moderation.flags import Flag, FlagCode, Screening
from moderation.rules import PostingPolicy
from polls.services import QuarantineScope, VoteContext, Voter, cast_vote, set_quarantine
from tallies.recount import recount

ARTICLES = ("kvm-defour", "rsca-dreyer", "union-roma")
ACTIONS = (
    "post",
    "reply",
    "approve",
    "reject",
    "remove",
    "restore",
    "delete",
    "vote",
    "quarantine",
    "release",
    "illegal",
)
# A moderator's action: (from states, to state, action name).
MODERATOR_MOVES = {
    "approve": ((CommentState.HELD,), CommentState.PUBLISHED),
    "reject": ((CommentState.HELD,), CommentState.REJECTED),
    "remove": ((CommentState.PUBLISHED,), CommentState.REMOVED),
    "restore": ((CommentState.REJECTED, CommentState.REMOVED), CommentState.PUBLISHED),
}
SCREENINGS = {
    "publish": Screening("publish"),
    "hold": Screening("hold", (Flag(FlagCode.INSULT, "sukkel", 0, 6),)),
    "reject": Screening("reject", (Flag(FlagCode.SEVERE_INSULT, "[x]", 0, 3),)),
}


@pytest.fixture(autouse=True)
def own_redis_prefix(app_settings: dict) -> None:
    app_settings["TRIBUNE_REDIS_PREFIX"] = "tribune-test-" + uuid.uuid4().hex[:8]


@pytest.fixture
def world(app: Flask, db: Session, make_user, make_article) -> dict[str, Any]:
    """Three articles with a poll each, four fans and a moderator."""
    articles = [make_article(cms_id) for cms_id in ARTICLES]
    polls = []
    for article in articles:
        poll = Poll(article_id=article.id, question="Kampioen?", max_choices=1)
        poll.options = [PollOption(position=i, label=label) for i, label in enumerate("ABC")]
        db.add(poll)
        polls.append(poll)
    db.commit()
    return {
        "articles": [a.id for a in articles],
        "polls": [(p.id, [o.id for o in p.options]) for p in polls],
        "fans": [make_user().id for _ in range(4)],
        "moderator": make_user(Role.MODERATOR).id,
        "voters": itertools.count(),
        "bodies": itertools.count(),
    }


def true_counts(session: Session) -> dict[int, tuple[int, int]]:
    """Per article, counted from the rows: published comments, ballots not in quarantine."""
    comments = dict(
        session.execute(
            select(Comment.article_id, func.count())
            .where(Comment.state == CommentState.PUBLISHED)
            .group_by(Comment.article_id)
        ).all()
    )
    votes = dict(
        session.execute(
            select(Poll.article_id, func.count(Ballot.id))
            .join(Ballot, Ballot.poll_id == Poll.id)
            .where(Ballot.quarantined_at.is_(None))
            .group_by(Poll.article_id)
        ).all()
    )
    ids = session.scalars(select(Article.id)).all()
    return {i: (comments.get(i, 0), votes.get(i, 0)) for i in ids}


def stored_counts(session: Session) -> dict[int, tuple[int, int]]:
    return {
        i: (c, v)
        for i, c, v in session.execute(
            select(Article.id, Article.comment_count, Article.vote_count)
        )
    }


def apply(session: Session, world: dict[str, Any], op: tuple[str, int, str]) -> None:
    """Carry out one random change the way the app does."""
    action, pick, decision = op
    now = utcnow()
    article_id = world["articles"][pick % len(world["articles"])]
    fan = session.get(User, world["fans"][pick % len(world["fans"])])
    moderator = session.get(User, world["moderator"])
    comments = session.scalars(select(Comment).order_by(Comment.id)).all()
    policy = dataclasses.replace(PostingPolicy(), flood_limit=10**9)

    if action in ("post", "reply"):
        parent_id = None
        if action == "reply":
            parents = [
                c
                for c in comments
                if c.article_id == article_id and c.state is CommentState.PUBLISHED
            ]
            if not parents:
                return
            parent_id = parents[pick % len(parents)].id
        cms_id = session.get(Article, article_id).cms_id
        post_comment(
            session,
            cms_id,
            fan,
            f"Reactie nummer {next(world['bodies'])} over de match",
            parent_id,
            lambda _text: SCREENINGS[decision],
            policy,
            MemoryActivity(),
            now=now,
        )
    elif action in MODERATOR_MOVES:
        sources, target = MODERATOR_MOVES[action]
        candidates = [c for c in comments if c.state in sources]
        if candidates:
            comment = candidates[pick % len(candidates)]
            reason = ReasonCode.BELEDIGEND if target is not CommentState.PUBLISHED else None
            transition(session, comment, target, action, moderator, reason=reason, now=now)
    elif action == "delete":
        candidates = [c for c in comments if c.state in (CommentState.PUBLISHED, CommentState.HELD)]
        if candidates:
            comment = candidates[pick % len(candidates)]
            delete_comment(session, comment.id, session.get(User, comment.author_id))
    elif action == "illegal":
        # A move the table forbids is refused and changes nothing.
        final = [c for c in comments if c.state in (CommentState.DELETED,)]
        if final:
            with pytest.raises(Conflict):
                transition(session, final[0], CommentState.PUBLISHED, "approve", moderator)
    elif action == "vote":
        poll_id, option_ids = world["polls"][pick % len(world["polls"])]
        cast_vote(
            session,
            poll_id,
            [option_ids[pick % len(option_ids)]],
            Voter(f"a:test-{next(world['voters'])}"),
            VoteContext(ip_hash=None, ip_allowance=0),
            now,
        )
    elif action in ("quarantine", "release"):
        quarantined = action == "release"
        ballots = session.scalars(
            select(Ballot).where(
                Ballot.quarantined_at.is_not(None)
                if quarantined
                else Ballot.quarantined_at.is_(None)
            )
        ).all()
        if ballots:
            ballot = ballots[pick % len(ballots)]
            set_quarantine(
                session,
                ballot.poll_id,
                action == "quarantine",
                QuarantineScope.SELECTED,
                [ballot.id],
                moderator,
                now,
            )


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.integers(min_value=0, max_value=1000),
        st.sampled_from(tuple(SCREENINGS)),
    ),
    min_size=1,
    max_size=20,
)


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_counters_equal_row_counts_after_any_sequence(
    app: Flask, world: dict[str, Any], operations: list[tuple[str, int, str]]
) -> None:
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        for op in operations:
            apply(session, world, op)
            session.commit()
        assert stored_counts(session) == true_counts(session)
        # recount sees no drift in any counter (articles, polls, options, authors, queues).
        assert recount(session) == []
        session.rollback()
        # And the public endpoint says the same (cache off for this check).
        app.extensions["tribune.tally_cache"] = TallyCache(NoCache())
        body = app.test_client().get("/api/v1/tallies?ids=" + ",".join(ARTICLES)).get_json()
        by_cms = dict(session.execute(select(Article.cms_id, Article.id)).all())
        expected = true_counts(session)
        for cms_id in ARTICLES:
            comments, votes = expected[by_cms[cms_id]]
            assert body[cms_id] == {"comments": comments, "votes": votes}
    finally:
        session.close()


def test_recount_repairs_injected_drift(app: Flask, world: dict[str, Any]) -> None:
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        for op in [
            ("post", 0, "publish"),
            ("post", 0, "publish"),
            ("post", 1, "hold"),
            ("vote", 0, "publish"),
            ("vote", 3, "publish"),
        ]:
            apply(session, world, op)
        session.commit()
        before = stored_counts(session)
        assert before == true_counts(session)
        kvm = world["articles"][0]
        session.execute(
            update(Article).where(Article.id == kvm).values(comment_count=99, vote_count=-4)
        )
        session.execute(update(User).values(published_count=0))
        session.commit()
        drifts = recount(session)
        session.commit()
        fixed = {(d.counter, d.key, d.stored, d.actual) for d in drifts}
        assert ("articles.comment_count", "kvm-defour", 99, before[kvm][0]) in fixed
        assert ("articles.vote_count", "kvm-defour", -4, before[kvm][1]) in fixed
        assert any(d.counter == "users.published_count" for d in drifts)
        assert stored_counts(session) == before
        assert recount(session) == []
    finally:
        session.close()


def test_recount_command_reports_and_fixes(app: Flask, world: dict[str, Any], runner) -> None:
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        apply(session, world, ("post", 2, "publish"))
        session.commit()
        session.execute(update(Article).values(comment_count=Article.comment_count + 5))
        session.commit()
    finally:
        session.close()
    result = runner.invoke(args=["tribune", "recount"])
    assert result.exit_code == 0, result.output
    assert "articles.comment_count" in result.output
    again = runner.invoke(args=["tribune", "recount"])
    assert "articles.comment_count" not in again.output
    session = app.extensions["tribune.sessionmaker"]()
    try:
        assert stored_counts(session) == true_counts(session)
    finally:
        session.close()
