"""Request sessions: read-first write requests read without a lock, then write in one go."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import create_app
from db import READ_FIRST_OPTION, begin_write, start_write
from migrations import upgrade_database
from models import Article


@pytest.fixture
def sqlite_app(tmp_path: Path, app_settings: dict[str, Any]) -> Iterator[Flask]:
    """An app on its own SQLite file, whichever backend the suite runs on (SQLite behaviour)."""
    url = f"sqlite:///{tmp_path / 'eigen.db'}"
    upgrade_database(url)
    app = create_app({**app_settings, "DATABASE_URL": url, "REDIS_URL": ""})
    yield app
    app.extensions["tribune.engine"].dispose()


def _read_first_session(app: Flask) -> Session:
    session: Session = app.extensions["tribune.sessionmaker"]()
    session.connection(execution_options={READ_FIRST_OPTION: True})
    return session


def test_a_read_first_session_writes_after_start_write_on_the_same_connection(
    app: Flask, db: Session
) -> None:
    session = _read_first_session(app)
    reading = session.connection()
    assert session.scalar(select(func.count()).select_from(Article)) == 0

    start_write(session)
    writing = session.connection()
    session.add(Article(cms_id="na-het-lezen", title="Geschreven na het lezen"))
    session.commit()
    session.close()

    assert writing is reading  # one connection and one checkout for the request
    assert db.scalar(select(Article.title).where(Article.cms_id == "na-het-lezen")) == (
        "Geschreven na het lezen"
    )


def test_writing_before_start_write_is_refused(sqlite_app: Flask) -> None:
    app = sqlite_app
    session = _read_first_session(app)

    with pytest.raises(RuntimeError, match="start_write"):
        session.execute(text("INSERT INTO articles (cms_id, title) VALUES ('te-vroeg', 'x')"))
    session.rollback()
    session.close()

    with app.extensions["tribune.sessionmaker"]() as check:
        assert check.scalar(select(func.count()).select_from(Article)) == 0


def test_sqlite_read_first_reads_take_no_lock_and_the_write_takes_the_write_lock(
    sqlite_app: Flask,
) -> None:
    app = sqlite_app
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    session = _read_first_session(app)
    session.scalar(select(func.count()).select_from(Article))
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)

    other.execute("BEGIN IMMEDIATE")  # nothing holds a lock during the reads
    other.execute("ROLLBACK")
    start_write(session)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    session.rollback()
    other.execute("BEGIN IMMEDIATE")  # released by the rollback
    other.execute("ROLLBACK")
    other.close()
    session.close()


def test_a_rolled_back_read_first_session_leaves_its_connection_clean(app: Flask) -> None:
    """The autocommit flag dies with the request: the next user of the connection may write."""
    session = _read_first_session(app)
    session.scalar(select(func.count()).select_from(Article))
    session.rollback()
    session.close()

    writer: Session = app.extensions["tribune.sessionmaker"]()
    writer.add(Article(cms_id="daarna", title="Daarna"))
    writer.commit()
    writer.close()


def test_a_writer_waits_for_the_write_lock_and_gets_it_once_free(sqlite_app: Flask) -> None:
    """BEGIN IMMEDIATE retries in short steps while another writer holds the lock."""
    import threading

    app = sqlite_app
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.2, lambda: holder.execute("ROLLBACK"))
    session = _read_first_session(app)
    session.scalar(select(func.count()).select_from(Article))

    timer.start()
    start_write(session)  # waits about 0.2 s, then holds the lock
    session.add(Article(cms_id="gewacht", title="Gewacht"))
    session.commit()
    session.close()
    timer.join()
    holder.close()

    with app.extensions["tribune.sessionmaker"]() as check:
        assert check.scalar(select(Article.title).where(Article.cms_id == "gewacht")) == "Gewacht"


def test_a_driver_select_returns_what_core_returns(sqlite_app: Flask) -> None:
    """The posting target read on SQLite's driver connection: same rows, same Python types
    (UTC datetimes, enums), for an article with overlapping match-day windows."""
    from datetime import UTC, datetime, timedelta

    from models import MatchDayMode, MatchDayWindow
    from moderation.modes import _TARGET
    from writes.driver import DriverSelect

    now = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    session: Session = sqlite_app.extensions["tribune.sessionmaker"]()
    article = Article(cms_id="derby", title="Derby", published_at=now - timedelta(hours=3))
    session.add(article)
    session.flush()
    for article_id, mode, slow in (
        (article.id, MatchDayMode.SLOW, 30),
        (None, MatchDayMode.PREMODERATE, None),
    ):
        session.add(
            MatchDayWindow(
                article_id=article_id,
                mode=mode,
                slow_seconds=slow,
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=1),
            )
        )
    session.commit()
    connection = session.connection()
    select_on_driver = DriverSelect(_TARGET, connection.dialect)

    for values in ({"cms_id": "derby", "now": now}, {"cms_id": "onbekend", "now": now}):
        core = connection.execute(_TARGET, values).all()
        driver = select_on_driver.all(connection, values)
        assert [tuple(row) for row in driver] == [tuple(row) for row in core]
        assert [row._fields for row in driver] == [tuple(row._fields) for row in core]
    rows = select_on_driver.all(connection, {"cms_id": "derby", "now": now})
    assert len(rows) == 2
    assert rows[0].published_at == now - timedelta(hours=3)
    assert rows[0].published_at.tzinfo is not None
    assert {row.mode for row in rows} == {MatchDayMode.SLOW, MatchDayMode.PREMODERATE}
    session.close()


def test_a_driver_select_refuses_an_in_list_it_cannot_render(sqlite_app: Flask) -> None:
    from writes.driver import DriverSelect

    statement = select(Article.id).where(Article.cms_id.in_(["a", "b"]))
    engine = sqlite_app.extensions["tribune.engine"]

    with pytest.raises(ValueError, match="IN list"):
        DriverSelect(statement, engine.dialect)


def test_sqlite_maps_the_file_for_reads_and_not_for_writes(sqlite_app: Flask) -> None:
    """Another writer's commit drops SQLite's memory map: writing transactions go without it,
    reading ones keep it (a connection switches as its next transaction begins)."""

    def map_size(session: Session) -> int:
        return int(session.connection().exec_driver_sql("PRAGMA mmap_size").scalar_one())

    factory = sqlite_app.extensions["tribune.sessionmaker"]
    sizes = []
    for start in ("read", "read_first", "write", "read"):
        session: Session = factory()
        if start == "read_first":
            session.connection(execution_options={READ_FIRST_OPTION: True})
        elif start == "write":
            begin_write(session)
        sizes.append(map_size(session))
        session.rollback()
        session.close()

    assert sizes[0] > 0 and sizes[3] == sizes[0]
    assert sizes[1:3] == [0, 0]
