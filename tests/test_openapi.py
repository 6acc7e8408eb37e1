"""The OpenAPI document describes every /api/v1 route and looks like valid OpenAPI 3."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

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


def test_document_looks_like_openapi_3(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
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


def test_error_schema_matches_the_error_shape(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["Error"]

    assert error["required"] == ["error"]
    assert set(error["properties"]["error"]["required"]) == {"code", "message"}
