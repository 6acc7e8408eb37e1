"""No page of Tribune scrolls sideways on a 360 px phone: every HTML page from the URL map,
as every kind of visitor, on data with long names, long words, URLs and tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from accounts.care import issue_link
from accounts.services import create_api_token
from comments.services import report_comment
from dsa.notices import NoticeInput, file_notice
from models import (
    Article,
    Ballot,
    BallotChoice,
    CommentState,
    LexiconAction,
    NotificationKind,
    OutboxAttempt,
    PollKind,
    Role,
    ScorePrediction,
    TokenPurpose,
    User,
    utcnow,
)
from moderation import modes, runtime
from moderation.actions import file_appeal
from moderation.rules import PostingPolicy
from moderation.triage import TAB_LABELS
from notifications import preferences
from outbox import MessageState, enqueue_mail, enqueue_webhook, run_worker
from polls.services import PollDraft
from polls.services import create_poll as create_ratings_poll
from tests.browser.live import TIMEOUT_MS, log_in
from tests.factories import create_comment
from tests.polls_fixtures import create_poll
from webhooks.endpoints import UrlPolicy, create_endpoint

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
PARAMETER = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")
# Not pages: JSON, CSV, files and fragments that are embedded elsewhere.
SKIP_PREFIXES = ("/api/", "/static/", "/fragments/")
SKIP_SUFFIXES = (".csv", ".ico", ".json", ".js", ".svg")
# Not pages: the queue's counts, and the operations routes (JSON, Prometheus text).
SKIP_ENDPOINTS = {"moderator.counts", "ops.healthz", "ops.readyz", "ops.prometheus_metrics"}
LONG_WORD = "Supercalifragilistischexpialidocious" * 3
LONG_URL = "https://www.voorbeeld.be/" + "heel-lang-pad-zonder-spaties-" * 6 + "einde"

# The part of the page that reaches furthest to the right, named like a CSS selector.
WIDEST_JS = """() => {
  const limit = document.scrollingElement.clientWidth;
  let worst = null, right = limit;
  for (const el of document.body.querySelectorAll('*')) {
    const edge = el.getBoundingClientRect().right + window.scrollX;
    if (edge > right + 0.5) { right = edge; worst = el; }
  }
  if (!worst) return null;
  const name = worst.tagName.toLowerCase() + (worst.id ? '#' + worst.id : '') +
    [...worst.classList].map(c => '.' + c).join('');
  const parent = worst.parentElement ? worst.parentElement.tagName.toLowerCase() : '';
  return `${parent} > ${name} (right edge ${Math.round(right)} px)`;
}"""


def seed(db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]) -> dict:
    """A bit of everything every page lists, with the long strings phones choke on."""
    users = {
        role: make_user(role, username=f"{role.value}_{'x' * 20}")
        for role in (Role.FAN, Role.MODERATOR, Role.EDITOR, Role.ADMIN)
    }
    fan, moderator, editor = users[Role.FAN], users[Role.MODERATOR], users[Role.EDITOR]
    make_user(email=f"{'lang' * 15}@{'domein' * 8}.be")
    article = make_article("lange-titels-artikel")
    article.title = f"Derby: {LONG_WORD} en meer"
    body = f"Kijk eens: {LONG_URL} {LONG_WORD}"
    published = create_comment(db, article, fan, CommentState.PUBLISHED, body=body)
    create_comment(db, article, fan, CommentState.HELD, body=body)
    create_comment(db, article, fan, CommentState.PUBLISHED, body=body, parent=published)
    removed = create_comment(db, article, fan, CommentState.REMOVED, body=body, actor=moderator)
    create_comment(db, article, fan, CommentState.REJECTED, body=body, actor=moderator)
    file_appeal(db, fan, removed.id, f"Onterecht: {LONG_WORD}")
    report_comment(db, published.id, moderator, "spam", f"Zie {LONG_URL}", PostingPolicy())
    runtime.add_entry(db, moderator, LexiconAction.ADD, LONG_WORD[:90], "hold")
    runtime.add_entry(db, moderator, LexiconAction.ALLOW_DOMAIN, "www.voorbeeld.be")
    now = utcnow()
    modes.schedule_window(
        db,
        users[Role.ADMIN],
        article,
        "slow",
        now + timedelta(hours=1),
        now + timedelta(hours=3),
        60,
        f"Bekerfinale {LONG_WORD}",
    )
    create_api_token(db, editor, f"CMS {LONG_WORD}"[:80])
    address = f"{'lang' * 15}@{'domein' * 8}.be"
    mail = enqueue_mail(
        db, to=address, template="outbox_test", context={"name": LONG_WORD}, kind="test"
    )
    failed = enqueue_mail(db, to=address, template="outbox_test", context={"name": "x"}, kind="x")
    failed.state, failed.attempts = MessageState.DEAD, 8
    failed.last_error = f"SMTPRecipientsRefused: {LONG_WORD} {LONG_URL}"
    endpoint = create_endpoint(
        db, users[Role.ADMIN], LONG_URL, f"Slack {LONG_WORD}", ["comment.created"], UrlPolicy()
    )
    call = enqueue_webhook(db, endpoint_id=endpoint.id, event="comment.created", payload={})
    call.state, call.attempts = MessageState.DEAD, 8
    db.add(
        OutboxAttempt(
            message_id=call.id,
            ok=False,
            error=f"connection_failed: {LONG_WORD} {LONG_URL}",
            attempted_at=now,
        )
    )
    # A DSA notice with a long explanation (the Meldingen (DSA) tab shows it).
    file_notice(
        db,
        published.id,
        NoticeInput("auteursrecht", f"{LONG_WORD} {LONG_URL}", "Els", "els@example.test", True),
        None,
    )
    db.commit()
    poll = create_poll(db, article, options=(f"Ja {LONG_WORD}", "Nee"), question=LONG_WORD)
    # Editor picks, a pin and a vote badge (the article page's "Uitgelicht" section, the
    # "Redactie: …" card, "stemde: …" beside a name and the filter links).
    pinned = create_comment(db, article, editor, CommentState.PUBLISHED, body=body)
    article.pinned_comment_id = pinned.id
    published.featured_at, published.featured_by_id = now, moderator.id
    ballot = Ballot(poll_id=poll.id, voter_key=f"u:{fan.id}", user_id=fan.id, show_badge=True)
    ballot.choices.append(BallotChoice(option_id=poll.options[0].id))
    db.add(ballot)
    poll.ballot_count += 1
    poll.options[0].vote_count += 1
    article.vote_count += 1
    db.commit()
    # A player ratings poll on the same article (its form and stand on the article page), with
    # its embed and its editors' results page walked too.
    ratings = create_ratings_poll(
        db,
        article,
        PollDraft(
            question=LONG_WORD,
            options=[],
            kind=PollKind.PLAYER_RATINGS,
            players=[
                {"name": f"Speler {LONG_WORD}"[:80], "shirt_number": 99},
                {"name": "Jan Vertonghen", "shirt_number": 5, "role": "substitute"},
            ],
            coach=f"Trainer {LONG_WORD}"[:80],
        ),
        None,
        now,
    )
    # Score predictions with the longest names: one open (its two-number form on the article
    # page and in the embed), one played and scored (the fan's prediction with its points, the
    # leaderboard pages and embed, the editors' result form).
    competition = ("Competitie " + LONG_WORD)[:60]
    upcoming, played = (
        create_ratings_poll(
            db,
            article,
            PollDraft(
                question=LONG_WORD,
                options=[],
                kind=PollKind.SCORE_PREDICTION,
                home_team=("Thuis " + LONG_WORD)[:60],
                away_team=("Bezoekers " + LONG_WORD)[:60],
                competition=competition,
                closes_at=now + timedelta(days=1),
            ),
            None,
            now,
        )
        for _ in range(2)
    )
    db.flush()
    prediction_ballot = Ballot(poll_id=played.id, voter_key=f"u:{fan.id}", user_id=fan.id)
    db.add(prediction_ballot)
    db.flush()
    db.add(ScorePrediction(ballot_id=prediction_ballot.id, home_goals=2, away_goals=1, points=3))
    played.ballot_count += 1
    played.closes_at = now - timedelta(hours=2)
    played.result_home_goals, played.result_away_goals = 2, 1
    played.resolved_at, played.exact_points, played.outcome_points = now, 3, 1
    article.vote_count += 1
    db.commit()
    unsubscribe = preferences.unsubscribe_token(db, fan.id, NotificationKind.REPLY)
    # A live reset link (its page shows the form; the other mailed-link pages the dead link).
    token = issue_link(db, fan, TokenPurpose.RESET, timedelta(hours=1), now)
    db.commit()
    return {
        "users": users,
        "ids": {
            "article_id": article.cms_id,
            "comment_id": published.id,
            "user_id": fan.id,
            "poll_id": poll.id,
            "token": token,
            "message_id": failed.id,
            "endpoint_id": endpoint.id,
            "name": mail.delivery_id,  # the .eml the worker writes (run in the test)
            "competition": competition,
        },
        # A fan's live unsubscribe link (GET: the confirm page); <token> above is a reset link.
        "unsubscribe": f"/meldingen/afmelden/{unsubscribe}",
        "ratings": [
            f"/embed/polls/{ratings.id}",
            f"/redactie/peilingen/{ratings.id}/resultaten",
            f"/embed/polls/{upcoming.id}",
            f"/embed/polls/{played.id}",
            f"/redactie/peilingen/{played.id}/resultaten",
            f"/redactie/peilingen/{upcoming.id}/resultaten",
        ],
    }


def page_paths(app: Flask, ids: dict[str, object]) -> list[str]:
    """Every GET route that renders a page, its parameters filled from the seeded data."""
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIP_ENDPOINTS:
            continue
        if rule.rule.startswith(SKIP_PREFIXES) or rule.rule.endswith(SKIP_SUFFIXES):
            continue
        names = PARAMETER.findall(rule.rule)
        missing = [name for name in names if name not in ids]
        assert not missing, f"{rule.rule}: seed data for {missing}"
        paths.add(PARAMETER.sub(lambda m: str(ids[m.group(1)]), rule.rule))
    # The queue's tabs list different things.
    paths.update(f"/moderatie/?tab={tab}" for tab in TAB_LABELS)
    return sorted(paths)


def test_no_page_scrolls_sideways_at_360_px(
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    data = seed(db, make_user, make_article)
    run_worker(app.extensions["tribune.sessionmaker"], app.config, once=True)  # writes the .eml
    paths = page_paths(app, data["ids"]) + [data["unsubscribe"], *data["ratings"]]
    assert {"/beheer/", "/moderatie/statistieken", "/redactie/"} <= set(paths)
    offenders: list[str] = []
    for role in (None, Role.FAN, Role.MODERATOR, Role.EDITOR, Role.ADMIN):
        context = chromium.new_context(viewport=PHONE, is_mobile=True)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        if role is not None:
            log_in(page, base_url, data["users"][role])
        for path in paths:
            page.goto(base_url + path)
            width = page.evaluate(
                "() => [document.scrollingElement.scrollWidth, "
                "document.scrollingElement.clientWidth]"
            )
            if width[0] > width[1]:
                widest = page.evaluate(WIDEST_JS)
                who = role.value if role else "anonymous"
                offenders.append(f"{path} as {who}: {width[0]} > {width[1]} px, widest {widest}")
        context.close()
    assert not offenders, "pages scroll sideways at 360 px:\n" + "\n".join(offenders)
