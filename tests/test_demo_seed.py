"""The demo's Meest recent: every headline shows the comment count of the seed page
(demo/data/meest-recent.tsv), read through the tallies API and the page, seeded fast."""

from __future__ import annotations

import random
import re
import time
import uuid

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from demo import chatter
from demo.seed import read_headline_polls, read_headlines, slugify
from models import Article, Comment, CommentState
from tallies.recount import recount

TALLY = re.compile(r'<span class="([^"]*)" data-tribune-tally="([^"]+)"[^>]*>([^<]*)<')


@pytest.fixture(autouse=True)
def own_redis_prefix(app_settings: dict) -> None:
    app_settings["TRIBUNE_REDIS_PREFIX"] = "tribune-test-" + uuid.uuid4().hex[:8]


def seed(runner: FlaskCliRunner) -> float:
    """Run `flask tribune seed-demo`; the seconds it took."""
    start = time.perf_counter()
    result = runner.invoke(args=["tribune", "seed-demo"])
    assert result.exit_code == 0, result.output
    return time.perf_counter() - start


def test_each_headline_shows_the_seed_pages_count(
    runner: FlaskCliRunner, client: FlaskClient, db: Session
) -> None:
    seconds = seed(runner)
    headlines = read_headlines()
    wanted = {slugify(row["headline"]): int(row["comments_shown"]) for row in headlines}
    assert sum(wanted.values()) > 1000

    # The count path the headlines use: the tallies API (counts.js) and the page itself.
    answer = client.get("/api/v1/tallies", query_string={"ids": ",".join(wanted)})
    assert answer.status_code == 200, answer.data
    tallies = answer.get_json()
    assert {cms_id: tallies[cms_id]["comments"] for cms_id in wanted} == wanted
    # Some headlines carry a poll with demo votes (demo/data/polls.tsv).
    votes = {
        slugify(headlines[poll.position - 1]["headline"]): sum(poll.ballots)
        for poll in read_headline_polls()
    }
    assert votes and {cms_id: tallies[cms_id]["votes"] for cms_id in wanted} == {
        cms_id: votes.get(cms_id, 0) for cms_id in wanted
    }
    page = client.get("/").get_data(as_text=True)
    shown = {cms_id: text for _, cms_id, text in TALLY.findall(page)}
    assert {cms_id: shown[cms_id] for cms_id in wanted} == {
        cms_id: f"{count} reacties" + (f" · {votes[cms_id]} stemmen" if cms_id in votes else "")
        for cms_id, count in wanted.items()
    }
    # And the rows: published comments, counted the way recount counts them (no drift).
    assert not recount(db)
    assert (
        db.scalar(select(func.count()).where(Comment.state == CommentState.PUBLISHED))
        == sum(wanted.values()) + 8  # the Defour article's own 8
    )
    # Bulk inserts: thousands of comments in seconds, not a row per round trip.
    assert seconds < 15


def test_seeded_comments_are_varied_threads(runner: FlaskCliRunner, db: Session) -> None:
    seed(runner)
    article = db.scalars(select(Article).order_by(Article.comment_count.desc()).limit(1)).one()
    comments = list(db.scalars(select(Comment).where(Comment.article_id == article.id)))
    bodies = [c.body for c in comments]
    assert len(set(bodies)) > len(bodies) * 0.6  # put together, not one text repeated
    assert all("{" not in body for body in bodies)
    replies = [c for c in comments if c.parent_id is not None]
    assert 0.15 * len(comments) < len(replies) < 0.45 * len(comments)
    created = {c.id: c.created_at for c in comments}
    assert all(created[c.parent_id] <= c.created_at for c in replies)
    assert len({c.author_id for c in comments}) >= 10
    assert all(article.published_at < c.created_at for c in comments)


def test_a_second_seed_adds_no_comments(runner: FlaskCliRunner, db: Session) -> None:
    seed(runner)
    before = db.scalar(select(func.count()).select_from(Comment))
    db.rollback()
    seed(runner)
    assert db.scalar(select(func.count()).select_from(Comment)) == before


@pytest.mark.parametrize(
    ("headline", "club"),
    [
        ("Verrassende zondebok bij Club Brugge", "Club Brugge"),
        ("'Standard en STVV lonken naar Serie A-deals'", "Standard"),
        ("Eddy Snelders opnieuw voor rechter", chatter.NO_CLUB),
    ],
)
def test_the_club_of_a_headline(headline: str, club: str) -> None:
    assert chatter.club_of(headline) == club


def test_comment_texts_are_dutch_sentences_within_the_limits() -> None:
    rng = random.Random(7)
    fragments = chatter.read_fragments()
    texts = [
        chatter.comment_text(rng, fragments, "Antwerp", reply=bool(i % 3 == 0)) for i in range(500)
    ]
    assert all(2 <= len(t) <= 2000 and t[0].isupper() and "{" not in t for t in texts)
    assert len(set(texts)) > 400
