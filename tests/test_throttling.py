"""Login throttling: failed attempts count per (account, IP), per account and per IP; successful
logins do not; a browser that signed in to an account before is not kept out by attempts from
elsewhere."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from models import User
from tests.conftest import TEST_PASSWORD

PAIR_LIMIT = 2
ACCOUNT_LIMIT = 3
IP_LIMIT = 5


def throttle(settings: dict[str, Any]) -> dict[str, Any]:
    settings["TRIBUNE_RATELIMIT_ENABLED"] = True
    settings["TRIBUNE_LOGIN_LIMIT_ACCOUNT_IP"] = f"{PAIR_LIMIT} per minute"
    settings["TRIBUNE_LOGIN_LIMIT_ACCOUNT"] = f"{ACCOUNT_LIMIT} per minute"
    settings["TRIBUNE_LOGIN_LIMIT_IP"] = f"{IP_LIMIT} per minute"
    return settings


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    """Small limits, in memory (each test has its own key prefix)."""
    settings = throttle(app_settings)
    settings["RATELIMIT_STORAGE_URI"] = "memory://"
    return settings


# Flask-Limiter keeps the key prefix of the first app it was bound to, so counters are only
# isolated between tests (and runs sharing a Redis) by using fresh account names and addresses.
RUN = uuid.uuid4().hex[:6]


def other_ip() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def make_fan(make_user: Callable[..., User]) -> Callable[..., User]:
    """Fans with names no other test or run uses."""

    def make(username: str | None = None) -> User:
        return make_user(username=username or f"fan_{RUN}_{uuid.uuid4().hex[:8]}")

    return make


@pytest.fixture
def ip() -> str:
    return other_ip()


def attempt(client: FlaskClient, login: str, password: str, ip: str) -> int:
    response = client.post(
        "/login",
        data={"login": login, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )
    if response.status_code == 302:
        client.post("/uitloggen", environ_base={"REMOTE_ADDR": ip})
    return response.status_code


def test_failed_attempts_on_one_account_from_one_address_stop_it_even_for_the_right_password(
    client: FlaskClient, make_fan: Callable[..., User], ip: str
) -> None:
    user = make_fan()

    failures = [attempt(client, user.username, "fout wachtwoord", ip) for _ in range(PAIR_LIMIT)]
    locked = client.post(
        "/login",
        data={"login": user.username, "password": TEST_PASSWORD},
        environ_base={"REMOTE_ADDR": ip},
    )

    assert failures == [200] * PAIR_LIMIT
    assert locked.status_code == 429
    assert "Even geduld" in locked.get_data(as_text=True)
    assert client.get("/profiel").status_code == 302


def test_account_limit_ignores_the_case_of_the_name(
    client: FlaskClient, make_fan: Callable[..., User], ip: str
) -> None:
    user = make_fan(f"Geel_{RUN}_{uuid.uuid4().hex[:6]}")

    for login in (user.username.lower(), user.username.upper()):
        assert attempt(client, login, "fout wachtwoord", ip) == 200

    assert attempt(client, user.username, TEST_PASSWORD, ip) == 429


def test_account_limit_holds_across_addresses(
    client: FlaskClient, make_fan: Callable[..., User]
) -> None:
    user = make_fan()

    for _ in range(ACCOUNT_LIMIT):
        assert attempt(client, user.username, "fout wachtwoord", other_ip()) == 200

    assert attempt(client, user.username, TEST_PASSWORD, other_ip()) == 429


def test_other_accounts_are_not_locked(
    client: FlaskClient, make_fan: Callable[..., User], ip: str
) -> None:
    target, bystander = make_fan(), make_fan()

    for _ in range(ACCOUNT_LIMIT):
        attempt(client, target.username, "fout wachtwoord", ip)

    assert attempt(client, bystander.username, TEST_PASSWORD, ip) == 302


def test_failures_across_accounts_from_one_address_hit_the_ip_limit(
    client: FlaskClient, make_fan: Callable[..., User], ip: str
) -> None:
    victims = [make_fan() for _ in range(IP_LIMIT + 1)]

    failures = [attempt(client, user.username, "fout wachtwoord", ip) for user in victims[:-1]]
    blocked = attempt(client, victims[-1].username, TEST_PASSWORD, ip)
    elsewhere = attempt(client, victims[-1].username, TEST_PASSWORD, other_ip())

    assert failures == [200] * IP_LIMIT
    assert blocked == 429
    assert elsewhere == 302


def test_successful_logins_do_not_count(
    client: FlaskClient, make_fan: Callable[..., User], ip: str
) -> None:
    user = make_fan()

    results = [attempt(client, user.username, TEST_PASSWORD, ip) for _ in range(IP_LIMIT + 2)]
    failures = [attempt(client, user.username, "fout wachtwoord", ip) for _ in range(PAIR_LIMIT)]

    assert results == [302] * (IP_LIMIT + 2)
    assert failures == [200] * PAIR_LIMIT
    assert attempt(client, user.username, TEST_PASSWORD, ip) == 429


def test_failures_from_one_address_do_not_keep_the_owner_out_elsewhere(
    client: FlaskClient, make_fan: Callable[..., User], ip: str
) -> None:
    user = make_fan()

    for _ in range(PAIR_LIMIT):
        assert attempt(client, user.username, "fout wachtwoord", ip) == 200

    assert attempt(client, user.username, TEST_PASSWORD, ip) == 429
    assert attempt(client, user.username, TEST_PASSWORD, other_ip()) == 302


def test_attempts_from_many_addresses_do_not_keep_the_owners_browser_out(
    app: Flask, client: FlaskClient, make_fan: Callable[..., User]
) -> None:
    user, other = make_fan(), make_fan()
    assert attempt(client, user.username, TEST_PASSWORD, other_ip()) == 302  # the owner's browser
    stranger = app.test_client()
    assert attempt(stranger, other.username, TEST_PASSWORD, other_ip()) == 302  # knows `other`

    failures = [
        attempt(app.test_client(), user.username, "fout wachtwoord", other_ip())
        for _ in range(ACCOUNT_LIMIT)
    ]

    assert failures == [200] * ACCOUNT_LIMIT
    # A browser that never signed in to this account is slowed down (its cookie for another
    # account does not count) …
    assert attempt(app.test_client(), user.username, TEST_PASSWORD, other_ip()) == 429
    assert attempt(stranger, user.username, TEST_PASSWORD, other_ip()) == 429
    # … the owner's is not.
    assert attempt(client, user.username, TEST_PASSWORD, other_ip()) == 302


def test_a_forged_known_login_cookie_counts_for_nothing(
    app: Flask, make_fan: Callable[..., User]
) -> None:
    user = make_fan()
    for _ in range(ACCOUNT_LIMIT):
        attempt(app.test_client(), user.username, "fout wachtwoord", other_ip())
    forger = app.test_client()
    forger.set_cookie("tribune_known_login", "eyJ4IjoxfQ.forged", path="/login")

    assert attempt(forger, user.username, TEST_PASSWORD, other_ip()) == 429


def test_login_page_itself_is_not_throttled(
    client: FlaskClient, make_fan: Callable[..., User], ip: str
) -> None:
    user = make_fan()
    for _ in range(ACCOUNT_LIMIT):
        attempt(client, user.username, "fout wachtwoord", ip)

    assert client.get("/login", environ_base={"REMOTE_ADDR": ip}).status_code == 200


def test_throttle_state_is_shared_through_redis(
    request: pytest.FixtureRequest, redis_url: str, app_settings: dict[str, Any], ip: str
) -> None:
    app_settings["REDIS_URL"] = redis_url
    del app_settings["RATELIMIT_STORAGE_URI"]
    make_fan: Callable[..., User] = request.getfixturevalue("make_fan")
    app = request.getfixturevalue("app")
    assert app.config["RATELIMIT_STORAGE_URI"] == redis_url
    user = make_fan()
    first_worker, second_worker = app.test_client(), app.test_client()

    for _ in range(ACCOUNT_LIMIT):
        assert attempt(first_worker, user.username, "fout wachtwoord", other_ip()) == 200

    assert attempt(second_worker, user.username, TEST_PASSWORD, ip) == 429
    keys = redis.Redis.from_url(redis_url).keys(f"*login-account:{user.username.lower()}*")
    assert keys, "the account counter is not in Redis"


def test_no_rate_limit_check_runs_before_every_request(app: Any) -> None:
    """The limiter runs with auto_check=False: no hook of Flask-Limiter's runs before every
    request (the login limits above still hold, checked by @limits_checked)."""
    hooks = [*app.before_request_funcs.get(None, [])]
    for blueprint_hooks in app.before_request_funcs.values():
        hooks += blueprint_hooks

    assert [hook for hook in hooks if "flask_limiter" in getattr(hook, "__module__", "")] == []


@pytest.mark.parametrize("key", ["RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META"])
def test_request_wide_limits_are_refused_at_startup(app_settings: dict[str, Any], key: str) -> None:
    # They would need Flask-Limiter's per-request hook, which Tribune does not run.
    from app import create_app
    from config import SettingError

    app_settings[key] = "100 per minute"
    with pytest.raises(SettingError, match=key):
        create_app(app_settings)


def test_each_app_keeps_its_limit_counters_under_its_own_redis_prefix(tmp_path: Any) -> None:
    from config import load_settings

    settings = load_settings(
        tmp_path, {"REDIS_URL": "redis://cache/1", "RATELIMIT_KEY_PREFIX": "rl-a"}, environ={}
    )

    assert settings["RATELIMIT_STORAGE_OPTIONS"] == {"key_prefix": "rl-a"}


def test_the_known_login_cookie_is_http_only_and_names_no_account(
    client: FlaskClient, make_fan: Callable[..., User], ip: str
) -> None:
    user = make_fan()
    response = client.post(
        "/login",
        data={"login": user.username, "password": TEST_PASSWORD},
        environ_base={"REMOTE_ADDR": ip},
    )

    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("tribune_known_login=")
    )
    assert "HttpOnly" in cookie
    assert "Path=/login" in cookie
    assert "SameSite=Lax" in cookie
    assert user.username.lower() not in cookie.lower()
