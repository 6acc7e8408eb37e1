"""The OpenAPI 3.1 document of /api/v1, generated from the pydantic models of each operation.

A view declares its models with @operation (which only records them: no work per request);
openapi_document() walks the app's URL map, takes the summary and description from the view's
docstring and the schemas from pydantic. Errors every operation of the API can answer (a bad
token, a write without JSON or from another origin, an oversized body) are added here once.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from models import TokenScope
from views import api_schemas as schemas
from views.embed_auth import view_takes_embed_token

F = TypeVar("F", bound=Callable[..., Any])
PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
READS = frozenset({"GET", "HEAD", "OPTIONS"})
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# "embed": only an embed access token authenticates it (views/api_embed.py).
Auth = Literal["public", "login", "editor", "embed"]


@dataclass(frozen=True)
class Operation:
    """What one method of a view accepts and answers, for the document only."""

    responses: Mapping[int, type[BaseModel] | tuple[type[BaseModel], ...] | str]
    errors: Mapping[int, str] = field(default_factory=dict)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: type[BaseModel] | None = None
    auth: Auth = "public"
    # The scope an API token needs for this write (a write without one takes no token).
    scope: TokenScope | None = None
    # False: an editor API token cannot call it (403 insufficient_scope): the embed sessions.
    api_token: bool = True
    # A JSON body is read (so 400/413/415 apply) even without a documented body model.
    reads_json: bool = False
    summary: str | None = None
    description: str | None = None


def operation(method: str | None = None, **spec: Any) -> Callable[[F], F]:
    """Record the models of a view (for `method`, or every method of its route)."""

    def record(view: F) -> F:
        view.__dict__.setdefault("openapi", {})[method] = Operation(**spec)
        return view

    return record


def operations_of(view: Callable[..., Any]) -> dict[str | None, Operation]:
    """The operations a view recorded (None: every method of its route)."""
    recorded: dict[str | None, Operation] = view.__dict__.get("openapi", {})
    return recorded


# ---------------------------------------------------------------- generation

API_DESCRIPTION = (
    'Fan polls, comments with moderation, and per-article tallies. Errors are {"error": '
    '{"code", "message", "details"?}}. Writes authenticate with a token (Authorization: '
    "Bearer) or the session cookie plus a JSON body and this site's Origin."
)
BEARER_DESCRIPTION = (
    "An editor API token (made on /profiel). Reads need no scope; every write names the one "
    "scope it needs in its `security` requirement, and a token without it gets 403 "
    "insufficient_scope (details.scope). A token without any scope only reads. A token ends "
    "for good when revoked, when its owner stops being an editor or admin, or when the account "
    "is deactivated. Scopes: "
    + "; ".join(f"`{scope.value}`: {scope.description}" for scope in TokenScope)
)
EMBED_DESCRIPTION = (
    "A comments embed's access token (opaque, `tre_…`, minutes long), from POST "
    "/embed/sessions (a news site's SSO token) or the first-party popup login (POST "
    "/embed/sessie on Tribune's own origin). It acts as its fan on the comment routes and "
    "the embed-session routes only; refresh it before expires_in runs out. docs/embed.md."
)
SECURITY = {
    "bearerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": BEARER_DESCRIPTION,
        # OpenAPI has a scopes map only for OAuth 2; the bearer scheme's is an extension.
        "x-scopes": {scope.value: scope.description for scope in TokenScope},
    },
    "embedSession": {
        "type": "http",
        "scheme": "bearer",
        "description": EMBED_DESCRIPTION,
    },
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
}


def _security(method: str, op: Operation, embed: bool = False) -> list[dict[str, list[str]]] | None:
    """Who may call the operation: a token with the write's scope (reads: any token) or the
    session, or an embed token where it is taken; an anonymous caller too where the
    operation is public."""
    if op.auth == "embed":
        return [{"embedSession": []}]
    found = _token_or_session(method, op)
    if embed and found is not None:
        return [*found, {"embedSession": []}]
    return found


def _token_or_session(method: str, op: Operation) -> list[dict[str, list[str]]] | None:
    if method not in READS:
        bearer = {"bearerToken": [op.scope.value]} if op.scope is not None else None
    else:
        bearer = {"bearerToken": []}
    if op.auth == "public":
        return [{}, bearer] if bearer is not None and method not in READS else None
    return [*([bearer] if bearer is not None else []), {"sessionCookie": []}]


def _common_errors(method: str, op: Operation) -> dict[int, str]:
    """Errors any operation of this kind can answer, before or around its own rules."""
    errors = {401: "invalid_token: a malformed, unknown or revoked Bearer token."}
    if op.auth not in ("public", "embed"):
        errors[401] += " login_required: no token and no session."
    if op.auth == "editor":
        errors[403] = "forbidden: not an editor or an admin."
    if method not in READS:
        cookie_write = (
            "origin_mismatch: a cookie write from another origin. insufficient_scope: the "
            "token lacks the scope this write needs (details.scope)."
        )
        errors[403] = f"{errors[403]} {cookie_write}" if 403 in errors else cookie_write
        errors[415] = "unsupported_media_type: the body is not application/json."
        errors[413] = "payload_too_large: the body exceeds the limit."
        if op.body is not None or op.reads_json:
            errors[400] = "invalid_json: the body is not a JSON object."
    # The NUL check reads every query string, even one an operation does not define.
    errors[422] = "invalid_text: text with U+0000."
    if op.body is not None and op.body.model_config.get("extra") == "forbid":
        errors[422] += " validation_failed: details.fields names each invalid field."
    return errors


def _models(ops: Iterable[Operation]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (schemas.Error, "serialization"): None
    }
    for op in ops:
        if op.body is not None:
            found[(op.body, "validation")] = None
        for answer in op.responses.values():
            for model in answer if isinstance(answer, tuple) else (answer,):
                if isinstance(model, type):
                    found[(model, "serialization")] = None
    return list(found)


def _parameters(
    model: type[BaseModel], where: str, names: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        if names is not None and name not in names:
            continue
        parameter = {"name": name, "in": where, "required": name in required or where == "path"}
        description = prop.pop("description", None)
        if description:
            parameter["description"] = description
        prop.pop("title", None)
        parameter["schema"] = _without_null(prop)
        parameters.append(parameter)
    if names is not None and {p["name"] for p in parameters} != set(names):
        raise LookupError(f"path parameters {sorted(names)} need fields in PathParameters")
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional parameter is left out, never null: drop the null branch and default."""
    branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1 and len(schema["anyOf"]) == 2:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        schema = {**rest, **branches[0]}
    if schema.get("default", "") is None:
        del schema["default"]
    return schema


def _content(
    answer: type[BaseModel] | tuple[type[BaseModel], ...], names: Mapping[Any, Any]
) -> dict[str, Any]:
    models = answer if isinstance(answer, tuple) else (answer,)
    refs = [names[(model, "serialization")] for model in models]
    schema = refs[0] if len(refs) == 1 else {"anyOf": refs}
    return {"application/json": {"schema": schema}}


def _describe(view: Callable[..., Any], op: Operation) -> dict[str, str]:
    doc = inspect.getdoc(view) or ""
    summary, _, rest = doc.partition("\n")
    text = {"summary": op.summary or summary.strip()}
    description = op.description or rest.strip()
    if description:
        text["description"] = description
    return text


def openapi_document(app: Flask) -> dict[str, Any]:
    """The whole document for this app's /api/v1 routes (the view adds the server URL)."""
    routes: list[tuple[str, str, Callable[..., Any], Operation]] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        recorded = operations_of(view)
        methods = sorted((rule.methods or set()) - {"HEAD"})
        for method in methods:
            op = recorded.get(method) or (recorded.get(None) if method != "OPTIONS" else None)
            if op is None:
                if method == "OPTIONS":
                    continue  # Flask's automatic OPTIONS
                raise LookupError(f"{method} {rule.rule} ({rule.endpoint}) has no @operation")
            routes.append((_CONVERTER.sub(r"{\1}", rule.rule), method, view, op))

    pairs = _models(op for *_, op in routes)
    names, definitions = models_json_schema(pairs, ref_template=REF)
    components = dict(definitions.get("$defs", {}))

    paths: dict[str, dict[str, Any]] = {}
    for path, method, view, op in routes:
        parameters = []
        wanted = re.findall(r"{([^}]+)}", path)
        if wanted:
            parameters += _parameters(schemas.PathParameters, "path", wanted)
        if op.query is not None:
            parameters += _parameters(op.query, "query")
        if op.headers is not None:
            parameters += _parameters(op.headers, "header")
        responses: dict[str, Any] = {}
        for status, answer in sorted(op.responses.items()):
            if isinstance(answer, str):
                responses[str(status)] = {"description": answer}
            else:
                doc = (answer if isinstance(answer, type) else answer[0]).__doc__ or ""
                first = inspect.cleandoc(doc).partition("\n")[0]
                responses[str(status)] = {
                    "description": f"{HTTPStatus(status).phrase}. {first}".strip(),
                    "content": _content(answer, names),
                }
        errors = _common_errors(method, op)
        if view_takes_embed_token(view):
            errors[401] += (
                " embed_session_expired, embed_session_invalid: an expired, unknown or ended"
                " embed token."
            )
        for status, text in op.errors.items():
            errors[status] = f"{errors[status]} {text}" if status in errors else text
        for status, text in sorted(errors.items()):
            if str(status) in responses:
                continue
            responses[str(status)] = {
                "description": text,
                "content": _content(schemas.Error, names),
            }
        entry: dict[str, Any] = {
            **_describe(view, op),
            "operationId": f"{view.__name__}" + ("" if method != "OPTIONS" else "_options"),
            "responses": responses,
        }
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": names[(op.body, "validation")]}},
            }
        security = _security(method, op, view_takes_embed_token(view))
        if security is not None:
            entry["security"] = security
        paths.setdefault(path, {})[method.lower()] = entry

    return {
        "openapi": "3.1.0",
        "info": {"title": "Tribune API", "version": "1", "description": API_DESCRIPTION},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY},
    }
