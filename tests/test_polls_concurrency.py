"""One ballot per voter under concurrency, and true counters without deadlocks.

Real threads, each with its own session and transaction, against a real database file
(SQLite, BEGIN IMMEDIATE) or server (PostgreSQL). The PostgreSQL variant always runs: on a
SQLite suite it migrates a throwaway database on the postgres_server.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import create_app
from db import begin_write
from errors import DomainError
from migrations import upgrade_database
from models import Article, Ballot, Poll, utcnow
from polls import services as polls
from tests.conftest import _backend
from tests.polls_fixtures import assert_no_drift, create_poll
from writes.driver import dbapi
from writes.votes_postgres import statement_is_the_transaction

THREADS = 12


# On a PostgreSQL suite the suite backend already is PostgreSQL: no second, skipped variant.
@pytest.fixture(params=["suite-backend"] + ([] if _backend() == "postgresql" else ["postgresql"]))
def voting_app(request: pytest.FixtureRequest, app_settings: dict[str, Any]) -> Iterator[Flask]:
    if request.param == "postgresql" and _backend() != "postgresql":
        server = request.getfixturevalue("postgres_server")
        name = server.create("polls")
        upgrade_database(server.url_for(name))
        settings = {**app_settings, "DATABASE_URL": server.url_for(name)}
        application = create_app(settings)
        yield application
        application.extensions["tribune.engine"].dispose()
        server.drop(name)
        return
    yield request.getfixturevalue("app")


def _session(app: Flask) -> Session:
    return app.extensions["tribune.sessionmaker"]()


def _make_poll(app: Flask, **fields: Any) -> Poll:
    session = _session(app)
    article = Article(cms_id="gelijktijdig", title="Gelijktijdig")
    session.add(article)
    session.commit()
    poll = create_poll(session, article, **fields)
    session.close()
    return poll


def _run(workers: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(workers))

    def wrap(work: Callable[[], None]) -> None:
        try:
            barrier.wait(timeout=30)
            work()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _cast(app: Flask, poll_id: int, option_ids: list[int], key: str, outcomes: list) -> None:
    session = _session(app)
    try:
        begin_write(session)
        outcome = polls.cast_vote(
            session,
            poll_id,
            option_ids,
            polls.Voter(key),
            polls.VoteContext(ip_hash="h", ip_allowance=0),
            utcnow(),
        )
        session.commit()
        outcomes.append(outcome.created)
    finally:
        session.close()


def test_same_voter_in_many_threads_gets_one_ballot(voting_app: Flask) -> None:
    poll = _make_poll(voting_app)
    option = poll.options[0].id
    outcomes: list[bool] = []

    errors = _run(
        [
            lambda: _cast(voting_app, poll.id, [option], "a:same-voter-token-id", outcomes)
            for _ in range(THREADS)
        ]
    )

    assert errors == []
    assert sorted(outcomes) == [False] * (THREADS - 1) + [True]
    session = _session(voting_app)
    assert session.scalar(select(func.count()).select_from(Ballot)) == 1
    assert session.get(Poll, poll.id).ballot_count == 1
    session.close()
    assert_no_drift(voting_app)


def test_many_voters_on_a_multiple_choice_poll_keep_true_counters(voting_app: Flask) -> None:
    poll = _make_poll(voting_app, options=("A", "B", "C", "D", "E"), max_choices=3)
    ids = [o.id for o in poll.options]
    rng = random.Random(5)
    plan = [
        (f"a:voter-{t}-{i}", rng.sample(ids, rng.randint(1, 3)))
        for t in range(THREADS)
        for i in range(5)
    ]
    outcomes: list[bool] = []

    def worker(chunk: list[tuple[str, list[int]]]) -> Callable[[], None]:
        def work() -> None:
            for key, chosen in chunk:
                _cast(voting_app, poll.id, chosen, key, outcomes)

        return work

    errors = _run([worker(plan[t::THREADS]) for t in range(THREADS)])

    assert errors == []
    assert outcomes.count(True) == len(plan)
    session = _session(voting_app)
    assert session.get(Poll, poll.id).ballot_count == len(plan)
    assert session.scalar(select(Article.vote_count)) == len(plan)
    session.close()
    assert_no_drift(voting_app)


def test_options_replaced_while_the_first_vote_waits_leave_no_ballot(voting_app: Flask) -> None:
    """An editor replaces the options (allowed before the first ballot) while the first vote
    waits for the poll: the vote is refused whole, never a ballot without its choice."""
    poll = _make_poll(voting_app)
    old_option = poll.options[0].id
    editing = threading.Event()
    refused: list[str] = []

    def editor() -> None:
        session = _session(voting_app)
        try:
            begin_write(session)
            draft = polls.PollDraft(question=poll.question, options=["Nieuw A", "Nieuw B"])
            polls.update_poll(session, poll.id, draft, None, utcnow())
            editing.set()
            time.sleep(0.5)  # the vote starts meanwhile and waits for the poll
            session.commit()
        finally:
            editing.set()
            session.close()

    def voter() -> None:
        editing.wait(timeout=30)
        try:
            _cast(voting_app, poll.id, [old_option], "a:first-voter", [])
        except DomainError as exc:
            refused.append(exc.code)

    errors = _run([editor, voter])

    assert errors == []
    # PostgreSQL: the vote saw the old option, its choice's foreign key failed the statement;
    # SQLite: the vote waited for the write lock and then saw the new options.
    assert refused in (["vote_conflict"], ["invalid_options"])
    session = _session(voting_app)
    assert session.scalar(select(func.count()).select_from(Ballot)) == 0
    assert [o.label for o in session.get(Poll, poll.id).options] == ["Nieuw A", "Nieuw B"]
    session.close()
    assert_no_drift(voting_app)


# PostgreSQL on either suite: on a PostgreSQL suite "postgresql" is the suite's own app.
@pytest.mark.parametrize("voting_app", ["postgresql"], indirect=True)
def test_the_vote_statement_runs_alone_only_outside_a_transaction(voting_app: Flask) -> None:
    """PostgreSQL: the one-statement vote runs in autocommit when nothing has begun yet, and the
    connection goes back to the pool as it was, also when the statement fails."""
    engine = voting_app.extensions["tribune.engine"]
    assert engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        driver = dbapi(conn)
        with statement_is_the_transaction(conn):
            assert driver.autocommit is True
        assert driver.autocommit is False
        with pytest.raises(ZeroDivisionError), statement_is_the_transaction(conn):
            1 / 0  # noqa: B018 - the failure inside
        assert driver.autocommit is False
        conn.exec_driver_sql("select 1")  # a transaction has begun: it just goes on
        with statement_is_the_transaction(conn):
            assert driver.autocommit is False
        conn.rollback()
    # A whole vote leaves every pooled connection out of autocommit.
    poll = _make_poll(voting_app)
    _cast(voting_app, poll.id, [poll.options[0].id], "a:one", [])
    with engine.connect() as conn:
        assert dbapi(conn).autocommit is False


@pytest.mark.parametrize("voting_app", ["postgresql"], indirect=True)
def test_the_vote_answer_gives_times_in_utc_whatever_the_session_zone(voting_app: Flask) -> None:
    """psycopg returns timestamptz in the session's time zone; the vote's answer is in UTC."""
    closes = utcnow().replace(microsecond=0) + timedelta(days=3)
    poll = _make_poll(voting_app, closes_at=closes)
    session = _session(voting_app)
    try:
        session.execute(text("SET TIME ZONE 'Europe/Brussels'"))
        outcome = polls.cast_vote(
            session,
            poll.id,
            [poll.options[0].id],
            polls.Voter("a:zone"),
            polls.VoteContext(ip_hash="h", ip_allowance=0),
            utcnow(),
        )
        session.commit()
    finally:
        session.close()
    assert outcome.created and outcome.poll is not None
    assert outcome.poll.closes_at == closes
    assert outcome.poll.closes_at.utcoffset() == timedelta(0)
    assert outcome.poll.created_at is not None and outcome.poll.created_at.utcoffset() == timedelta(
        0
    )
