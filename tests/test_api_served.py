"""schemathesis's own CLI against a served instance (a real port, as a client would see it):
the conformance checks report no failure.

Run by hand against any instance with the same command (see README, "Tests").
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from accounts.services import create_api_token, token_scopes_for
from models import Article, CommentState, Role, User
from tests.browser.live import live_app
from tests.factories import create_comment
from tests.polls_fixtures import create_poll

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)
# Bounded and derandomised: the same cases every run, well under a minute per database.
EXAMPLES_PER_OPERATION = 10


def schemathesis_command(schema_url: str, token: str) -> list[str]:
    """The CLI run the README documents, with the admin token, derandomised."""
    return [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        schema_url,
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--generation-deterministic",
        "--workers",
        "1",
        "--no-color",
    ]


@pytest.mark.slow
def test_schemathesis_cli_finds_no_failure_on_a_served_instance(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    tmp_path: Path,
) -> None:
    article = make_article("fuzz")
    create_poll(db, article)
    create_comment(db, article, make_user(), CommentState.PUBLISHED)
    _, token = create_api_token(
        db, admin := make_user(Role.ADMIN), "schemathesis", token_scopes_for(admin.role)
    )
    db.commit()

    with live_app(app) as base_url:
        result = subprocess.run(
            schemathesis_command(f"{base_url}/api/v1/openapi.json", token),
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,  # its report directory stays out of the repository
        )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
