"""The OpenAPI document is generated from the models, describes every /api/v1 route, and is
valid OpenAPI 3.1."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import Field
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from comments.services import BODY_MAX, BODY_MIN
from models import (
    AppealState,
    Article,
    CommentMode,
    CommentState,
    Poll,
    ReasonCode,
    ReportOutcome,
    ResultsVisibility,
    User,
    VoterScope,
)
from polls.services import MAX_OPTIONS, QUESTION_MAX, PollState
from tests.conftest import login
from tests.factories import CLEAN, HOLD_TEXT, ORIGIN, REJECT_TEXT
from tests.polls_fixtures import make_poll_fixture, vote, voter_token  # noqa: F401
from views import api_schemas as schemas
from views.openapi import openapi_document, operations_of

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def api_operations(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every /api/v1 rule in the URL map."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = PARAMETER.sub(r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            operations.add((path, method.lower()))
    return operations


def test_the_url_map_has_api_routes(app: Flask) -> None:
    assert ("/api/v1/articles/{article_id}", "put") in api_operations(app)


def test_every_api_route_is_documented(app: Flask, document: dict[str, Any]) -> None:
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }

    missing = api_operations(app) - documented

    assert not missing, f"missing from openapi.json: {sorted(missing)}"


def test_every_documented_operation_exists(app: Flask, document: dict[str, Any]) -> None:
    routes = api_operations(app)

    for path, item in document["paths"].items():
        for method in set(item) & HTTP_METHODS:
            assert (path, method) in routes, f"{method.upper()} {path} is documented but not routed"


def test_document_looks_like_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert document["servers"][0]["url"] == "http://localhost"
    assert document["paths"]


def test_every_operation_has_responses_and_declares_its_path_parameters(
    document: dict[str, Any],
) -> None:
    for path, item in document["paths"].items():
        wanted = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation["responses"], f"{method} {path} has no responses"
            for status, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d|default", status), status
                assert response["description"]
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == wanted, f"{method} {path} path parameters"


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in refs(value)]
        return []

    for ref in refs(document):
        assert ref.startswith("#/"), ref
        target: Any = document
        for part in ref[2:].split("/"):
            assert part in target, f"unresolved {ref}"
            target = target[part]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The schema a {"$ref": …} names (or the node itself)."""
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def body_schema(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    return resolve(document, body["schema"])


def test_error_schema_matches_the_error_shape(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["Error"]

    assert error["required"] == ["error"]
    inner = resolve(document, error["properties"]["error"])
    assert set(inner["required"]) == {"code", "message"}
    assert set(inner["properties"]) == {"code", "message", "details"}


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    OPENAPI_31_VALIDATOR.validate(document)
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_the_validator_refuses_a_broken_document(document: dict[str, Any]) -> None:
    broken = {**document, "paths": {"/api/v1/tallies": {"get": {"responses": "none"}}}}

    assert not OPENAPI_31_VALIDATOR.is_valid(broken)
    assert not jsonschema_rs.meta.is_valid({"type": "text"})


def test_a_field_added_to_a_model_appears_in_the_document(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    class ArticleWithSection(schemas.ArticleIn):
        section: str = Field(max_length=40)

    recorded = operations_of(app.view_functions["api.put_article"])
    monkeypatch.setitem(recorded, None, replace(recorded[None], body=ArticleWithSection))

    document = openapi_document(app)

    schema = body_schema(document, "/api/v1/articles/{article_id}", "put")
    section = schema["properties"]["section"]
    assert (section["type"], section["maxLength"]) == ("string", 40)
    assert set(schema["required"]) == {"title", "section"}


def test_a_route_without_models_stops_the_document(app: Flask) -> None:
    app.add_url_rule("/api/v1/undocumented", "undocumented", lambda: "")

    with pytest.raises(LookupError, match="undocumented"):
        openapi_document(app)


def test_poll_patch_documents_every_field_it_accepts(document: dict[str, Any]) -> None:
    patch = body_schema(document, "/api/v1/polls/{poll_id}", "patch")
    create = body_schema(document, "/api/v1/articles/{article_id}/polls", "post")

    assert set(patch["properties"]) == set(schemas.PollPatch.model_fields)
    # A poll's kind, a player_ratings poll's line-up and a score_prediction poll's match are
    # set when it is created.
    created_only = {"kind", "players", "coach", "home_team", "away_team", "competition"}
    assert set(patch["properties"]) == (set(create["properties"]) - created_only) | {"state"}
    assert patch["additionalProperties"] is False
    assert "required" not in patch
    state = patch["properties"]["state"]["anyOf"][0]
    assert state["enum"] == [PollState.OPEN.value, PollState.CLOSED.value]


def test_article_in_documents_the_nulls_it_accepts(document: dict[str, Any]) -> None:
    article = body_schema(document, "/api/v1/articles/{article_id}", "put")

    for name in ("url", "teaser", "body", "published_at", "comment_mode"):
        assert {"type": "null"} in article["properties"][name]["anyOf"], name
        assert schemas.ArticleIn.model_validate({"title": "t", name: None})


@pytest.mark.parametrize(
    "enum_type",
    [
        ReasonCode,
        CommentState,
        CommentMode,
        ReportOutcome,
        AppealState,
        ResultsVisibility,
        VoterScope,
        PollState,
    ],
)
def test_enums_come_from_the_code(document: dict[str, Any], enum_type: type[enum.Enum]) -> None:
    schema = document["components"]["schemas"][enum_type.__name__]

    assert schema["enum"] == [member.value for member in enum_type]


def test_reason_codes_and_limits_come_from_the_code(document: dict[str, Any]) -> None:
    report = body_schema(document, "/api/v1/comments/{comment_id}/reports", "post")
    comment = body_schema(document, "/api/v1/articles/{article_id}/comments", "post")
    poll = body_schema(document, "/api/v1/articles/{article_id}/polls", "post")
    own = document["components"]["schemas"]["OwnComment"]["properties"]

    assert resolve(document, report["properties"]["reason"])["enum"] == list(ReasonCode)
    assert resolve(document, own["reasons"]["items"])["enum"] == list(ReasonCode)
    body = comment["properties"]["body"]
    assert (body["minLength"], body["maxLength"]) == (BODY_MIN, BODY_MAX)
    assert poll["properties"]["question"]["maxLength"] == QUESTION_MAX
    assert poll["properties"]["options"]["maxItems"] == MAX_OPTIONS


def test_every_write_documents_the_refusals_of_the_write_check(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "options"):
                continue
            assert {"401", "403", "413", "415"} <= set(operation["responses"]), (method, path)
            if "requestBody" in operation:
                assert {"400", "422"} <= set(operation["responses"]), (method, path)


# ---------------------------------------------------------------- the hot paths' plain dicts


def answer_validator(document: dict[str, Any], path: str, method: str, status: int) -> Any:
    """A JSON Schema validator for one documented answer (its refs resolve in the document)."""
    content = document["paths"][path][method]["responses"][str(status)]["content"]
    schema = content["application/json"]["schema"]
    return jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})


@pytest.fixture
def trusted_posting(app_settings: dict[str, Any]) -> None:
    # New accounts' first comments are held, and three quick posts are a flood: not here.
    app_settings["TRIBUNE_NEW_ACCOUNT_COMMENTS"] = 0
    app_settings["TRIBUNE_FLOOD_LIMIT"] = 100


@pytest.mark.parametrize(("text", "status"), [(CLEAN, 201), (HOLD_TEXT, 202), (REJECT_TEXT, 422)])
def test_posting_answers_as_documented(
    trusted_posting: None,
    client: FlaskClient,
    document: dict[str, Any],
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    text: str,
    status: int,
) -> None:
    make_article("match")
    login(client, make_user())

    response = client.post("/api/v1/articles/match/comments", json={"body": text}, headers=ORIGIN)

    assert response.status_code == status, response.get_json()
    validator = answer_validator(document, "/api/v1/articles/{article_id}/comments", "post", status)
    validator.validate(response.get_json())


def test_voting_answers_as_documented(
    client: FlaskClient, document: dict[str, Any], make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    token = voter_token(client, poll.id)
    path = "/api/v1/polls/{poll_id}/votes"

    first = vote(client, poll.id, [poll.options[0].id], token)
    again = vote(client, poll.id, [poll.options[0].id], token)

    assert (first.status_code, again.status_code) == (201, 200)
    answer_validator(document, path, "post", 201).validate(first.get_json())
    answer_validator(document, path, "post", 200).validate(again.get_json())
    broken = {**first.get_json(), "counted": "yes"}
    assert not answer_validator(document, path, "post", 201).is_valid(broken)
