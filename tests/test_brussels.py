"""The one set of Brussels-time rules (no database): what a typed local time means in UTC,
which ones are refused, and the form field built on them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

import brussels
from forms.base import TribuneForm
from forms.fields import BrusselsDateTimeField


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2026-01-15T20:30", datetime(2026, 1, 15, 19, 30, tzinfo=UTC)),  # winter, UTC+1
        ("2026-07-01T20:30", datetime(2026, 7, 1, 18, 30, tzinfo=UTC)),  # summer, UTC+2
        ("2026-03-29T01:59", datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),  # last minute of winter
        ("2026-03-29T03:00", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # first of summer
        # 02:30 happens twice on 25 October 2026: the first one (still summer time) is meant.
        ("2026-10-25T02:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("2026-10-25T01:59", datetime(2026, 10, 24, 23, 59, tzinfo=UTC)),
        ("2026-10-25T03:00", datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),  # winter again
        ("2026-10-25T03:30", datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
        (" 2026-01-15T20:30:45 ", datetime(2026, 1, 15, 19, 30, 45, tzinfo=UTC)),
    ],
)
def test_a_typed_local_time_is_stored_in_utc(local: str, utc: datetime) -> None:
    assert brussels.parse_local(local) == utc


@pytest.mark.parametrize("value", ["", "   ", None])
def test_an_empty_time_is_none(value: str | None) -> None:
    assert brussels.parse_local(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # The spring-forward gap: 02:00–02:59 on 29 March 2026 never happens in Brussels.
        ("2026-03-29T02:00", brussels.GAP_NL),
        ("2026-03-29T02:30", brussels.GAP_NL),
        ("2026-03-29T02:59", brussels.GAP_NL),
        ("2030-03-31T02:30", brussels.GAP_NL),
        ("morgen", brussels.MALFORMED_NL),
        ("2026-13-01T10:00", brussels.MALFORMED_NL),
        ("2026-07-01T20:30+00:00", brussels.OFFSET_NL),  # datetime-local never sends one
        ("0226-07-01T20:30", brussels.OUT_OF_RANGE_NL),
    ],
)
def test_refused_times_say_why_in_dutch(value: str, message: str) -> None:
    with pytest.raises(brussels.LocalTimeError) as refused:
        brussels.parse_local(value)
    assert str(refused.value) == message


def test_gap_and_overlap_are_recognised() -> None:
    assert not brussels.exists(datetime(2026, 3, 29, 2, 30))
    assert brussels.exists(datetime(2026, 3, 29, 3, 0))
    assert brussels.is_ambiguous(datetime(2026, 10, 25, 2, 30))
    assert not brussels.is_ambiguous(datetime(2026, 10, 25, 3, 0))
    assert not brussels.is_ambiguous(datetime(2026, 3, 29, 2, 30))


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        (datetime(2026, 1, 15, 19, 30, tzinfo=UTC), "2026-01-15T20:30"),
        (datetime(2026, 7, 1, 18, 30, tzinfo=UTC), "2026-07-01T20:30"),
        # Both autumn 02:30s show as 02:30; the first reads back to itself.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "2026-10-25T02:30"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "2026-10-25T02:30"),
        (None, ""),
    ],
)
def test_utc_is_shown_as_a_datetime_local_value(utc: datetime | None, shown: str) -> None:
    assert brussels.to_input(utc) == shown


def test_every_shown_summer_and_winter_time_reads_back_to_itself() -> None:
    for utc in (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)):
        assert brussels.parse_local(brussels.to_input(utc)) == utc


class _WindowForm(TribuneForm):
    class Meta:
        csrf = False

    starts_at = BrusselsDateTimeField("Begin")


@pytest.fixture
def form_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    return app


@pytest.mark.parametrize(
    ("typed", "data", "error"),
    [
        ("2026-07-01T20:30", datetime(2026, 7, 1, 18, 30, tzinfo=UTC), None),
        ("", None, None),
        ("2026-03-29T02:30", None, brussels.GAP_NL),
        ("zondag", None, brussels.MALFORMED_NL),
    ],
)
def test_the_field_parses_with_the_same_rules_and_shows_back_what_was_typed(
    form_app: Flask, typed: str, data: datetime | None, error: str | None
) -> None:
    with form_app.test_request_context(method="POST"):
        form = _WindowForm(formdata=MultiDict({"starts_at": typed}))
        assert form.validate() is (error is None)
        assert form.starts_at.data == data
        assert form.starts_at.errors == ([error] if error else [])
        assert f'value="{typed}"' in form.starts_at()
        assert 'type="datetime-local"' in form.starts_at()


def test_the_field_shows_a_stored_time_in_brussels(form_app: Flask) -> None:
    with form_app.test_request_context():
        form = _WindowForm(formdata=None, starts_at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
        assert 'value="2026-10-25T02:30"' in form.starts_at()
