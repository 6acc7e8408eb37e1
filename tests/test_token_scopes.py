"""Editor API tokens carry write scopes chosen at creation, every API write checks its scope, and
a token ends for good when its owner loses the role (issue 15, point 7)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.services import create_api_token, token_scopes_for
from models import ApiToken, Role, TokenRevocation, TokenScope, User
from tests.conftest import login
from views.openapi import READS, operations_of

ARTICLE = {"title": "Een artikel"}
TOKEN_CODE = re.compile(r'<code class="token">([^<]+)</code>')


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert body and "error" in body, response.get_data(as_text=True)[:300]
    return body["error"]  # type: ignore[no-any-return]


def write_routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    """(method, URL with sample arguments, endpoint) of every /api/v1 write an API token may
    call (not the comments embed's sessions: @operation(api_token=False))."""
    samples = {"article_id": "scope-art", "poll_id": "1", "comment_id": "1"}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        recorded = operations_of(app.view_functions[rule.endpoint])
        for method in sorted((rule.methods or set()) - READS):
            spec = recorded.get(method) or recorded.get(None)
            if spec is not None and not spec.api_token:
                continue
            url = rule.rule
            for name in rule.arguments:
                url = re.sub(rf"<(?:[^:<>]+:)?{name}>", samples[name], url)
            yield method, url, rule.endpoint


def needed_scope(app: Flask, endpoint: str, method: str) -> TokenScope | None:
    recorded = operations_of(app.view_functions[endpoint])
    spec = recorded.get(method) or recorded.get(None)
    return spec.scope if spec else None


def input_tag(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert found, name
    return found.group(0)


def make_token(db: Session, user: User, scopes: list[TokenScope]) -> str:
    _, plain = create_api_token(db, user, "cms", scopes)
    db.commit()
    return plain


def test_every_api_write_names_the_scope_a_token_needs(app: Flask) -> None:
    writes = list(write_routes(app))
    assert len(writes) >= 10
    missing = [(m, url) for m, url, endpoint in writes if needed_scope(app, endpoint, m) is None]
    assert not missing


def test_a_read_only_token_is_refused_on_every_write_naming_the_scope(
    app: Flask, client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    token = make_token(db, make_user(Role.ADMIN), [])

    for method, url, endpoint in write_routes(app):
        response = client.open(url, method=method, json={}, headers=bearer(token))
        scope = needed_scope(app, endpoint, method)
        assert scope is not None
        assert response.status_code == 403, (method, url)
        assert error(response)["code"] == "insufficient_scope", (method, url)
        assert error(response)["details"] == {"scope": scope.value}
        assert scope.value in error(response)["message"]


def test_each_scope_opens_its_own_writes_only(
    client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    editor = make_user(Role.EDITOR)
    polls_only = make_token(db, editor, [TokenScope.POLLS_WRITE])
    articles_only = make_token(db, editor, [TokenScope.ARTICLES_WRITE])

    refused = client.put("/api/v1/articles/scope-art", json=ARTICLE, headers=bearer(polls_only))
    assert refused.status_code == 403
    assert error(refused)["details"] == {"scope": "articles:write"}

    created = client.put("/api/v1/articles/scope-art", json=ARTICLE, headers=bearer(articles_only))
    assert created.status_code == 201, created.get_data(as_text=True)

    poll = {"question": "Wie wint?", "options": ["Wij", "Zij"]}
    refused = client.post(
        "/api/v1/articles/scope-art/polls", json=poll, headers=bearer(articles_only)
    )
    assert error(refused)["code"] == "insufficient_scope"
    made = client.post("/api/v1/articles/scope-art/polls", json=poll, headers=bearer(polls_only))
    assert made.status_code == 201, made.get_data(as_text=True)


def test_a_read_only_token_still_reads(
    client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    token = make_token(db, make_user(Role.EDITOR), [])

    response = client.get("/api/v1/me/comments", headers=bearer(token))

    assert response.status_code == 200


def test_an_editor_cannot_give_a_token_the_moderation_scope(
    db: Session, make_user: Callable[..., User]
) -> None:
    editor = make_user(Role.EDITOR)
    with pytest.raises(Exception) as refused:
        create_api_token(db, editor, "cms", [TokenScope.MODERATION_WRITE])
    assert getattr(refused.value, "code", None) == "scope_not_allowed"
    assert TokenScope.MODERATION_WRITE in token_scopes_for(Role.ADMIN)


def test_the_profile_form_creates_a_token_with_the_ticked_scopes(
    client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    editor = make_user(Role.EDITOR)
    login(client, editor)

    page = client.get("/profiel").get_data(as_text=True)
    assert 'name="scope_articles"' in page and 'name="scope_comments"' in page
    assert 'name="scope_moderation"' not in page  # not a scope an editor may give
    assert " checked" in input_tag(page, "scope_articles")  # the CMS's default
    assert " checked" not in input_tag(page, "scope_comments")

    created = client.post("/profiel/sleutels", data={"name": "Redactie", "scope_comments": "y"})
    assert created.status_code == 303
    response = client.get(created.headers["Location"])
    plain = TOKEN_CODE.search(response.get_data(as_text=True))
    assert plain
    db.expire_all()
    token = db.scalar(select(ApiToken).where(ApiToken.user_id == editor.id))
    assert token is not None and token.scope_set == {TokenScope.COMMENTS_WRITE}
    assert "comments:write" in client.get("/profiel").get_data(as_text=True)

    refused = client.post("/profiel/sleutels", data={"name": "Te veel", "scope_moderation": "y"})
    assert refused.status_code == 422
    assert "moderation:write niet krijgen" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"path": "rol", "data": {"role": "fan"}}, TokenRevocation.ROLE_LOST),
        ({"path": "rol", "data": {"role": "moderator"}}, TokenRevocation.ROLE_LOST),
        ({"path": "status", "data": {"active": "0"}}, TokenRevocation.DEACTIVATED),
    ],
)
def test_losing_the_role_ends_the_token_for_good(
    app: Flask,
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    change: dict[str, Any],
    reason: TokenRevocation,
) -> None:
    editor = make_user(Role.EDITOR)
    token = make_token(db, editor, [TokenScope.ARTICLES_WRITE])
    assert client.put("/api/v1/articles/a1", json=ARTICLE, headers=bearer(token)).status_code == 201
    admin = app.test_client()
    login(admin, make_user(Role.ADMIN))

    admin.post(f"/beheer/gebruikers/{editor.id}/{change['path']}", data=change["data"])
    # Back as an editor (promoted again, reactivated): the token stays dead.
    admin.post(f"/beheer/gebruikers/{editor.id}/rol", data={"role": "editor"})
    admin.post(f"/beheer/gebruikers/{editor.id}/status", data={"active": "1"})

    db.expire_all()
    again = db.get(User, editor.id)
    assert again is not None and again.role is Role.EDITOR and again.is_active
    response = client.put("/api/v1/articles/a1", json=ARTICLE, headers=bearer(token))
    assert response.status_code == 401
    assert error(response)["code"] == "invalid_token"
    stored = db.scalar(select(ApiToken).where(ApiToken.user_id == editor.id))
    assert stored is not None and stored.revoked_at is not None
    assert stored.revoked_reason is reason


def test_an_admin_becoming_an_editor_keeps_the_token(
    app: Flask, client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    other_admin = make_user(Role.ADMIN)
    token = make_token(db, other_admin, [TokenScope.ARTICLES_WRITE])
    admin = app.test_client()
    login(admin, make_user(Role.ADMIN))

    admin.post(f"/beheer/gebruikers/{other_admin.id}/rol", data={"role": "editor"})

    assert client.put("/api/v1/articles/a2", json=ARTICLE, headers=bearer(token)).status_code == 201


def test_the_openapi_document_describes_the_scopes(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    scheme = document["components"]["securitySchemes"]["bearerToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert set(scheme["x-scopes"]) == {scope.value for scope in TokenScope}
    for scope in TokenScope:
        assert scope.value in scheme["description"]

    for method, _url, endpoint in write_routes(app):
        scope = needed_scope(app, endpoint, method)
        assert scope is not None
        path = re.sub(
            r"<(?:[^:<>]+:)?([^<>]+)>",
            r"{\1}",
            next(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint),
        )
        security = document["paths"][path][method.lower()]["security"]
        assert {"bearerToken": [scope.value]} in security, (method, path)
    reads = document["paths"]["/api/v1/me/comments"]["get"]["security"]
    assert {"bearerToken": []} in reads
