"""Article and site modes: premoderated, closed, auto-close, match-day windows and their edges."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from comments.activity import MemoryActivity
from comments.services import post_comment as post_service
from models import (
    Article,
    Comment,
    CommentMode,
    CommentState,
    MatchDayMode,
    MatchDayWindow,
    ModerationAction,
    Role,
    User,
    utcnow,
)
from moderation.modes import ActiveMode, active_mode, posting_target
from moderation.rules import PostingPolicy
from moderation.screening import screen
from tests.conftest import client_for
from tests.factories import CLEAN_TEXTS, error_code, fresh, post_comment

JSON = {"Accept": "application/json"}
PREMODERATION_NOTICE = "Reacties worden eerst nagekeken."


pytestmark = pytest.mark.usefixtures("own_redis_keys")


def add_window(
    db: Session,
    article: Article | None,
    mode: MatchDayMode,
    starts_at: datetime,
    ends_at: datetime,
    slow_seconds: int | None = None,
) -> MatchDayWindow:
    window = MatchDayWindow(
        article_id=article.id if article else None,
        mode=mode,
        slow_seconds=slow_seconds,
        starts_at=starts_at,
        ends_at=ends_at,
        label="Derby",
    )
    db.add(window)
    db.commit()
    return window


def mode_at(db: Session, article: Article, auto_close_days: int, moment: datetime) -> ActiveMode:
    """active_mode (pages), checked against posting_target (the posting hot path's one read)."""
    mode = active_mode(db, article, auto_close_days, now=moment)
    target = posting_target(db, article.cms_id, auto_close_days, moment)
    assert target.id == article.id
    assert (target.mode.closed, target.mode.premoderated, target.mode.slow_seconds) == (
        mode.closed,
        mode.premoderated,
        mode.slow_seconds,
    )
    return mode


# ---------------------------------------------------------------- the article's own mode


@pytest.mark.parametrize(
    ("mode", "status", "state"),
    [
        (CommentMode.OPEN, 201, CommentState.PUBLISHED),
        (CommentMode.PREMODERATED, 202, CommentState.HELD),
        (CommentMode.CLOSED, 409, None),
    ],
)
def test_article_mode_decides_what_a_clean_comment_does(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    mode: CommentMode,
    status: int,
    state: CommentState | None,
) -> None:
    article = make_article(comment_mode=mode)
    client = client_for(app, make_user())

    response = post_comment(client, article.cms_id, CLEAN_TEXTS[0])
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)

    assert response.status_code == status
    fresh(db)
    stored = db.scalars(select(Comment)).all()
    if state is None:
        assert error_code(response) == "comments_closed"
        assert stored == []
        assert "Reageren op dit artikel is gesloten." in page
    else:
        assert [c.state for c in stored] == [state]
    assert (PREMODERATION_NOTICE in page) == (mode is CommentMode.PREMODERATED)


# ---------------------------------------------------------------- auto-close


@pytest.mark.parametrize(
    ("days", "age", "status"),
    [
        (30, timedelta(days=31), 409),
        (30, timedelta(days=30, minutes=1), 409),
        (30, timedelta(days=29, hours=23), 201),
        (2, timedelta(days=3), 409),
        (2, timedelta(days=1), 201),
        (0, timedelta(days=3650), 201),
    ],
    ids=["30d-old", "30d-just-over", "30d-just-under", "2d-old", "2d-young", "disabled"],
)
def test_articles_close_automatically_n_days_after_publication(
    request: pytest.FixtureRequest,
    app_settings: dict[str, Any],
    days: int,
    age: timedelta,
    status: int,
) -> None:
    app_settings["TRIBUNE_AUTO_CLOSE_DAYS"] = days
    app: Flask = request.getfixturevalue("app")
    make_user = request.getfixturevalue("make_user")
    article = request.getfixturevalue("make_article")(published_at=utcnow() - age)
    client = client_for(app, make_user())

    response = post_comment(client, article.cms_id, CLEAN_TEXTS[0])
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)

    assert response.status_code == status
    if status == 409:
        assert error_code(response) == "comments_closed"
        assert "Reageren op dit artikel is gesloten." in page
    else:
        assert 'id="reageer"' in page


def test_an_article_without_a_publication_date_never_closes_by_itself(
    app: Flask, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    article = make_article(published_at=None)

    response = post_comment(client_for(app, make_user()), article.cms_id, CLEAN_TEXTS[0])

    assert response.status_code == 201


# ---------------------------------------------------------------- match-day windows: boundaries


START = datetime(2026, 5, 3, 18, 0, tzinfo=UTC)
END = START + timedelta(hours=3)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        (START - TICK, False),
        (START, True),
        (START + timedelta(hours=1), True),
        (END - TICK, True),
        (END, False),
    ],
    ids=["before", "at-start", "during", "just-before-end", "at-end"],
)
@pytest.mark.parametrize("site_wide", [True, False], ids=["site", "article"])
def test_a_premoderation_window_applies_from_its_start_until_before_its_end(
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    moment: datetime,
    active: bool,
    site_wide: bool,
) -> None:
    article, elsewhere = make_article(), make_article()
    add_window(db, None if site_wide else article, MatchDayMode.PREMODERATE, START, END)
    policy = PostingPolicy(auto_close_days=0)

    mode = mode_at(db, article, 0, moment)
    other = mode_at(db, elsewhere, 0, moment)
    result = post_service(
        db,
        article.cms_id,
        make_user(),
        CLEAN_TEXTS[0],
        None,
        screen,
        policy,
        MemoryActivity(),
        now=moment,
    )

    assert mode.premoderated is active
    assert (mode.notice_nl == PREMODERATION_NOTICE) is active
    assert other.premoderated is (active and site_wide)
    assert result.comment.state is (CommentState.HELD if active else CommentState.PUBLISHED)
    assert ("premoderated" in [f.code for f in result.flags]) is active


@pytest.mark.parametrize(
    ("moment", "slow"),
    [(START - TICK, None), (START, 60), (END - TICK, 60), (END, None)],
    ids=["before", "at-start", "just-before-end", "at-end"],
)
def test_a_slow_window_has_the_same_boundaries(
    db: Session, make_article: Callable[..., Article], moment: datetime, slow: int | None
) -> None:
    article = make_article()
    add_window(db, article, MatchDayMode.SLOW, START, END, slow_seconds=60)
    add_window(db, None, MatchDayMode.SLOW, START, END, slow_seconds=30)

    mode = mode_at(db, article, 0, moment)

    assert mode.slow_seconds == slow  # the strictest window wins
    assert mode.premoderated is False


def test_a_closed_article_stays_closed_during_a_window(
    db: Session, make_article: Callable[..., Article]
) -> None:
    article = make_article(comment_mode=CommentMode.CLOSED)
    add_window(db, None, MatchDayMode.PREMODERATE, START, END)

    assert mode_at(db, article, 0, START).closed is True


# ---------------------------------------------------------------- match-day windows over HTTP


@pytest.mark.parametrize(
    ("starts", "ends", "status"),
    [
        (timedelta(minutes=-1), timedelta(hours=1), 202),
        (timedelta(minutes=1), timedelta(hours=1), 201),
        (timedelta(hours=-2), timedelta(seconds=-1), 201),
    ],
    ids=["running", "not-yet", "ended"],
)
def test_a_premoderation_window_holds_comments_while_it_runs(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    starts: timedelta,
    ends: timedelta,
    status: int,
) -> None:
    article = make_article()
    now = utcnow()
    add_window(db, None, MatchDayMode.PREMODERATE, now + starts, now + ends)
    client = client_for(app, make_user())

    response = post_comment(client, article.cms_id, CLEAN_TEXTS[0])
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)

    assert response.status_code == status
    assert (PREMODERATION_NOTICE in page) is (status == 202)
    if status == 202:
        assert "(Derby)" in page


@pytest.mark.parametrize("running", [True, False])
def test_slow_mode_allows_one_comment_per_n_seconds_while_it_runs(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    running: bool,
) -> None:
    article = make_article()
    now = utcnow()
    offset = timedelta(0) if running else timedelta(hours=2)
    add_window(
        db,
        article,
        MatchDayMode.SLOW,
        now - timedelta(minutes=5) + offset,
        now + timedelta(hours=1) + offset,
        slow_seconds=120,
    )
    fan = make_user()
    client = client_for(app, fan)

    first = post_comment(client, article.cms_id, CLEAN_TEXTS[0])
    second = post_comment(client, article.cms_id, CLEAN_TEXTS[1])
    other = post_comment(client_for(app, make_user()), article.cms_id, CLEAN_TEXTS[2])

    assert first.status_code == 201
    assert other.status_code == 201  # per user, not per article
    if running:
        assert second.status_code == 429
        assert error_code(second) == "too_fast"
        assert second.get_json()["error"]["details"]["retry_after"] == 120
        assert "Trage modus" in client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    else:
        assert second.status_code == 201


# ---------------------------------------------------------------- scheduling through the form
# (the Brussels-time rules themselves: tests/test_brussels.py)


def schedule(client: FlaskClient, **form: Any) -> Any:
    return client.post("/beheer/wedstrijddag", data=form, headers=JSON)


def test_a_window_over_the_autumn_change_lasts_25_hours(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)

    response = schedule(
        client_for(app, admin),
        mode="premoderate",
        starts_at="2026-10-24T20:00",
        ends_at="2026-10-25T20:00",
    )

    assert response.status_code == 303
    fresh(db)
    window = db.scalar(select(MatchDayWindow))
    assert window.starts_at == datetime(2026, 10, 24, 18, 0, tzinfo=UTC)
    assert window.ends_at == datetime(2026, 10, 25, 19, 0, tzinfo=UTC)
    assert window.ends_at - window.starts_at == timedelta(hours=25)


# ---------------------------------------------------------------- who schedules


@pytest.mark.parametrize(
    ("role", "per_article", "status"),
    [
        (Role.EDITOR, True, 303),
        (Role.EDITOR, False, 403),
        (Role.ADMIN, True, 303),
        (Role.ADMIN, False, 303),
        (Role.MODERATOR, True, 403),
        (Role.FAN, True, 403),
    ],
)
def test_editors_schedule_per_article_and_admins_site_wide(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    role: Role,
    per_article: bool,
    status: int,
) -> None:
    article = make_article()
    actor = make_user(role)
    form = {
        "mode": "slow",
        "slow_seconds": "30",
        "starts_at": "2026-05-03T18:00",
        "ends_at": "2026-05-03T21:00",
        "label": "KVM - Antwerp",
    }
    if per_article:
        form["article_id"] = article.cms_id

    response = schedule(client_for(app, actor), **form)

    assert response.status_code == status
    fresh(db)
    windows = db.scalars(select(MatchDayWindow)).all()
    if status != 303:
        assert error_code(response) == "forbidden"
        assert windows == []
        return
    [window] = windows
    assert window.article_id == (article.id if per_article else None)
    assert (window.mode, window.slow_seconds, window.label) == (
        MatchDayMode.SLOW,
        30,
        "KVM - Antwerp",
    )
    assert (window.starts_at, window.ends_at) == (
        datetime(2026, 5, 3, 16, 0, tzinfo=UTC),
        datetime(2026, 5, 3, 19, 0, tzinfo=UTC),
    )
    row = db.scalar(select(ModerationAction).where(ModerationAction.target_type == "match_day"))
    assert (row.actor_id, row.action, row.to_state) == (actor.id, "schedule_match_day", "slow")
    assert "16:00" in row.note


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"mode": "party"}, "invalid_mode"),
        ({"ends_at": "2026-05-03T17:00"}, "invalid_window"),
        ({"ends_at": "2026-05-03T18:00"}, "invalid_window"),
        ({"ends_at": "2026-05-11T18:00"}, "invalid_window"),
        ({"mode": "slow", "slow_seconds": "2"}, "invalid_slow"),
        ({"mode": "slow", "slow_seconds": "traag"}, "invalid_slow"),
        ({"starts_at": "zondag"}, "invalid_time"),
        # The same rule as the poll form: 02:30 does not exist on 29 March 2026.
        ({"starts_at": "2026-03-29T02:30", "ends_at": "2026-03-29T05:00"}, "invalid_time"),
        ({"starts_at": ""}, "invalid_time"),
    ],
)
def test_bad_windows_are_refused(
    app: Flask, db: Session, make_user: Callable[..., User], form: dict[str, str], code: str
) -> None:
    base = {"mode": "premoderate", "starts_at": "2026-05-03T18:00", "ends_at": "2026-05-03T21:00"}

    response = schedule(client_for(app, make_user(Role.ADMIN)), **{**base, **form})

    assert response.status_code == 422
    assert error_code(response) == code
    fresh(db)
    assert db.scalars(select(MatchDayWindow)).all() == []


@pytest.mark.parametrize(("role", "status"), [(Role.EDITOR, 403), (Role.ADMIN, 303)])
def test_only_an_admin_cancels_a_site_wide_window(
    app: Flask, db: Session, make_user: Callable[..., User], role: Role, status: int
) -> None:
    window_id = add_window(db, None, MatchDayMode.PREMODERATE, START, END).id

    response = client_for(app, make_user(role)).post(
        f"/beheer/wedstrijddag/{window_id}/annuleren", headers=JSON
    )

    assert response.status_code == status
    fresh(db)
    assert (db.get(MatchDayWindow, window_id) is None) is (status == 303)
