"""The OpenAPI 3 document for /api/v1. Each route of the API is described here; a test checks
that no route is missing."""

from __future__ import annotations

from typing import Any

ERROR_CODES = [400, 401, 403, 404, 405, 409, 413, 415, 422, 429]


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


ARTICLE_ID = {
    "name": "article_id",
    "in": "path",
    "required": True,
    "description": "The CMS's own article id.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "example": "validation_failed"},
                    "message": {"type": "string", "description": "Dutch, for people"},
                    "details": {"type": "object"},
                },
            }
        },
    },
    "Article": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "url": {"type": "string", "nullable": True},
            "teaser": {"type": "string", "nullable": True},
            "published_at": {"type": "string", "format": "date-time", "nullable": True},
            "comment_mode": {"type": "string", "enum": ["open", "premoderated", "closed"]},
            "comments": {"type": "integer"},
            "votes": {"type": "integer"},
        },
    },
    "Tallies": {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "required": ["comments", "votes"],
            "properties": {
                "comments": {"type": "integer", "minimum": 0},
                "votes": {"type": "integer", "minimum": 0},
            },
        },
        "example": {"a": {"comments": 12, "votes": 340}, "b": {"comments": 0, "votes": 0}},
    },
    "ArticleIn": {
        "type": "object",
        "required": ["title"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 300},
            "url": {"type": "string", "format": "uri"},
            "teaser": {"type": "string", "maxLength": 2000},
            "body": {"type": "string", "maxLength": 100000},
            "published_at": {"type": "string", "format": "date-time"},
            "comment_mode": {"type": "string", "enum": ["open", "premoderated", "closed"]},
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/articles/{article_id}": {
        "get": {
            "summary": "One article with its tallies",
            "parameters": [ARTICLE_ID],
            "responses": {
                "200": _json("Article", "The article"),
                "404": _error("Unknown article"),
                "422": _error("Malformed article id"),
            },
        },
        "put": {
            "summary": "Register or update an article (editor token)",
            "security": [{"editorToken": []}],
            "parameters": [ARTICLE_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ArticleIn"}}
                },
            },
            "responses": {
                "200": _json("Article", "Updated"),
                "201": _json("Article", "Registered"),
                "400": _error("Body is not JSON"),
                "401": _error("No or invalid token"),
                "403": _error("Not an editor"),
                "415": _error("Not application/json"),
                "422": _error("Invalid fields or article id"),
            },
        },
    },
    "/api/v1/tallies": {
        "get": {
            "summary": "Tallies (comments, votes) for up to 100 articles, cacheable by a CDN",
            "description": (
                "Ids are validated, deduplicated and sorted (the cache key); unknown ids give "
                "zeros. comments = published comments including replies; votes = ballots not "
                "in quarantine over all the article's polls. Public, cacheable (Cache-Control "
                "public with max-age and stale-while-revalidate), a strong ETag with 304 on "
                "If-None-Match, and Access-Control-Allow-Origin: *."
            ),
            "parameters": [
                {
                    "name": "ids",
                    "in": "query",
                    "required": True,
                    "description": "Comma-separated article ids, at most 100 distinct.",
                    "schema": {"type": "string", "example": "a,b,c"},
                },
                {
                    "name": "If-None-Match",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                },
            ],
            "responses": {
                "200": _json("Tallies", "Tallies by article id"),
                "304": {"description": "Not modified (the ETag matched)"},
                "422": _error("Missing, malformed or more than 100 ids"),
            },
        },
        "options": {
            "summary": "CORS preflight",
            "responses": {"204": {"description": "Allowed methods and headers"}},
        },
    },
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3 document"}},
        }
    },
}


def openapi_document(server_url: str) -> dict[str, Any]:
    """The whole document, with this server's URL."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Tribune API",
            "version": "1",
            "description": (
                "Fan polls, comments with moderation, and per-article tallies. Errors are "
                '{"error": {"code", "message", "details"?}}. Writes authenticate with an editor '
                "token (Authorization: Bearer) or the session cookie plus a JSON body and a "
                "matching Origin."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"editorToken": {"type": "http", "scheme": "bearer"}},
        },
    }
