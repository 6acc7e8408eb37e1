"""Absolute URLs come from TRIBUNE_PUBLIC_URL, never from a (spoofable) Host header."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import SettingError, load_settings
from models import Poll, Role, User
from tests.conftest import login
from tests.polls_fixtures import make_poll_fixture  # noqa: F401

PUBLIC = "https://tribune.example.be"
SPOOFED = {"Host": "evil.example"}


@pytest.fixture
def public(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["TRIBUNE_PUBLIC_URL"] = PUBLIC + "/"
    return app_settings


@pytest.mark.usefixtures("public")
def test_a_spoofed_host_changes_no_absolute_url(
    client: FlaskClient, make_poll: Callable[..., Poll], make_user: Callable[..., User]
) -> None:
    poll = make_poll()

    document = client.get("/api/v1/openapi.json", headers=SPOOFED).get_json()
    assert document["servers"] == [{"url": PUBLIC}]
    body = client.get(f"/api/v1/polls/{poll.id}", headers=SPOOFED).get_json()
    assert body["article_page"].startswith(PUBLIC + "/")
    assert body["article_page"].endswith(f"#peiling-{poll.id}")
    embed = client.get(f"/embed/polls/{poll.id}", headers=SPOOFED).get_data(as_text=True)
    assert "evil.example" not in embed
    assert PUBLIC + "/" in embed

    client.environ_base["HTTP_HOST"] = "evil.example"  # the login too, for its cookie
    login(client, make_user(Role.EDITOR))
    page = client.get(f"/redactie/peilingen/{poll.id}").get_data(as_text=True)
    assert "evil.example" not in page
    assert f"{PUBLIC}/static/embed.js" in page


def test_unset_the_urls_follow_the_host_in_tests(
    client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    document = client.get("/api/v1/openapi.json", headers={"Host": "dev.local:5000"}).get_json()
    assert document["servers"] == [{"url": "http://dev.local:5000"}]


def test_unset_outside_development_warns_once(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    app.testing = False
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        client.get("/api/v1/openapi.json")
        client.get("/api/v1/openapi.json")
    warnings = [r for r in caplog.records if "TRIBUNE_PUBLIC_URL" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.parametrize(
    "raw",
    [
        "tribune.example.be",
        "ftp://tribune.example.be",
        "https://tribune.example.be/comments",
        "https://tribune.example.be/?x=1",
        "https://tribune.example.be/#top",
        "https://user@tribune.example.be",
        "https://tribune.example.be:port",
        "https://",
        "javascript:alert(1)",
    ],
)
def test_a_public_url_with_path_junk_stops_startup(raw: str, tmp_path: Any) -> None:
    with pytest.raises(SettingError, match="TRIBUNE_PUBLIC_URL"):
        load_settings(tmp_path, {"SECRET_KEY": "k"}, environ={"TRIBUNE_PUBLIC_URL": raw})


def test_a_public_url_is_normalised(tmp_path: Any) -> None:
    environ = {"TRIBUNE_PUBLIC_URL": "HTTPS://Tribune.Example.be:8443/"}
    settings = load_settings(tmp_path, {"SECRET_KEY": "k"}, environ=environ)
    assert settings["TRIBUNE_PUBLIC_URL"] == "https://tribune.example.be:8443"
    assert load_settings(tmp_path, {"SECRET_KEY": "k"}, environ={})["TRIBUNE_PUBLIC_URL"] is None
