"""Generated form posts on every page route, as every role: never a 500 (issue 15, point 3).

The shapes of test_hostile_input are fixed; here Hypothesis writes the forms. Every field of
every Tribune form is known (its name and kind), so each post carries fields the routes read,
filled with text, numbers beyond any column, empty values, valid choices and wrong ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField
from wtforms.fields.core import UnboundField

import forms
from forms.base import TribuneForm
from models import Article, CommentState, Role, User
from tests.conftest import login
from tests.factories import create_comment
from tests.polls_fixtures import create_poll
from tests.test_hostile_input import ROUTES, SESSION_ENDING, VISITORS, fill


def _form_classes() -> list[type[TribuneForm]]:
    found: dict[str, type[TribuneForm]] = {}
    for module in (getattr(forms, name) for name in dir(forms)):
        if not inspect.ismodule(module):
            continue
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, TribuneForm):
                found[value.__qualname__] = value
    return list(found.values())


def _fields() -> dict[str, UnboundField]:
    fields: dict[str, UnboundField] = {}
    for form_class in _form_classes():
        for klass in form_class.__mro__:
            for name, value in vars(klass).items():
                if isinstance(value, UnboundField):
                    fields.setdefault(name, value)
    return fields


FIELDS = _fields()
POSTS = [(rule, method) for rule, method in ROUTES if method == "POST"]
HUGE = st.sampled_from(["9" * 30, "-9" * 15, "1e400", "0x10", "NaN", "٣"])
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
# Date-time fields: the edges of the calendar and of Python's datetime, and impossible times.
MOMENTS = st.one_of(
    st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M")),
    st.sampled_from(
        [
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "2026-02-30T10:00",
            "2026-03-29T02:30",
            "2026-13-45T25:61",
            "2026-10-25T02:30",
        ]
    ),  # fmt: skip
)


def _value(field: UnboundField) -> st.SearchStrategy[str]:
    kind = field.field_class
    if issubclass(kind, BooleanField):
        return st.sampled_from(["y", "", "nee", "0"])
    if issubclass(kind, SelectField | SelectMultipleField):
        raw = field.kwargs.get("choices") or []
        values = [c[0] if isinstance(c, tuple | list) else getattr(c, "value", c) for c in raw]
        return st.one_of(st.sampled_from([str(v) for v in values] or [""]), TEXT, HUGE)
    if issubclass(kind, IntegerField):
        return st.one_of(st.integers(-(2**70), 2**70).map(str), HUGE, TEXT)
    if "Date" in kind.__name__:
        return st.one_of(MOMENTS, TEXT, st.just(""))
    return st.one_of(TEXT, HUGE, st.just(""))


FORM_POSTS = st.tuples(
    st.sampled_from(POSTS),
    st.fixed_dictionaries({}, optional={name: _value(field) for name, field in FIELDS.items()}),
)


@pytest.mark.parametrize("visitor", list(VISITORS))
def test_generated_form_posts_never_answer_500(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    visitor: str,
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    article = make_article("fuzz")
    fan = make_user()
    comment = create_comment(db, article, fan, CommentState.PUBLISHED)
    create_poll(db, article)
    db.commit()
    role = VISITORS[visitor]
    person = make_user(role) if role is not None and role is not Role.FAN else fan
    client = app.test_client()
    if role is not None:
        login(client, person)
    state: dict[str, Any] = {"client": client}

    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(FORM_POSTS)
    def post(case: tuple[tuple[str, str], dict[str, str]]) -> None:
        (rule, method), form = case
        path = fill(rule, article.cms_id, str(comment.id))
        response = state["client"].open(path, method=method, data=form)
        assert response.status_code < 500, f"{method} {path} {form!r}"
        if role is not None and rule in SESSION_ENDING:
            state["client"] = app.test_client()
            login(state["client"], person)

    post()
    assert len(FIELDS) > 20
