"""An SSO reader's first sign-in under concurrency: the same reader in two tabs gets one
account, two readers of one name get two visible names, never an error. Real threads, each with
its own session and write transaction; the PostgreSQL variant always runs (on a SQLite suite it
migrates a throwaway database on the postgres server), where the unique constraints decide."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from accounts import sso
from accounts.sso import SsoClaims, sign_in_sso
from app import create_app
from db import begin_write
from migrations import upgrade_database
from models import SsoIdentity, User, utcnow
from tests.conftest import _backend


@pytest.fixture(params=["suite-backend"] + ([] if _backend() == "postgresql" else ["postgresql"]))
def race_app(request: pytest.FixtureRequest, app_settings: dict[str, Any]) -> Iterator[Flask]:
    if request.param == "postgresql" and _backend() != "postgresql":
        server = request.getfixturevalue("postgres_server")
        name = server.create("sso")
        upgrade_database(server.url_for(name))
        application = create_app({**app_settings, "DATABASE_URL": server.url_for(name)})
        yield application
        application.extensions["tribune.engine"].dispose()
        server.drop(name)
        return
    yield request.getfixturevalue("app")


def reader(subject: str) -> SsoClaims:
    now = utcnow()
    return SsoClaims("", subject, "Jan", None, now, now + timedelta(minutes=5))


def _together(monkeypatch: pytest.MonkeyPatch, parties: int) -> None:
    """Hold each sign-in after its lookups until all have looked (where the database lets
    them: SQLite's second writer waits at BEGIN IMMEDIATE, so the wait times out there)."""
    barrier = threading.Barrier(parties)
    original = sso.free_display_name

    def looked(*args: Any, **kwargs: Any) -> str:
        name = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=1)
        return name

    monkeypatch.setattr(sso, "free_display_name", looked)


def _sign_in_all(app: Flask, subjects: list[str]) -> tuple[list[int], list[BaseException]]:
    ids: list[int] = []
    errors: list[BaseException] = []

    def work(subject: str) -> None:
        session = app.extensions["tribune.sessionmaker"]()
        try:
            begin_write(session)
            user, _ = sign_in_sso(session, reader(subject))
            session.commit()
            ids.append(user.id)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=work, args=(s,)) for s in subjects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return ids, errors


def _count(app: Flask, model: Callable[..., Any]) -> int:
    session = app.extensions["tribune.sessionmaker"]()
    try:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        session.close()


def test_the_same_reader_twice_at_once_gets_one_account(
    race_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _together(monkeypatch, 2)

    ids, errors = _sign_in_all(race_app, ["lezer-1", "lezer-1"])

    assert not errors, errors
    assert len(ids) == 2 and ids[0] == ids[1]
    assert _count(race_app, SsoIdentity) == 1
    assert _count(race_app, User) == 1


def test_two_readers_of_one_name_at_once_get_two_names(
    race_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _together(monkeypatch, 2)

    ids, errors = _sign_in_all(race_app, ["lezer-1", "lezer-2"])

    assert not errors, errors
    assert len(set(ids)) == 2
    session = race_app.extensions["tribune.sessionmaker"]()
    try:
        names = sorted(session.scalars(select(User.username)))
    finally:
        session.close()
    assert names == ["Jan", "Jan · 2"]
