"""'Mijn gegevens downloaden' (/profiel/gegevens.json) and GET /api/v1/me/export: every row the fan
owns, and no section missing for a table that references an account."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import models
from accounts.services import create_api_token
from models import Article, Role, User
from privacy import export
from tests.conftest import client_for
from tests.factories import fresh
from tests.privacy_fixtures import (
    APPEAL_TEXT,
    NOTE_ABOUT_FAN,
    REPORT_NOTE,
    SSO_EMAIL,
    TOKEN_NAME,
    Fan,
    populate_fan,
)
from views.api_schemas import AccountExport


def user_columns() -> list[tuple[str, str]]:
    """(table, column) of every column with a foreign key to users.id, from the metadata."""
    found = []
    for table in models.Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "users" for fk in column.foreign_keys):
                found.append((table.name, column.name))
    return sorted(found)


def listed_rows(document: dict[str, Any], section: str, key: str) -> list[dict[str, Any]]:
    value = document[section]
    return value if key == "" else value[key]


@pytest.fixture
def fan(
    app: Flask, db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> Fan:
    return populate_fan(app, db, make_user, make_article)


def download(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/profiel/gegevens.json")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return json.loads(response.get_data(as_text=True))


def test_the_metadata_scan_finds_the_known_user_columns() -> None:
    columns = user_columns()

    assert ("comments", "author_id") in columns
    assert ("ballots", "user_id") in columns
    assert len(columns) >= 14


@pytest.mark.parametrize(("table", "column"), user_columns())
def test_every_table_referencing_an_account_is_covered_by_the_export(
    table: str, column: str
) -> None:
    # A new table with a user column fails here until a section lists its rows
    # (privacy.export.register_section(..., covers=...)).
    assert (table, column) in export.covered_columns(), (
        f"{table}.{column} references users.id but no export section lists its rows"
    )


def test_the_export_contains_every_row_the_fan_owns(fan: Fan, db: Session) -> None:
    document = download(fan.client)

    fresh(db)
    for (table_name, column_name), (section, key) in export.covered_columns().items():
        table = models.Base.metadata.tables[table_name]
        owned = set(db.scalars(select(table.c.id).where(table.c[column_name] == fan.user.id)))
        assert owned, f"the fixture owns no {table_name} row through {column_name}"
        exported = {row["id"] for row in listed_rows(document, section, key)}
        assert owned <= exported, f"{table_name}.{column_name}: {owned - exported} missing"


def test_the_export_says_what_each_row_is(fan: Fan) -> None:
    document = download(fan.client)

    account = document["account"]
    assert account["username"] == "supporter"
    assert account["email"] == "supporter@example.test"
    assert account["role"] == "fan"
    assert account["last_login_at"] is not None
    assert any(row["action"] == "add_note" for row in account["history"])
    states = {row["state"] for row in document["comments"]}
    assert states == {"published", "held", "rejected", "removed", "deleted"}
    rejected = next(row for row in document["comments"] if row["state"] == "rejected")
    assert rejected["reasons"] == ["racisme"] and rejected["decision_reason"] == "racisme"
    assert rejected["article_id"] == "defour" and rejected["article_title"] == "Artikel 1"
    reply_parent = {row["parent_id"] for row in document["comments"]}
    assert reply_parent == {None}
    assert document["reports"][0]["note"] == REPORT_NOTE
    assert document["reports"][0]["reason"] == "spam"
    assert document["reports"][0]["outcome"] == "pending"
    assert document["appeals"][0]["body"] == APPEAL_TEXT
    assert document["appeals"][0]["state"] == "pending"
    ballot = document["ballots"][0]
    assert ballot["poll_question"] == "Moet KVM verder doen met Defour?"
    assert ballot["choices"] == ["Ja"] and ballot["counted"] is True
    assert document["api_tokens"][0]["name"] == TOKEN_NAME
    assert document["api_tokens"][0]["scopes"] == ["articles:write"]
    assert document["sessions"]["remember_count"] == 1
    assert document["sessions"]["embed_session_count"] == 1
    assert document["sso_identities"][0]["email"] == SSO_EMAIL
    assert document["notes_about_you"][0]["body"] == NOTE_ABOUT_FAN


def test_the_download_is_a_private_attachment_without_secrets(fan: Fan, db: Session) -> None:
    response = fan.client.get("/profiel/gegevens.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Content-Disposition"].endswith('.json"')
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_data(as_text=True)
    fresh(db)
    user = db.get(User, fan.user.id)
    assert user is not None
    assert user.password_hash not in body
    assert "a" * 64 not in body and "b" * 64 not in body  # token and embed session hashes
    assert "trb_aaaaaa" not in body  # not even the token's prefix


def test_the_profile_links_the_download_and_the_deletion(fan: Fan) -> None:
    page = fan.client.get("/profiel").get_data(as_text=True)

    assert "Mijn gegevens downloaden" in page and 'href="/profiel/gegevens.json"' in page
    assert 'href="/profiel/verwijderen"' in page


def test_someone_else_gets_only_their_own_data(
    fan: Fan, app: Flask, make_user: Callable[..., User]
) -> None:
    stranger = client_for(app, make_user(Role.FAN, username="vreemde"))

    document = download(stranger)

    assert document["account"]["username"] == "vreemde"
    assert document["comments"] == [] and document["ballots"] == []
    assert REPORT_NOTE not in json.dumps(document)


def test_the_page_asks_a_visitor_to_log_in(client: FlaskClient) -> None:
    response = client.get("/profiel/gegevens.json")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_api_answers_the_same_export(fan: Fan) -> None:
    page = download(fan.client)

    response = fan.client.get("/api/v1/me/export")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    answer = response.get_json()
    assert {key: value for key, value in answer.items() if key != "exported_at"} == {
        key: value for key, value in page.items() if key != "exported_at"
    }
    AccountExport.model_validate(answer)


def test_the_api_takes_the_accounts_own_token(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    editor = make_user(Role.EDITOR, username="redacteur")
    _token, plain = create_api_token(db, editor, "export")
    db.commit()

    response = app.test_client().get(
        "/api/v1/me/export", headers={"Authorization": f"Bearer {plain}"}
    )

    assert response.status_code == 200
    assert response.get_json()["account"]["username"] == "redacteur"
    assert [token["name"] for token in response.get_json()["api_tokens"]] == ["export"]


def test_the_api_refuses_a_visitor(client: FlaskClient) -> None:
    response = client.get("/api/v1/me/export")

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "login_required"


def test_the_openapi_document_describes_the_export(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()

    operation = document["paths"]["/api/v1/me/export"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/AccountExport")
    properties = document["components"]["schemas"]["AccountExport"]["properties"]
    assert set(export.export_sections) <= set(properties)


@pytest.fixture
def extra_section() -> Iterator[None]:
    @export.register_section("notification_settings", covers={})
    def _settings(session: Session, user: User) -> Any:
        return {"reply": "immediately", "user": user.id}

    yield
    del export.export_sections["notification_settings"]


def test_another_package_adds_its_section(fan: Fan, extra_section: None) -> None:
    document = download(fan.client)

    assert document["notification_settings"] == {"reply": "immediately", "user": fan.user.id}
    AccountExport.model_validate(fan.client.get("/api/v1/me/export").get_json())
