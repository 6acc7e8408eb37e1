"""Security headers as request tests: the CSP on every answer, private pages never cached, and
Secure cookies plus HSTS exactly when Tribune is served over HTTPS (TRIBUNE_HTTPS)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from config import SettingError
from models import Article, Role, User
from tests.conftest import TEST_PASSWORD, login
from tests.test_permissions import _APP as URL_MAP_APP
from tests.test_permissions import fill_path
from views.headers import PRIVATE_AREAS, is_private_path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DIRECTIVES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
]
HTTPS = "https://localhost"
JINJA = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)

PRIVATE_GET_PATHS = sorted(
    fill_path(rule)
    for rule in URL_MAP_APP.url_map.iter_rules()
    if "GET" in (rule.methods or ()) and is_private_path(rule.rule)
)


def policy(response: Any) -> list[str]:
    return [part.strip() for part in response.headers["Content-Security-Policy"].split(";")]


# ---------------------------------------------------------------- templates the CSP allows


def test_templates_hold_no_inline_script_handler_or_style() -> None:
    # script-src 'self' blocks inline scripts and on…= handlers; style-src 'self' blocks
    # <style> elements and style="…" attributes: all of it lives in static/.
    forbidden = {
        "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
        "event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
        "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
        "style element": re.compile(r"<style\b", re.IGNORECASE),
        "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    }
    found = [
        f"{path.relative_to(TEMPLATES)}: {what}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for what, pattern in forbidden.items()
        if pattern.search(JINJA.sub(" ", path.read_text()))
        # Mail is read in mail clients, not served under the CSP, and clients drop <style>
        # and linked sheets: its HTML part styles inline, and nothing else.
        and not (path.parent.name == "mail" and what == "style attribute")
    ]
    assert found == []


# ---------------------------------------------------------------- CSP on every answer


@pytest.fixture
def signed_in(make_user: Callable[..., User]) -> Callable[[FlaskClient, Role], None]:
    def sign_in(client: FlaskClient, role: Role) -> None:
        login(client, make_user(role))

    return sign_in


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/"),
        (None, "/login"),
        (None, "/registreren"),
        (None, "/artikels/kop-1"),
        (None, "/bestaat-niet"),
        (None, "/api/v1/articles/kop-1/comments"),
        (Role.FAN, "/profiel"),
        (Role.MODERATOR, "/moderatie/"),
        (Role.EDITOR, "/redactie/"),
        (Role.ADMIN, "/beheer/"),
    ],
)
def test_every_answer_carries_the_content_policy(
    client: FlaskClient,
    make_article: Callable[..., Article],
    signed_in: Callable[[FlaskClient, Role], None],
    role: Role | None,
    path: str,
) -> None:
    make_article(cms_id="kop-1")
    if role is not None:
        signed_in(client, role)

    response = client.get(path)

    assert response.status_code in (200, 404), path
    assert policy(response) == [*DIRECTIVES, "frame-ancestors 'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_embed_keeps_its_frame_rule_in_the_same_policy(
    app_settings: dict[str, Any], make_article: Callable[..., Article]
) -> None:
    app_settings["EMBED_ALLOWED_ORIGINS"] = "https://www.kvm.be"
    app = create_app(app_settings)
    try:
        response = app.test_client().get("/embed/polls/999999")
    finally:
        app.extensions["tribune.engine"].dispose()

    assert response.status_code == 404
    assert policy(response) == [*DIRECTIVES, "frame-ancestors https://www.kvm.be"]
    assert "X-Frame-Options" not in response.headers


# ---------------------------------------------------------------- private pages


def test_the_private_areas_hold_every_guarded_page() -> None:
    # A page behind a role guard outside these areas would be cacheable: keep it inside.
    outside = [
        rule.rule
        for rule in URL_MAP_APP.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and getattr(URL_MAP_APP.view_functions[rule.endpoint], "required_roles", None)
        and not rule.rule.startswith("/api/")
        and not is_private_path(rule.rule)
    ]
    assert outside == []
    assert {path.split("/")[1] for path in PRIVATE_GET_PATHS} == {
        area.strip("/") for area in PRIVATE_AREAS
    }


@pytest.mark.parametrize("path", PRIVATE_GET_PATHS)
@pytest.mark.parametrize("role", [None, Role.FAN, Role.ADMIN])
def test_private_pages_are_never_stored(
    client: FlaskClient,
    signed_in: Callable[[FlaskClient, Role], None],
    role: Role | None,
    path: str,
) -> None:
    if role is not None:
        signed_in(client, role)

    response = client.get(path)

    # The page, a 404 for an unknown id, a 403 or the redirect to the login: never stored.
    assert response.status_code in (200, 302, 403, 404), path
    assert response.headers["Cache-Control"] == "private, no-store", (path, role)


def test_a_public_page_is_not_marked_private(client: FlaskClient) -> None:
    assert client.get("/login").headers.get("Cache-Control") != "private, no-store"


def test_a_private_view_cannot_loosen_the_cache_rule(app: Flask) -> None:
    @app.get("/beheer/test-cache")
    def cacheable():  # type: ignore[no-untyped-def]
        return "ok", 200, {"Cache-Control": "public, max-age=600"}

    response = app.test_client().get("/beheer/test-cache")

    assert response.headers.getlist("Cache-Control") == ["private, no-store"]


# ---------------------------------------------------------------- HTTPS: Secure cookies, HSTS


def login_answer(client: FlaskClient, user: User, **request: Any) -> Any:
    response = client.post(
        "/login",
        data={"login": user.username, "password": TEST_PASSWORD, "remember": "on"},
        **request,
    )
    assert response.status_code == 302
    return response


def cookie_flags(response: Any) -> dict[str, bool]:
    """Cookie name → whether it carries the Secure attribute."""
    flags = {}
    for cookie in response.headers.getlist("Set-Cookie"):
        name = cookie.split("=", 1)[0]
        flags[name] = any(p.strip().lower() == "secure" for p in cookie.split(";")[1:])
    return flags


def https_app(app_settings: dict[str, Any], **settings: Any) -> Flask:
    return create_app({**app_settings, **settings})


@pytest.fixture
def https_cases(app_settings: dict[str, Any], make_user: Callable[..., User]):  # type: ignore[no-untyped-def]
    """Build an app with `settings`, log in with `request` options, return the answer."""
    built: list[Flask] = []
    user = make_user(Role.FAN)

    def answer(settings: dict[str, Any], **request: Any) -> Any:
        app = https_app(app_settings, **settings)
        built.append(app)
        return login_answer(app.test_client(), user, **request)

    yield answer
    for app in built:
        app.extensions["tribune.engine"].dispose()


SECURE = {"session": True, "tribune_remember": True, "tribune_known_login": True}
PLAIN = {"session": False, "tribune_remember": False, "tribune_known_login": False}
FORWARDED = {"headers": {"X-Forwarded-Proto": "https"}}


@pytest.mark.parametrize(
    ("settings", "request_options", "secure"),
    [
        pytest.param({}, {}, False, id="plain-http"),
        pytest.param({}, {"base_url": HTTPS}, True, id="https"),
        pytest.param({"TRIBUNE_TRUSTED_PROXIES": 1}, FORWARDED, True, id="trusted-proxy"),
        pytest.param({}, FORWARDED, False, id="untrusted-forwarded-proto"),
        pytest.param({"TRIBUNE_HTTPS": "always"}, {}, True, id="always"),
        pytest.param({"TRIBUNE_HTTPS": "never"}, {"base_url": HTTPS}, False, id="never"),
    ],
)
def test_cookies_are_secure_and_hsts_sent_exactly_over_https(
    https_cases: Callable[..., Any],
    settings: dict[str, Any],
    request_options: dict[str, Any],
    secure: bool,
) -> None:
    response = https_cases(settings, **request_options)

    assert cookie_flags(response) == (SECURE if secure else PLAIN)
    if secure:
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    else:
        assert "Strict-Transport-Security" not in response.headers


def test_logout_clears_the_cookies_with_the_secure_flag(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    login_answer(client, make_user(Role.FAN), base_url=HTTPS)

    response = client.post("/uitloggen", base_url=HTTPS)

    assert response.status_code == 302
    flags = cookie_flags(response)
    assert flags and all(flags.values()), response.headers.getlist("Set-Cookie")


def test_hsts_max_age_is_configurable_and_zero_turns_it_off(
    https_cases: Callable[..., Any],
) -> None:
    day = https_cases({"TRIBUNE_HSTS_MAX_AGE": 86400}, base_url=HTTPS)
    off = https_cases({"TRIBUNE_HSTS_MAX_AGE": 0}, base_url=HTTPS)

    assert day.headers["Strict-Transport-Security"] == "max-age=86400"
    assert "Strict-Transport-Security" not in off.headers
    assert cookie_flags(off) == SECURE


def test_an_unknown_https_mode_stops_the_app(app_settings: dict[str, Any]) -> None:
    with pytest.raises(SettingError, match="TRIBUNE_HTTPS"):
        create_app({**app_settings, "TRIBUNE_HTTPS": "sometimes"})
