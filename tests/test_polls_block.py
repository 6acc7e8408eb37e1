"""The poll block on the article page and in the embed: one stand by default, the logged-in
fans' stand beside it only where it says something, and the form before the stand wherever the
poll's visibility rule lets a fan vote first (issue 15, point 18)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Article, Poll, ResultsVisibility, Role, User, utcnow
from polls import services as polls
from polls.results import (
    SPLIT_MIN_BALLOTS,
    SPLIT_MIN_GAP,
    OptionResult,
    PollResults,
    split_says_something,
)
from tests.conftest import login
from tests.polls_fixtures import (
    make_poll_fixture,  # noqa: F401
    option_ids,
)

CONTEXT = polls.VoteContext(ip_hash=None, ip_allowance=0, burst=False, editor=False)


def stand(total: int, votes: list[int], members_only: bool = False) -> PollResults:
    return PollResults(
        total,
        [OptionResult(i + 1, f"o{i}", v, 0) for i, v in enumerate(votes)],
        members_only,
    )


@pytest.mark.parametrize(
    ("everyone", "members", "shown"),
    [
        # Both groups big enough, and 100 % against 0 % on an option.
        (
            (2 * SPLIT_MIN_BALLOTS, [SPLIT_MIN_BALLOTS, SPLIT_MIN_BALLOTS]),
            (SPLIT_MIN_BALLOTS, [SPLIT_MIN_BALLOTS, 0]),
            True,
        ),
        # The usual page: nobody signed in voted.
        ((40, [30, 10]), (0, [0, 0]), False),
        # Too few signed-in fans to say anything.
        ((60, [40, 20]), (SPLIT_MIN_BALLOTS - 1, [SPLIT_MIN_BALLOTS - 1, 0]), False),
        # Too few anonymous voters.
        (
            (SPLIT_MIN_BALLOTS + 5, [SPLIT_MIN_BALLOTS + 5, 0]),
            (SPLIT_MIN_BALLOTS, [SPLIT_MIN_BALLOTS, 0]),
            False,
        ),
        # Both big enough, the same opinion (50/50 each).
        ((80, [40, 40]), (40, [20, 20]), False),
        # Both big enough, a gap just under the threshold: members 50 %, anonymous 50 + gap - 1.
        ((200, [100 + SPLIT_MIN_GAP - 1, 100 - SPLIT_MIN_GAP + 1]), (100, [50, 50]), False),
        # … and exactly at it: members 50 %, anonymous 50 + gap.
        ((200, [100 + SPLIT_MIN_GAP, 100 - SPLIT_MIN_GAP]), (100, [50, 50]), True),
    ],
)
def test_split_rule(
    everyone: tuple[int, list[int]], members: tuple[int, list[int]], shown: bool
) -> None:
    assert split_says_something(stand(*everyone), stand(*members, members_only=True)) is shown


def cast(db: Session, poll: Poll, option: int, voter: polls.Voter) -> None:
    polls.cast_vote(db, poll.id, [option], voter, CONTEXT, utcnow())
    db.commit()


def page(client: FlaskClient, db: Session, poll: Poll) -> str:
    article = db.get(Article, poll.article_id)
    assert article is not None
    return client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)


def test_one_stand_by_default(
    client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
    make_user: Callable[..., User],
) -> None:
    poll = make_poll()
    yes, no, _ = option_ids(poll)
    for n in range(3):
        cast(db, poll, yes if n else no, polls.Voter(f"a:{'t' * 20}{n}"))
    fan = make_user()
    cast(db, poll, no, polls.Voter(f"u:{fan.id}", fan.id))
    for html in (page(client, db, poll), client.get(f"/embed/polls/{poll.id}").get_data(True)):
        assert html.count('class="poll-stand"') == 1
        assert "poll-stand-members" not in html and "Alle stemmen" not in html
        assert "4 stemmen" in html
    api = client.get(f"/api/v1/polls/{poll.id}").get_json()
    assert api["results_split"] is False and api["results_members"]["total"] == 1


def test_split_where_the_signed_in_fans_differ(
    client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
    make_user: Callable[..., User],
) -> None:
    poll = make_poll()
    yes, no, _ = option_ids(poll)
    for n in range(SPLIT_MIN_BALLOTS):
        fan = make_user()
        cast(db, poll, yes, polls.Voter(f"u:{fan.id}", fan.id))
        cast(db, poll, no, polls.Voter(f"a:{'t' * 20}{n}"))
    html = page(client, db, poll)
    assert html.count('<div class="poll-stand') == 2
    assert "Alle stemmen" in html and "Enkel aangemelde fans</h3>" in html
    assert client.get(f"/api/v1/polls/{poll.id}").get_json()["results_split"] is True


@pytest.mark.parametrize("role", [Role.FAN, Role.EDITOR])
def test_form_first_where_the_rule_lets_the_fan_vote_first(
    client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
    make_user: Callable[..., User],
    role: Role,
) -> None:
    poll = make_poll(results_visibility=ResultsVisibility.AFTER_VOTE)
    cast(db, poll, option_ids(poll)[0], polls.Voter("a:" + "t" * 22))
    login(client, make_user(role))
    before = page(client, db, poll)
    assert 'class="poll-form"' in before
    assert "poll-stand" not in before and "poll-bar" not in before
    assert "De stand verschijnt nadat je gestemd hebt." in before
    assert ("Stand voor de redactie" in before) is (role is Role.EDITOR)
    article = db.get(Article, poll.article_id)
    assert article is not None
    url = f"/artikels/{article.cms_id}/peilingen/{poll.id}"
    assert client.post(url, data={"option": option_ids(poll)[1]}).status_code == 303
    after = page(client, db, poll)
    assert 'class="poll-form"' not in after
    assert after.count('class="poll-stand"') == 1 and "2 stemmen" in after


def test_always_rule_shows_form_and_stand(
    client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll(results_visibility=ResultsVisibility.ALWAYS)
    html = page(client, db, poll)
    assert html.index('class="poll-form"') < html.index('class="poll-stand"')
