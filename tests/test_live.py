"""Live refresh (issue 20, point 6): conditional checks with ETags at the interval the server
sets (`Tribune-Refresh`), shorter while a poll is open and longer under load."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app import create_app
from config import SettingError
from live.pacing import BUCKET_SECONDS, CheckCounter, Pacing
from models import Article, CommentState, User, utcnow
from polls.quarantine import QuarantineScope, set_quarantine
from polls.ratings import cast_ratings
from polls.services import VoteContext, Voter
from tests.conftest import client_for
from tests.factories import create_comment
from tests.polls_fixtures import create_poll, option_ids, past, vote, voter_token
from tests.test_player_ratings import player_ids, ratings_poll

PACING = Pacing(live_seconds=15, idle_seconds=60, max_seconds=300, checks_per_second=100)


def test_the_interval_is_the_live_one_with_an_open_poll_and_stretches_under_load() -> None:
    assert PACING.interval(True, 0) == 15
    assert PACING.interval(False, 0) == 60
    assert PACING.interval(True, 100) == 15  # at the rate it is meant for: as set
    assert PACING.interval(True, 250) == 38  # 2.5 times the rate: 2.5 times the wait
    assert PACING.interval(False, 250) == 150
    assert PACING.interval(True, 100_000) == 300  # never above the ceiling


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_counter_answers_the_rate_of_the_last_full_bucket() -> None:
    clock = Clock()
    counter = CheckCounter(None, "t:", clock)
    for _ in range(50):
        assert counter.count() == 0  # the bucket before the first one was empty
    clock.now += BUCKET_SECONDS
    assert counter.count() == 50 / BUCKET_SECONDS
    clock.now += 3 * BUCKET_SECONDS  # quiet buckets in between: the rate falls back to zero
    assert counter.count() == 0


def test_instances_share_the_count_through_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    prefix = f"t-live-{id(client)}:"
    clock = Clock()
    one, two = CheckCounter(client, prefix, clock), CheckCounter(client, prefix, clock)
    for _ in range(30):
        one.count()
        two.count()
    clock.now += BUCKET_SECONDS
    # Each instance sees the 60 checks of both.
    assert one.count() == 60 / BUCKET_SECONDS
    assert two.count() == 60 / BUCKET_SECONDS
    client.delete(*client.keys(prefix + "*"))


def test_a_redis_fault_falls_back_to_the_local_count() -> None:
    broken = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    clock = Clock()
    counter = CheckCounter(broken, "t:", clock)
    for _ in range(20):
        counter.count()
    clock.now += BUCKET_SECONDS
    assert counter.count() == 20 / BUCKET_SECONDS


@pytest.mark.parametrize(
    "setting",
    [
        {"TRIBUNE_LIVE_REFRESH_SECONDS": 0},
        {"TRIBUNE_LIVE_CHECKS_PER_SECOND": 0.0},
        {"TRIBUNE_LIVE_REFRESH_MAX_SECONDS": 30},  # below the idle interval (60)
    ],
)
def test_settings_that_make_no_sense_are_refused_at_start(
    app_settings: dict[str, Any], setting: dict[str, Any]
) -> None:
    with pytest.raises(SettingError):
        create_app({**app_settings, **setting})


def live(client: FlaskClient, article: Article, etag: str | None = None, **args: str) -> Any:
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(
        f"/artikels/{article.cms_id}", query_string={"live": "1", **args}, headers=headers
    )


def test_the_article_page_check_is_a_304_until_the_thread_or_a_poll_changes(
    app: Flask,
    db: Session,
    client: FlaskClient,
    make_article: Callable[..., Article],
    make_user: Callable[..., User],
) -> None:
    article = make_article()
    author = make_user()
    poll = create_poll(db, article)
    first = live(client, article)
    assert first.status_code == 200
    assert "section class=\"comments\"" in first.get_data(as_text=True)
    etag = first.headers["ETag"]
    assert first.headers["Tribune-Refresh"] == "15"  # the poll is open
    assert first.headers["Tribune-Live"] == "1"
    assert first.headers["Cache-Control"] == "private, no-cache"

    same = live(client, article, etag)
    assert same.status_code == 304 and same.get_data() == b""
    assert same.headers["ETag"] == etag and same.headers["Tribune-Refresh"] == "15"

    create_comment(db, article, author, CommentState.PUBLISHED, body="Wat een goal van Defour!")
    changed = live(client, article, etag)
    assert changed.status_code == 200
    assert "Wat een goal van Defour!" in changed.get_data(as_text=True)
    etag = changed.headers["ETag"]
    assert live(client, article, etag).status_code == 304

    other = app.test_client()
    token = voter_token(other, poll.id)
    assert vote(other, poll.id, [option_ids(poll)[0]], token).status_code == 201
    voted = live(client, article, etag)
    assert voted.status_code == 200 and voted.headers["ETag"] != etag

    # Another sort, another reader: another tag.
    assert live(client, article, volgorde="oudste").headers["ETag"] != voted.headers["ETag"]
    assert live(client_for(app, author), article).headers["ETag"] != voted.headers["ETag"]


def test_the_full_page_hands_its_tag_to_the_script_so_the_first_check_is_a_304(
    client: FlaskClient, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert "live.js" in page
    tag = page.split('data-etag="', 1)[1].split('"', 1)[0].replace("&#34;", '"')
    assert live(client, article, tag).status_code == 304


def test_without_an_open_poll_the_interval_is_the_idle_one(
    db: Session, client: FlaskClient, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    quiet = live(client, article)
    assert quiet.headers["Tribune-Refresh"] == "60" and "Tribune-Live" not in quiet.headers
    poll = create_poll(db, article)
    poll.opens_at, poll.closes_at = past(hours=1), past(minutes=1)
    db.commit()
    assert live(client, article).headers["Tribune-Refresh"] == "60"


def test_many_checks_lengthen_the_interval(
    app_settings: dict[str, Any], make_article: Callable[..., Article], db: Session
) -> None:
    app = create_app({**app_settings, "TRIBUNE_LIVE_CHECKS_PER_SECOND": 0.5})
    _, counter = app.extensions["tribune.live"]
    clock = Clock()
    counter._clock = clock  # the test moves the buckets on
    article = make_article()
    client = app.test_client()
    for _ in range(20):  # 2 checks per second in this bucket: four times the rate set
        assert live(client, article).headers["Tribune-Refresh"] == "60"
    clock.now += BUCKET_SECONDS
    assert live(client, article).headers["Tribune-Refresh"] == "240"  # 60 s times 4


def test_the_comments_embed_and_the_poll_api_carry_the_interval(
    app: Flask, db: Session, client: FlaskClient, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    poll = create_poll(db, article)
    embed = client.get(f"/embed/comments/{article.cms_id}?fragment=1")
    assert embed.headers["Tribune-Refresh"] == "15"
    again = client.get(
        f"/embed/comments/{article.cms_id}?fragment=1",
        headers={"If-None-Match": embed.headers["ETag"]},
    )
    assert again.status_code == 304 and again.headers["Tribune-Refresh"] == "15"

    read = client.get(f"/api/v1/polls/{poll.id}")
    assert read.status_code == 200 and read.headers["Tribune-Refresh"] == "15"
    tag = read.headers["ETag"]
    assert client.get(f"/api/v1/polls/{poll.id}", headers={"If-None-Match": tag}).status_code == 304
    other = app.test_client()
    token = voter_token(other, poll.id)
    assert vote(other, poll.id, [option_ids(poll)[1]], token).status_code == 201
    after = client.get(f"/api/v1/polls/{poll.id}", headers={"If-None-Match": tag})
    assert after.status_code == 200 and after.get_json()["results"]["total"] == 1

    widget = client.get(f"/embed/polls/{poll.id}").get_data(as_text=True)
    assert 'data-refresh="15"' in widget and 'data-state="open"' in widget


def test_a_rating_set_and_its_quarantine_change_the_page_tag(
    app: Flask, db: Session, client: FlaskClient, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    poll = ratings_poll(db, article)
    player = player_ids(poll)[0]
    tag = live(client, article).headers["ETag"]
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        context = VoteContext(ip_hash=None, ip_allowance=0)
        outcome = cast_ratings(session, poll.id, {player: 8}, Voter("a:1"), context, utcnow())
        session.commit()
        rated = live(client, article, tag)
        assert rated.status_code == 200
        tag = rated.headers["ETag"]
        set_quarantine(
            session, poll.id, True, QuarantineScope.SELECTED, [outcome.ballot_id], None, utcnow()
        )
        session.commit()
    finally:
        session.close()
    assert live(client, article, tag).status_code == 200  # the stand lost the set
