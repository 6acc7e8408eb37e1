"""Role guards, as a matrix built from the URL map: every guarded route × every kind of visitor."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app import create_app
from errors import STATUS_ERRORS
from models import Role, User
from tests.conftest import login

GUARDED_PREFIXES = ("/beheer", "/moderatie", "/redactie", "/profiel")
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")
ANONYMOUS = None
# What security.role_required answers; a view's own 403s say something else.
GUARD_MESSAGE = STATUS_ERRORS[403][1]
PARAMETER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")


class Guarded(NamedTuple):
    endpoint: str
    method: str
    path: str
    roles: frozenset[Role]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def url_map_app() -> Flask:
    """An app that never connects anywhere: only its URL map is read."""
    return create_app(
        {
            "DATABASE_URL": "sqlite://",
            "SECRET_KEY": "collection",
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "TRIBUNE_RATELIMIT_ENABLED": False,
        }
    )


def fill_path(rule: Rule) -> str:
    """The rule's path with ints as 999999 and every other parameter as "x"."""
    return PARAMETER.sub(lambda m: "999999" if m.group(1) == "int" else "x", rule.rule)


def guarded_routes(app: Flask) -> list[Guarded]:
    routes = []
    for rule in app.url_map.iter_rules():
        roles = getattr(app.view_functions[rule.endpoint], "required_roles", None)
        if roles is None:
            continue
        method = next(m for m in METHOD_ORDER if m in (rule.methods or ()))
        routes.append(Guarded(rule.endpoint, method, fill_path(rule), frozenset(roles)))
    return sorted(routes, key=lambda route: (route.path, route.method))


_APP = url_map_app()
GUARDED = guarded_routes(_APP)
PREFIXED_RULES = sorted(
    (rule.rule, rule.endpoint)
    for rule in _APP.url_map.iter_rules()
    if rule.rule.startswith(GUARDED_PREFIXES)
)
_APP.extensions["tribune.engine"].dispose()


def test_the_matrix_is_not_empty() -> None:
    endpoints = {route.endpoint for route in GUARDED}
    assert {"admin.users", "auth.profile", "api.put_article"} <= endpoints


@pytest.mark.parametrize(("rule", "endpoint"), PREFIXED_RULES)
def test_every_route_under_a_guarded_prefix_has_required_roles(rule: str, endpoint: str) -> None:
    view = _APP.view_functions[endpoint]
    assert getattr(view, "required_roles", None), f"{rule} ({endpoint}) has no role guard"


def request_route(client: FlaskClient, route: Guarded) -> Any:
    if route.path.startswith("/api/"):
        # A well-formed cookie JSON write, so only the role guard can refuse it.
        return client.open(
            route.path, method=route.method, json={}, headers={"Origin": "http://localhost"}
        )
    return client.open(route.path, method=route.method)


@pytest.mark.parametrize("role", [ANONYMOUS, *Role], ids=lambda r: r.value if r else "anonymous")
@pytest.mark.parametrize("route", GUARDED, ids=str)
def test_role_guard(
    client: FlaskClient, make_user: Callable[..., User], route: Guarded, role: Role | None
) -> None:
    if role is not None:
        login(client, make_user(role))

    response = request_route(client, route)

    body = response.get_data(as_text=True)
    if role is None and route.path.startswith("/api/"):
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "login_required"
    elif role is None:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    elif role not in route.roles:
        assert response.status_code == 403
        assert GUARD_MESSAGE in body
        if route.path.startswith("/api/"):
            assert response.get_json()["error"]["code"] == "forbidden"
    else:
        # The guard lets the role through; the view itself may still refuse on its own rules.
        assert response.status_code != 401, body[:300]
        assert not (response.status_code == 403 and GUARD_MESSAGE in body), body[:300]
        assert response.status_code < 500, body[:300]


EDITORS = frozenset({Role.EDITOR, Role.ADMIN})


@pytest.mark.parametrize(
    ("endpoint", "roles"),
    [
        ("admin.users", frozenset({Role.ADMIN})),
        ("admin.change_role", frozenset({Role.ADMIN})),
        ("admin.change_status", frozenset({Role.ADMIN})),
        ("auth.profile", frozenset(Role)),
        ("auth.change_password", frozenset(Role)),
        ("auth.create_token", EDITORS),
        ("auth.revoke_token", EDITORS),
        ("api.put_article", EDITORS),
    ],
)
def test_known_routes_require_the_documented_roles(endpoint: str, roles: frozenset[Role]) -> None:
    # The matrix takes its expectations from the views; this pins what the design asks for.
    assert _APP.view_functions[endpoint].required_roles == roles
