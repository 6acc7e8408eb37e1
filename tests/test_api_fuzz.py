"""Every /api/v1 operation under generated input (schemathesis reads the OpenAPI document):
never a server error, every refusal in the one error shape, and every answer as documented
(status code, content type and body schema).

Generated bodies, path ids and query strings are what found a 500 on ids beyond any row, on
text with U+0000 (PostgreSQL) and on token-authenticated posts; this keeps looking, with an
admin's token so the authenticated operations reach their logic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from accounts.services import create_api_token, token_scopes_for
from models import Article, CommentState, Role, User
from tests.factories import create_comment
from tests.polls_fixtures import create_poll

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def admin_token(db: Session, make_user: Callable[..., User]) -> str:
    _, plain = create_api_token(
        db, admin := make_user(Role.ADMIN), "fuzz", token_scopes_for(admin.role)
    )
    db.commit()
    return plain


@pytest.fixture
def api_schema(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> Any:
    """The app's own OpenAPI document, called in process, with some rows to find."""
    article = make_article("fuzz")
    create_poll(db, article)
    create_comment(db, article, make_user(), CommentState.PUBLISHED)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    # One app and database per operation (the fixtures), shared by its examples on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
def test_every_operation_answers_as_documented(case: Any, admin_token: str) -> None:
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS
    )

    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert {"code", "message"} <= set(body["error"]), body
