"""Moderators' runtime word-list changes: versioned, audited, and picked up by every worker."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from errors import Invalid
from models import Article, LexiconAction, LexiconEntry, ModerationAction, Role, User
from moderation.lexicon import active_lexicon, default_lexicon, set_active_lexicon
from moderation.runtime import add_entry, read_version, remove_entry
from moderation.screening import screen
from tests.conftest import login
from tests.factories import (
    SharedApp,
    fresh,
    isolate_and_check,
    module_database,
    post_comment,
    shared_app,
)

ROOT = Path(__file__).resolve().parents[1]
WORD = "zwijntjesvolk"  # made up: on no shipped list
SENTENCE = f"Wat een {WORD} daar in de kopse kant"
LINK = "Kijk op https://example.com/verslag voor de samenvatting"

# Another worker: builds the app from the environment, screens WORD, and reports when the
# decision changes (or "timeout" after 10 s).
WORKER = """
import sys, time
from app import create_app
from wiring import screen_text

word = sys.argv[1]
app = create_app()
with app.app_context():
    first = screen_text(word).decision
    print(first, flush=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        decision = screen_text(word).decision
        if decision != first:
            print(decision, flush=True)
            break
        time.sleep(0.02)
    else:
        print("timeout", flush=True)
"""


@pytest.fixture(autouse=True)
def _shipped_lexicon() -> Iterator[None]:
    """The active lexicon is per process: start and end every test with the shipped one."""
    set_active_lexicon(default_lexicon())
    yield
    set_active_lexicon(default_lexicon())


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


@pytest.fixture(scope="module")
def shared(
    request: pytest.FixtureRequest,
    database_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SharedApp]:
    """One app for the refused changes below: none of them may move the version."""
    with (
        module_database(request, database_template, tmp_path_factory) as url,
        shared_app(url) as shared,
    ):
        yield shared


@pytest.fixture
def moderator(make_user: Callable[..., User]) -> User:
    return make_user(Role.MODERATOR)


def _lexicon_audit(db: Session) -> list[tuple[Any, ...]]:
    fresh(db)
    return [
        (row.action, row.to_state, row.note, row.actor_id)
        for row in db.scalars(
            select(ModerationAction)
            .where(ModerationAction.target_type == "lexicon")
            .order_by(ModerationAction.id)
        )
    ]


def test_an_added_word_flags_after_a_refresh_and_stops_after_its_removal(
    app: Flask, db: Session, moderator: User
) -> None:
    refresher = app.extensions["tribune.lexicon"]
    assert screen(SENTENCE).decision == "publish"

    entry, version = add_entry(db, moderator, LexiconAction.ADD, f"  {WORD.upper()} ", "hold")
    db.commit()
    refresher.refresh(force=True)

    assert (entry.word, entry.list_name, version) == (WORD, "hold", 1)
    assert active_lexicon().version == 1
    screening = screen(SENTENCE)
    assert screening.decision == "hold"
    [flag] = screening.flags
    assert (flag.detail, SENTENCE[flag.start : flag.end]) == (WORD, WORD)

    remove_entry(db, moderator, entry.id)
    db.commit()
    refresher.refresh(force=True)

    assert screen(SENTENCE).decision == "publish"
    assert db.scalars(select(LexiconEntry)).all() == []
    assert [(action, to_state, actor) for action, to_state, _, actor in _lexicon_audit(db)] == [
        ("lexicon_add", "hold", moderator.id),
        ("lexicon_undo_add", None, moderator.id),
    ]


def test_each_change_moves_the_stored_version_by_one_and_says_which(
    db: Session, moderator: User
) -> None:
    versions = []
    first, version = add_entry(db, moderator, LexiconAction.ADD, WORD, "hold")
    db.commit()
    versions.append((version, read_version(db)))
    _, version = add_entry(db, moderator, LexiconAction.ALLOW_DOMAIN, "example.com")
    db.commit()
    versions.append((version, read_version(db)))
    version = remove_entry(db, moderator, first.id)
    db.commit()
    versions.append((version, read_version(db)))

    assert versions == [(1, 1), (2, 2), (3, 3)]
    assert [note for _, _, note, _ in _lexicon_audit(db)] == [
        f"{WORD} (versie 1)",
        "example.com (versie 2)",
        f"{WORD} (versie 3)",
    ]


def test_an_allowed_domain_lets_a_link_through(app: Flask, db: Session, moderator: User) -> None:
    assert screen(LINK).decision == "hold"

    add_entry(db, moderator, LexiconAction.ALLOW_DOMAIN, "www.Example.com")
    db.commit()
    app.extensions["tribune.lexicon"].refresh(force=True)

    assert screen(LINK).decision == "publish"
    assert screen("Kijk op https://nieuws.example.com/x").decision == "publish"
    assert screen("Kijk op https://example.org/x voor meer").decision == "hold"
    assert _lexicon_audit(db) == [
        ("lexicon_allow_domain", None, "www.example.com (versie 1)", moderator.id)
    ]


def test_a_changed_word_is_seen_by_the_next_comment_without_waiting(
    client: FlaskClient,
    db: Session,
    moderator: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    login(client, make_user())
    assert post_comment(client, article.cms_id, SENTENCE).status_code == 201
    refresher = client.application.extensions["tribune.lexicon"]

    _, version = add_entry(db, moderator, LexiconAction.ADD, WORD, "hold")
    db.commit()
    refresher.publish(version)
    response = post_comment(client, article.cms_id, f"Nog eens: {WORD}, echt waar")

    assert response.status_code == 202
    assert response.get_json()["reasons"][0] == "beledigend"


@pytest.mark.parametrize(
    ("action", "word", "list_name", "code"),
    [
        (LexiconAction.ADD, WORD, "geen-lijst", "invalid_list"),
        (LexiconAction.ADD, WORD, None, "invalid_list"),
        (LexiconAction.ADD, "x", "hold", "invalid_word"),
        (LexiconAction.ALLOW, "x" * 101, None, "invalid_word"),
        (LexiconAction.ALLOW, "twee\nregels", None, "invalid_word"),
    ],
)
def test_invalid_changes_are_refused_and_leave_the_version(
    shared: SharedApp, action: LexiconAction, word: str, list_name: str | None, code: str
) -> None:
    db = shared.db
    with pytest.raises(Invalid) as refused:
        add_entry(db, shared.reader, action, word, list_name)
    db.rollback()

    assert refused.value.code == code
    assert read_version(db) == 0
    assert _lexicon_audit(db) == []
    assert db.scalars(select(LexiconEntry)).all() == []


# ---------------------------------------------------------------- another worker process


class Worker:
    """A separate Python process running the app on the same database (and Redis)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, WORD],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def next_line(self, timeout: float) -> str | None:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.kill()
        _, stderr = self.process.communicate(timeout=10)
        return stderr


def _worker_env(database_url: str, redis_url: str | None, prefix: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TRIBUNE_") and key != "REDIS_URL"
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="test-secret",
        TRIBUNE_LEXICON_CHECK_SECONDS="0",
        TRIBUNE_RATELIMIT_ENABLED="false",
        TRIBUNE_REDIS_PREFIX=prefix,
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@pytest.fixture
def without_redis(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["REDIS_URL"] = None
    app_settings["RATELIMIT_STORAGE_URI"] = "memory://"
    return app_settings


@pytest.fixture
def with_redis(app_settings: dict[str, Any], redis_url: str) -> dict[str, Any]:
    app_settings["REDIS_URL"] = redis_url
    app_settings.pop("RATELIMIT_STORAGE_URI", None)
    return app_settings


def test_runtime_word_list_changes_reach_another_worker_process_through_the_database(
    without_redis: dict[str, Any], app: Flask, db: Session, moderator: User
) -> None:
    worker = Worker(
        _worker_env(without_redis["DATABASE_URL"], None, without_redis["TRIBUNE_REDIS_PREFIX"])
    )
    try:
        before = worker.next_line(timeout=30)
        _, version = add_entry(db, moderator, LexiconAction.ADD, WORD, "hold")
        db.commit()
        app.extensions["tribune.lexicon"].publish(version)
        after = worker.next_line(timeout=15)
    finally:
        stderr = worker.stop()

    assert (before, after) == ("publish", "hold"), stderr[-2000:]


@pytest.mark.redis
def test_runtime_word_list_changes_reach_another_worker_process_through_redis(
    with_redis: dict[str, Any], app: Flask, db: Session, moderator: User
) -> None:
    refresher = app.extensions["tribune.lexicon"]
    # As after an earlier change: the workers read the version from Redis, not the database.
    refresher.publish(0)
    worker = Worker(
        _worker_env(
            with_redis["DATABASE_URL"], with_redis["REDIS_URL"], with_redis["TRIBUNE_REDIS_PREFIX"]
        )
    )
    try:
        before = worker.next_line(timeout=30)
        _, version = add_entry(db, moderator, LexiconAction.ADD, WORD, "hold")
        db.commit()
        # Committed but not yet announced: the worker keeps its lexicon.
        unannounced = worker.next_line(timeout=0.5)
        refresher.publish(version)
        after = worker.next_line(timeout=15)
    finally:
        stderr = worker.stop()
        app.extensions["tribune.redis"].delete(refresher.redis_key)

    assert (before, unannounced, after) == ("publish", None, "hold"), stderr[-2000:]


@pytest.mark.redis
def test_a_worker_rebuilds_its_lexicon_only_when_the_version_moved(
    with_redis: dict[str, Any], app: Flask, db: Session, moderator: User
) -> None:
    refresher = app.extensions["tribune.lexicon"]
    try:
        for word in (WORD, "varkensvolkje"):
            _, version = add_entry(db, moderator, LexiconAction.ADD, word, "hold")
            db.commit()
            refresher.publish(version)
        refresher.refresh(force=True)
        built = active_lexicon()
        refresher.refresh(force=True)
        again = active_lexicon()
    finally:
        app.extensions["tribune.redis"].delete(refresher.redis_key)

    assert built.version == read_version(db) == 2
    assert again is built
