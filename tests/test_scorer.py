"""The operator's scoring model against a real Perspective-compatible server the tests start
(tests/scorer_server.py): posting never waits on it, scores at or above the admins' thresholds
become flags (and hold), the deadline, the circuit breaker (calls counted on the server's side),
half-open recovery, bad answers, old jobs dropped, and the admins' threshold page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from config import SettingError
from models import (
    Article,
    Comment,
    CommentState,
    Flag,
    ModerationAction,
    Role,
    ScoringJob,
    ScoringState,
    SiteSetting,
    User,
    utcnow,
)
from moderation.comment_states import mark_reviewed, transition
from moderation.flags import FlagCode, Severity
from outbox import run_worker
from scoring.breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    MemoryBreakerStore,
    RedisBreakerStore,
)
from scoring.client import ATTRIBUTES, ScorerFailure, ScorerTarget, score_text
from scoring.thresholds import (
    ATTRIBUTE_LABELS_NL,
    DEFAULT_THRESHOLDS,
    FLAG_CODES,
    OUT_OF_RANGE_NL,
    Threshold,
    save_thresholds,
)
from tests.conftest import TEST_PASSWORD, login
from tests.factories import (
    REJECT_TEXT,
    create_comment,
    fresh,
    isolate_and_check,
    post_comment,
)
from tests.scorer_server import ScorerServer

# Texts the word lists publish (checked with moderation.screen) but the test model scores.
INSULT_TEXT = "Die wissel was idioot."  # INSULT 0.93 (holds), TOXICITY 0.92 (flag only)
MILD_TEXT = "Die spits is een sukkel vandaag."  # INSULT 0.60, TOXICITY 0.50: under every bar
SWEAR_TEXT = "Verdomme, weer verloren."  # PROFANITY 0.90: off by default
WORD_HELD_TEXT = "Ik ga die scheidsrechter kapotmaken na de match."  # threat_phrase holds it
CLEAN_TEXTS = (
    "Sterke match van de verdediging gisteren.",
    "Wanneer speelt KV Mechelen opnieuw thuis?",
    "De trainer moet meer jongeren kansen geven.",
    "Prachtige sfeer in het stadion vanavond.",
    "Die vrije trap in de tweede helft was subliem.",
)
FAILURES = 3
COOLDOWN = 60.0
BACKOFF = 30.0


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


@pytest.fixture
def scorer() -> Iterator[ScorerServer]:
    server = ScorerServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def scorer_settings(app_settings: dict[str, Any], scorer: ScorerServer) -> dict[str, Any]:
    """A scorer on 127.0.0.1 with a short deadline; the breaker opens after 3 failures."""
    app_settings.update(
        {
            "TRIBUNE_SCORER_URL": scorer.url,
            "TRIBUNE_SCORER_TIMEOUT_MS": 300,
            "TRIBUNE_SCORER_BREAKER_FAILURES": FAILURES,
            "TRIBUNE_SCORER_BREAKER_COOLDOWN_SECONDS": COOLDOWN,
            "TRIBUNE_SCORER_BACKOFF_SECONDS": BACKOFF,
            "TRIBUNE_SCORER_MAX_BACKOFF_SECONDS": 600.0,
            "TRIBUNE_SCORER_MAX_AGE_SECONDS": 3600,
            "TRIBUNE_WORKER_INTERVAL_SECONDS": 0.01,
        }
    )
    return app_settings


class Clock:
    """The worker's clock (jobs' backoff and the breaker's cool-down), moved by hand."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def work(app: Flask, clock: Callable[[], datetime] = utcnow) -> int:
    """Run the worker until nothing is due; how many scoring jobs it worked on."""
    report = run_worker(app.extensions["tribune.sessionmaker"], app.config, once=True, now=clock)
    return report.stepped


@pytest.fixture
def article(make_article: Callable[..., Article]) -> Article:
    return make_article(cms_id="kvm-club")


@pytest.fixture
def fan(make_user: Callable[..., User]) -> User:
    return make_user(username="Maneblusser")


@pytest.fixture
def fan_client(app: Flask, fan: User) -> FlaskClient:
    client = app.test_client()
    login(client, fan)
    return client


def jobs(db: Session) -> list[ScoringJob]:
    fresh(db)
    return list(db.scalars(select(ScoringJob).order_by(ScoringJob.id)))


def comment_of(db: Session, comment_id: int) -> Comment:
    fresh(db)
    comment = db.get(Comment, comment_id)
    assert comment is not None
    return comment


def flags_of(db: Session, comment_id: int) -> dict[str, Flag]:
    fresh(db)
    return {f.code: f for f in db.scalars(select(Flag).where(Flag.comment_id == comment_id))}


def actions_of(db: Session, comment_id: int) -> list[tuple[Any, ...]]:
    fresh(db)
    rows = db.scalars(
        select(ModerationAction)
        .where(ModerationAction.target_type == "comment")
        .where(ModerationAction.target_id == str(comment_id))
        .order_by(ModerationAction.id)
    )
    return [(r.action, r.actor_id, r.from_state, r.to_state) for r in rows]


def post(client: FlaskClient, text: str) -> tuple[int, int]:
    response = post_comment(client, "kvm-club", text)
    assert response.status_code in (201, 202, 422), response.get_data(as_text=True)
    answer = response.get_json()
    # A rejected comment is stored too; its answer is the error with the comment's id.
    found = answer.get("id") or answer["error"]["details"]["comment_id"]
    return response.status_code, int(found)


# ---------------------------------------------------------------- thresholds → flags, hold


def test_a_score_above_a_holding_threshold_flags_and_holds_the_comment(
    app: Flask,
    db: Session,
    article: Article,
    fan_client: FlaskClient,
    make_user: Callable[..., User],
    scorer: ScorerServer,
) -> None:
    status, comment_id = post(fan_client, INSULT_TEXT)

    # The post answered before the model was even asked: it waits for the worker.
    assert status == 201
    assert scorer.calls == []
    assert [(j.comment_id, j.state) for j in jobs(db)] == [(comment_id, ScoringState.PENDING)]

    assert work(app) == 1

    [call] = scorer.calls
    assert call.body == {
        "comment": {"text": INSULT_TEXT},
        "languages": ["nl"],
        "requestedAttributes": {name: {} for name in ATTRIBUTES},
        "doNotStore": True,
    }
    assert call.query == {}
    comment = comment_of(db, comment_id)
    assert comment.state is CommentState.HELD
    assert comment.top_reason == "beledigend"
    flags = flags_of(db, comment_id)
    assert set(flags) == {"model_insult", "model_toxicity"}
    assert flags["model_insult"].severity == Severity.HOLD
    assert flags["model_insult"].detail == "INSULT 0.93 (drempel 0.90)"
    # TOXICITY's default threshold only informs the moderators.
    assert flags["model_toxicity"].severity == Severity.INFO
    assert actions_of(db, comment_id)[-1] == ("score_threshold", None, "published", "held")
    [job] = jobs(db)
    assert job.state is ScoringState.DONE and job.attempts == 1
    assert job.scores is not None and job.scores["INSULT"] == pytest.approx(0.93)

    # The queue shows the model's flag like a word flag, with its score.
    moderator = make_user(Role.MODERATOR)
    page = login_as(app, moderator).get("/moderatie/?tab=wachtrij").get_data(as_text=True)
    assert FlagCode.MODEL_INSULT.label_nl in page
    assert "INSULT 0.93 (drempel 0.90)" in page

    # Nothing more to do: another round asks nothing.
    assert work(app) == 0
    assert len(scorer.calls) == 1


def login_as(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def test_scores_under_every_threshold_change_nothing(
    app: Flask, db: Session, article: Article, fan_client: FlaskClient, scorer: ScorerServer
) -> None:
    _, mild = post(fan_client, MILD_TEXT)
    _, swear = post(fan_client, SWEAR_TEXT)  # PROFANITY 0.90, but that threshold is off

    assert work(app) == 2

    for comment_id in (mild, swear):
        assert comment_of(db, comment_id).state is CommentState.PUBLISHED
        assert flags_of(db, comment_id) == {}
        assert actions_of(db, comment_id) == [("post", None, "new", "published")]
    assert [j.state for j in jobs(db)] == [ScoringState.DONE, ScoringState.DONE]
    assert len(scorer.calls) == 2


def test_a_threshold_that_does_not_hold_only_flags(
    app: Flask, db: Session, article: Article, fan_client: FlaskClient, make_user: Callable
) -> None:
    admin = make_user(Role.ADMIN)
    save_thresholds(db, admin, {"INSULT": Threshold(0.5, False), "PROFANITY": Threshold(0.8, True)})
    db.commit()
    _, insult = post(fan_client, INSULT_TEXT)
    _, swear = post(fan_client, SWEAR_TEXT)

    work(app)

    assert comment_of(db, insult).state is CommentState.PUBLISHED
    assert flags_of(db, insult)["model_insult"].severity == Severity.INFO
    assert comment_of(db, swear).state is CommentState.HELD
    assert flags_of(db, swear)["model_profanity"].detail == "PROFANITY 0.90 (drempel 0.80)"


def test_held_stays_held_rejected_is_not_scored_and_nothing_is_rejected(
    app: Flask, db: Session, article: Article, fan_client: FlaskClient, scorer: ScorerServer
) -> None:
    held_status, held = post(fan_client, WORD_HELD_TEXT)
    rejected_status, rejected = post(fan_client, REJECT_TEXT)
    assert (held_status, rejected_status) == (202, 422)

    assert [j.comment_id for j in jobs(db)] == [held]  # a rejected comment is not scored
    work(app)

    assert len(scorer.calls) == 1
    comment = comment_of(db, held)
    assert comment.state is CommentState.HELD
    assert flags_of(db, held)["model_threat"].severity == Severity.HOLD
    assert "threat_phrase" in flags_of(db, held)
    assert actions_of(db, held) == [("post", None, "new", "held")]  # no move of the model's
    assert comment_of(db, rejected).state is CommentState.REJECTED


def test_a_comment_a_moderator_already_reviewed_keeps_its_place(
    app: Flask,
    db: Session,
    article: Article,
    fan: User,
    make_user: Callable[..., User],
) -> None:
    comment = create_comment(db, article, fan, CommentState.PUBLISHED, body=INSULT_TEXT)
    mark_reviewed(db, comment, make_user(Role.MODERATOR))
    db.commit()

    work(app)

    assert comment_of(db, comment.id).state is CommentState.PUBLISHED
    assert flags_of(db, comment.id)["model_insult"].severity == Severity.HOLD


def test_the_key_is_sent_as_perspective_wants_it(
    app_settings: dict[str, Any], request: pytest.FixtureRequest, scorer: ScorerServer
) -> None:
    app_settings["TRIBUNE_SCORER_KEY"] = "geheim sleutel"
    app: Flask = request.getfixturevalue("app")
    target = ScorerTarget.from_settings(app.config)
    assert target is not None

    assert score_text(target, MILD_TEXT)["INSULT"] == pytest.approx(0.6)
    assert scorer.calls[-1].query == {"key": ["geheim sleutel"]}


# ---------------------------------------------------------------- posting never waits


def test_a_slow_scorer_times_out_the_job_retries_and_posting_is_unaffected(
    app: Flask, db: Session, article: Article, fan_client: FlaskClient, scorer: ScorerServer
) -> None:
    scorer.mode, scorer.slow_seconds = "slow", 5.0
    clock = Clock()

    status, comment_id = post(fan_client, INSULT_TEXT)
    assert status == 201 and scorer.calls == []  # posted while the scorer would sleep

    work(app, clock)

    assert len(scorer.calls) == 1
    [job] = jobs(db)
    assert (job.state, job.attempts) == (ScoringState.PENDING, 1)
    assert job.last_error is not None and job.last_error.startswith("timeout")
    assert job.next_attempt_at >= clock() + timedelta(seconds=BACKOFF - 5)
    assert comment_of(db, comment_id).state is CommentState.PUBLISHED
    # Posting goes on while the job waits.
    assert post(fan_client, CLEAN_TEXTS[0])[0] == 201

    work(app, clock)  # the first job's backoff is not over; the new one times out too
    assert len(scorer.calls) == 2

    scorer.mode = "ok"
    clock.advance(BACKOFF * 2 + 1)
    work(app, clock)

    assert len(scorer.calls) == 4
    assert [j.state for j in jobs(db)] == [ScoringState.DONE, ScoringState.DONE]
    assert comment_of(db, comment_id).state is CommentState.HELD


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("error", "status"),
        ("malformed", "malformed"),
        ("garbage", "malformed"),
        ("down", "connection"),
    ],
)
def test_bad_answers_and_a_down_scorer_are_failures(
    app: Flask,
    db: Session,
    article: Article,
    fan_client: FlaskClient,
    scorer: ScorerServer,
    mode: str,
    kind: str,
) -> None:
    if mode == "down":
        scorer.stop()
    else:
        scorer.mode = mode
    _, comment_id = post(fan_client, INSULT_TEXT)

    work(app, Clock())

    [job] = jobs(db)
    assert (job.state, job.attempts) == (ScoringState.PENDING, 1)
    assert job.last_error is not None and job.last_error.startswith(kind)
    assert comment_of(db, comment_id).state is CommentState.PUBLISHED
    assert flags_of(db, comment_id) == {}


# ---------------------------------------------------------------- the circuit breaker


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "per-process"])
def test_the_breaker_opens_after_n_failures_and_recovers_through_one_trial(
    app_settings: dict[str, Any],
    request: pytest.FixtureRequest,
    scorer: ScorerServer,
    shared: bool,
) -> None:
    app_settings["REDIS_URL"] = request.getfixturevalue("redis_url") if shared else None
    app: Flask = request.getfixturevalue("app")
    db: Session = request.getfixturevalue("db")
    article: Article = request.getfixturevalue("article")
    fan: User = request.getfixturevalue("fan")
    scorer.mode = "error"
    clock = Clock()
    comments = [
        create_comment(db, article, fan, CommentState.PUBLISHED, body=text) for text in CLEAN_TEXTS
    ]
    assert len(jobs(db)) == 5  # the ORM path records jobs as the hot path does

    work(app, clock)

    # Three failures in a row open it: no more calls reach the server.
    assert len(scorer.calls) == FAILURES
    assert sorted(j.attempts for j in jobs(db)) == [0, 0, 1, 1, 1]
    assert all(j.state is ScoringState.PENDING for j in jobs(db))  # waiting, not lost

    clock.advance(BACKOFF + 10)  # the jobs' backoff is over, the cool-down is not
    work(app, clock)
    assert len(scorer.calls) == FAILURES

    clock.advance(COOLDOWN)  # half-open: one trial, which fails and opens it again
    work(app, clock)
    assert len(scorer.calls) == FAILURES + 1
    work(app, clock)
    assert len(scorer.calls) == FAILURES + 1

    scorer.mode = "ok"
    clock.advance(COOLDOWN + 1)  # the trial succeeds: closed, every job is scored
    work(app, clock)

    assert len(scorer.calls) == FAILURES + 1 + len(comments)
    assert all(j.state is ScoringState.DONE for j in jobs(db))
    assert all(comment_of(db, c.id).state is CommentState.PUBLISHED for c in comments)


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "per-process"])
def test_a_half_open_round_without_a_call_leaves_the_trial_to_the_next(
    app_settings: dict[str, Any],
    request: pytest.FixtureRequest,
    scorer: ScorerServer,
    shared: bool,
) -> None:
    app_settings["REDIS_URL"] = request.getfixturevalue("redis_url") if shared else None
    app: Flask = request.getfixturevalue("app")
    db: Session = request.getfixturevalue("db")
    article: Article = request.getfixturevalue("article")
    fan: User = request.getfixturevalue("fan")
    scorer.mode = "error"
    clock = Clock()
    failing = [
        create_comment(db, article, fan, CommentState.PUBLISHED, body=text)
        for text in CLEAN_TEXTS[:FAILURES]
    ]
    work(app, clock)
    assert len(scorer.calls) == FAILURES  # open
    for comment in failing:  # their author deletes them while the breaker is open
        transition(db, db.get(Comment, comment.id), CommentState.DELETED, "delete", fan)
    db.commit()

    scorer.mode = "ok"
    clock.advance(COOLDOWN + 1)
    work(app, clock)  # half-open: the due jobs have nothing left to score, no call is made
    assert len(scorer.calls) == FAILURES
    assert all(j.state is ScoringState.DONE and j.scores is None for j in jobs(db))

    later = create_comment(db, article, fan, CommentState.PUBLISHED, body=INSULT_TEXT)
    work(app, clock)  # the trial is still there to make: it scores, the breaker closes

    assert len(scorer.calls) == FAILURES + 1
    assert comment_of(db, later.id).state is CommentState.HELD


@pytest.fixture(params=["memory", "redis"])
def breaker_pair(request: pytest.FixtureRequest) -> tuple[CircuitBreaker, CircuitBreaker]:
    """Two workers' breakers: one each without Redis, one shared store with it."""
    if request.param == "memory":
        first, second = MemoryBreakerStore(), MemoryBreakerStore()
        return (
            CircuitBreaker(first, FAILURES, COOLDOWN, 5.0),
            CircuitBreaker(second, FAILURES, COOLDOWN, 5.0),
        )
    url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url)
    prefix = f"tribune-test-breaker-{uuid.uuid4().hex[:12]}"
    store = RedisBreakerStore(client, prefix)
    request.addfinalizer(store.reset)
    return (
        CircuitBreaker(RedisBreakerStore(client, prefix), FAILURES, COOLDOWN, 5.0),
        CircuitBreaker(RedisBreakerStore(client, prefix), FAILURES, COOLDOWN, 5.0),
    )


def test_breaker_states_and_sharing(breaker_pair: tuple[CircuitBreaker, CircuitBreaker]) -> None:
    first, second = breaker_pair
    shared = isinstance(first.store, RedisBreakerStore)
    now = 1_000.0
    for _ in range(FAILURES - 1):
        first.failed(now)
    first.succeeded()  # a success in between: failures must be consecutive
    for _ in range(FAILURES):
        assert first.allow(now)
        first.failed(now)

    assert first.state(now) == OPEN and not first.allow(now + COOLDOWN - 1)
    # With Redis every worker sees the same breaker; without, each process has its own.
    assert second.state(now) == (OPEN if shared else CLOSED)

    later = now + COOLDOWN
    assert first.state(later) == HALF_OPEN
    assert first.allow(later)  # the one trial
    assert not first.allow(later)
    assert second.allow(later) is (not shared)  # another worker gets no second trial
    first.failed(later)
    assert first.state(later) == OPEN

    first.store.release_trial()
    assert first.allow(later + COOLDOWN)
    first.succeeded()
    assert first.state(later + COOLDOWN) == CLOSED
    assert second.state(later + COOLDOWN) == CLOSED


def test_score_text_refuses_what_is_not_an_answer(scorer: ScorerServer) -> None:
    target = ScorerTarget(scorer.url, None, 0.3)
    scorer.mode = "malformed"
    with pytest.raises(ScorerFailure) as failure:
        score_text(target, MILD_TEXT)
    assert failure.value.kind == "malformed"


# ---------------------------------------------------------------- old jobs, no scorer


def test_jobs_older_than_the_limit_are_dropped_and_audited(
    app: Flask, db: Session, article: Article, fan_client: FlaskClient, scorer: ScorerServer
) -> None:
    scorer.stop()
    clock = Clock()
    _, comment_id = post(fan_client, INSULT_TEXT)
    work(app, clock)  # one failed try

    clock.advance(3600 + 1)
    work(app, clock)

    [job] = jobs(db)
    assert job.state is ScoringState.DROPPED
    assert actions_of(db, comment_id)[-1] == ("scoring_dropped", None, None, None)
    assert comment_of(db, comment_id).state is CommentState.PUBLISHED
    assert post(fan_client, CLEAN_TEXTS[1])[0] == 201


def test_without_a_scorer_url_no_job_is_recorded(
    app_settings: dict[str, Any],
    request: pytest.FixtureRequest,
    scorer: ScorerServer,
) -> None:
    app_settings["TRIBUNE_SCORER_URL"] = None
    app: Flask = request.getfixturevalue("app")
    db: Session = request.getfixturevalue("db")
    request.getfixturevalue("article")
    client = request.getfixturevalue("fan_client")

    assert post(client, INSULT_TEXT)[0] == 201
    assert work(app) == 0

    assert jobs(db) == []
    assert scorer.calls == []


# ---------------------------------------------------------------- the admins' page

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGE = "/beheer/scoremodel"


@pytest.mark.parametrize("role", [None, Role.FAN, Role.MODERATOR, Role.EDITOR])
def test_only_admins_see_and_change_the_thresholds(
    app: Flask, db: Session, make_user: Callable[..., User], role: Role | None
) -> None:
    client = app.test_client()
    if role is not None:
        login(client, make_user(role))

    assert client.get(PAGE).status_code in ((302, 401) if role is None else (403,))
    response = client.post(PAGE, data={"insult_value": "0,1", "insult_hold": "y"})
    assert response.status_code in ((302, 401) if role is None else (403,))

    assert db.get(SiteSetting, "scorer_thresholds") is None


def test_the_admin_sets_thresholds_and_the_worker_uses_them(
    app: Flask,
    db: Session,
    article: Article,
    fan_client: FlaskClient,
    make_user: Callable[..., User],
) -> None:
    admin = login_as(app, make_user(Role.ADMIN))
    page = admin.get(PAGE).get_data(as_text=True)
    assert "Scoremodel" in page and "Bedreiging: drempel" in page
    assert 'value="0,8"' in page  # THREAT's default, with a decimal comma

    form = {f"{name.lower()}_value": "" for name in ATTRIBUTES}
    form.update({"insult_value": "0,5", "insult_hold": "y", "toxicity_value": "0.99"})
    response = admin.post(PAGE, data=form)

    assert response.status_code == 303
    fresh(db)
    stored = db.get(SiteSetting, "scorer_thresholds")
    assert stored is not None and isinstance(stored.value, dict)
    assert stored.value["INSULT"] == {"value": 0.5, "hold": True}
    assert stored.value["THREAT"] == {"value": None, "hold": False}  # emptied: off
    assert stored.value["TOXICITY"] == {"value": 0.99, "hold": False}

    _, mild = post(fan_client, MILD_TEXT)  # INSULT 0.60 ≥ 0.5 now
    work(app)
    assert comment_of(db, mild).state is CommentState.HELD


def test_a_threshold_outside_0_to_1_comes_back_beside_its_field_in_dutch(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    admin = login_as(app, make_user(Role.ADMIN))

    response = admin.post(PAGE, data={"threat_value": "1,5", "insult_value": "veel"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count(OUT_OF_RANGE_NL) == 2
    assert re.search(r'id="threat_value"[^>]*value="1,5"|value="1,5"[^>]*id="threat_value"', page)
    assert 'aria-invalid="true"' in page
    assert 'value="veel"' in page
    fresh(db)
    assert db.get(SiteSetting, "scorer_thresholds") is None

    answer = admin.post(PAGE, json={"threat_value": "2"}, headers={"Accept": "application/json"})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "invalid_threshold"


def test_the_threshold_form_needs_its_csrf_token(
    app_settings: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    app_settings["WTF_CSRF_ENABLED"] = True
    app: Flask = request.getfixturevalue("app")
    admin = request.getfixturevalue("make_user")(Role.ADMIN)
    client = app.test_client()
    token = CSRF_FIELD.search(client.get("/login").get_data(as_text=True))
    assert token
    client.post(
        "/login",
        data={"login": admin.username, "password": TEST_PASSWORD, "csrf_token": token.group(1)},
    )

    assert client.post(PAGE, data={"insult_value": "0,5"}).status_code == 400

    page = client.get(PAGE).get_data(as_text=True)
    form_token = CSRF_FIELD.search(page)
    assert form_token
    form = {f"{name.lower()}_value": "0,5" for name in ATTRIBUTES}
    response = client.post(PAGE, data={**form, "csrf_token": form_token.group(1)})
    assert response.status_code == 303


def test_the_defaults_hold_on_the_serious_attributes_only() -> None:
    assert set(DEFAULT_THRESHOLDS) == set(ATTRIBUTES) == set(FLAG_CODES) == set(ATTRIBUTE_LABELS_NL)
    holding = {name for name, t in DEFAULT_THRESHOLDS.items() if t.hold}
    assert holding == {"SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "THREAT"}
    assert DEFAULT_THRESHOLDS["PROFANITY"].value is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TRIBUNE_SCORER_URL", "ftp://scorer.example/analyze"),
        ("TRIBUNE_SCORER_TIMEOUT_MS", 0),
        ("TRIBUNE_SCORER_BREAKER_FAILURES", 0),
    ],
)
def test_unusable_scorer_settings_stop_the_start(
    app_settings: dict[str, Any], key: str, value: object
) -> None:
    with pytest.raises(SettingError, match=key):
        create_app({**app_settings, key: value})


def test_the_texts_these_tests_post_are_what_they_say_for_the_word_layers() -> None:
    """The premise of the tests above: the word lists and the phrase layer publish what only
    the model should judge, and hold WORD_HELD_TEXT (a failure here means the texts need
    changing after a screening change, not that the scorer broke)."""
    from moderation.screening import screen

    for text in (INSULT_TEXT, MILD_TEXT, SWEAR_TEXT, *CLEAN_TEXTS):
        assert screen(text).decision == "publish", text
    assert screen(WORD_HELD_TEXT).decision == "hold"
