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


# ---------------------------------------------------------------- polls

POLL_ID = {
    "name": "poll_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
VOTER_TOKEN_HEADER = {
    "name": "X-Tribune-Voter-Token",
    "in": "header",
    "required": False,
    "description": "Signed anonymous voter token for this poll (from POST …/voter-token).",
    "schema": {"type": "string"},
}
_RESULTS = {
    "type": "object",
    "nullable": True,
    "description": "Counted ballots (quarantined ones excluded); null when not visible.",
    "properties": {
        "total": {"type": "integer"},
        "options": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "votes": {"type": "integer"},
                    "percent": {"type": "integer"},
                },
            },
        },
    },
}
_TIME = {"type": "string", "format": "date-time", "nullable": True}
SCHEMAS.update(
    {
        "Ballot": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "option_ids": {"type": "array", "items": {"type": "integer"}},
                "created_at": {"type": "string", "format": "date-time"},
            },
        },
        "Poll": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "article_id": {"type": "string"},
                "article_page": {"type": "string", "format": "uri"},
                "question": {"type": "string"},
                "state": {"type": "string", "enum": ["scheduled", "open", "closed"]},
                "opens_at": _TIME,
                "closes_at": _TIME,
                "max_choices": {"type": "integer"},
                "voter_scope": {"type": "string", "enum": ["everyone", "logged_in"]},
                "results_visibility": {
                    "type": "string",
                    "enum": ["always", "after_vote", "after_close", "never"],
                },
                "options": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "label": {"type": "string"}},
                    },
                },
                "results": _RESULTS,
                "results_members": {**_RESULTS, "description": "Logged-in fans only."},
                "own_ballot": {
                    "allOf": [{"$ref": "#/components/schemas/Ballot"}],
                    "nullable": True,
                },
                "stats": {"type": "object", "description": "Editors only: ballot counts."},
            },
        },
        "PollIn": {
            "type": "object",
            "required": ["question", "options"],
            "additionalProperties": False,
            "properties": {
                "question": {"type": "string", "minLength": 1, "maxLength": 300},
                "options": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 10,
                    "items": {"type": "string", "minLength": 1, "maxLength": 200},
                },
                "max_choices": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                "opens_at": {"type": "string", "format": "date-time"},
                "closes_at": {"type": "string", "format": "date-time"},
                "results_visibility": {
                    "type": "string",
                    "enum": ["always", "after_vote", "after_close", "never"],
                },
                "voter_scope": {"type": "string", "enum": ["everyone", "logged_in"]},
            },
        },
        "PollPatch": {
            "type": "object",
            "additionalProperties": False,
            "description": "Any PollIn field, plus state open/closed. After the first ballot "
            "only closes_at, results_visibility and state may change (409 poll_frozen).",
            "properties": {"state": {"type": "string", "enum": ["open", "closed"]}},
        },
        "VoteIn": {
            "type": "object",
            "required": ["option_ids"],
            "properties": {
                "option_ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
                "voter_token": {"type": "string", "description": "Or the header."},
            },
        },
        "VoteOut": {
            "type": "object",
            "properties": {
                "counted": {"type": "boolean"},
                "ballot": {"$ref": "#/components/schemas/Ballot"},
                "poll": {"$ref": "#/components/schemas/Poll"},
            },
        },
        "VoterToken": {
            "type": "object",
            "properties": {
                "voter_token": {"type": "string"},
                "poll_id": {"type": "integer"},
                "max_age": {"type": "integer", "description": "Seconds"},
            },
        },
    }
)
_EDITOR = {"security": [{"editorToken": []}]}
PATHS.update(
    {
        "/api/v1/articles/{article_id}/polls": {
            "post": {
                "summary": "Create a poll on an article (editor token)",
                **_EDITOR,
                "parameters": [ARTICLE_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/PollIn"}}
                    },
                },
                "responses": {
                    "201": _json("Poll", "Created"),
                    "400": _error("Body is not JSON"),
                    "401": _error("No or invalid token"),
                    "403": _error("Not an editor"),
                    "404": _error("Unknown article"),
                    "415": _error("Not application/json"),
                    "422": _error("Invalid fields"),
                },
            }
        },
        "/api/v1/polls/{poll_id}": {
            "get": {
                "summary": "A poll with results when visible and the caller's own ballot",
                "description": "Cache-Control: private, no-store. A scheduled poll is 404 "
                "except for editors.",
                "parameters": [POLL_ID, VOTER_TOKEN_HEADER],
                "responses": {
                    "200": _json("Poll", "The poll"),
                    "404": _error("Unknown or not yet open"),
                },
            },
            "patch": {
                "summary": "Edit, close or reopen a poll (editor token)",
                **_EDITOR,
                "parameters": [POLL_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/PollPatch"}}
                    },
                },
                "responses": {
                    "200": _json("Poll", "Updated"),
                    "401": _error("No or invalid token"),
                    "403": _error("Not an editor"),
                    "404": _error("Unknown poll"),
                    "409": _error("poll_frozen, poll_not_open or poll_not_closed"),
                    "422": _error("Invalid fields"),
                },
            },
            "delete": {
                "summary": "Delete a poll without ballots (editor token)",
                **_EDITOR,
                "parameters": [POLL_ID],
                "responses": {
                    "204": {"description": "Deleted"},
                    "401": _error("No or invalid token"),
                    "403": _error("Not an editor"),
                    "404": _error("Unknown poll"),
                    "409": _error("poll_has_ballots"),
                },
            },
        },
        "/api/v1/polls/{poll_id}/voter-token": {
            "post": {
                "summary": "Issue a signed anonymous voter token for this poll",
                "description": "Rate-limited per client IP hash. Body: {}. Needs this site's "
                "Origin (or Sec-Fetch-Site: same-origin).",
                "parameters": [POLL_ID],
                "responses": {
                    "201": _json("VoterToken", "Issued"),
                    "401": _error("login_required: the poll is for logged-in fans"),
                    "403": _error("origin_mismatch"),
                    "404": _error("Unknown or not yet open"),
                    "409": _error("poll_closed"),
                    "415": _error("Not application/json"),
                    "429": _error("too_many_tokens"),
                },
            }
        },
        "/api/v1/polls/{poll_id}/votes": {
            "post": {
                "summary": "Vote once per poll",
                "description": "Logged-in fans vote with their session (JSON + this site's "
                "Origin); anonymous fans with the voter token (header or body). A second "
                "attempt returns 200 with the existing ballot.",
                "parameters": [POLL_ID, VOTER_TOKEN_HEADER],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/VoteIn"}}
                    },
                },
                "responses": {
                    "201": _json("VoteOut", "Counted"),
                    "200": _json("VoteOut", "Already voted: the same ballot"),
                    "400": _error("Body is not a JSON object"),
                    "401": _error("login_required or voter_token_required"),
                    "403": _error(
                        "origin_mismatch, invalid_voter_token, voter_token_expired, "
                        "foreign_voter_token"
                    ),
                    "404": _error("Unknown or not yet open"),
                    "409": _error("poll_not_open (editors, scheduled) or poll_closed"),
                    "415": _error("Not application/json"),
                    "422": _error("invalid_options or too_many_choices"),
                },
            }
        },
    }
)

# ---------------------------------------------------------------- comments

COMMENT_ID = {
    "name": "comment_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
_COOKIE_WRITE = (
    "Session cookie; JSON body with Content-Type application/json and this site's Origin."
)
SCHEMAS.update(
    {
        "ThreadComment": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "parent_id": {"type": "integer", "nullable": True},
                "author": {"type": "string", "nullable": True},
                "body": {"type": "string", "nullable": True, "description": "null when deleted"},
                "deleted": {"type": "boolean"},
                "created_at": {"type": "string", "format": "date-time"},
                "edited_at": {"type": "string", "format": "date-time", "nullable": True},
                "replies": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/ThreadComment"},
                },
            },
        },
        "ThreadPage": {
            "type": "object",
            "properties": {
                "article_id": {"type": "string"},
                "comments": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/ThreadComment"},
                },
                "count": {"type": "integer", "description": "published comments incl. replies"},
                "page": {"type": "integer"},
                "pages": {"type": "integer"},
                "per_page": {"type": "integer"},
                "total_threads": {"type": "integer"},
            },
        },
        "CommentIn": {
            "type": "object",
            "required": ["body"],
            "properties": {
                "body": {"type": "string", "minLength": 2, "maxLength": 2000},
                "parent_id": {"type": "integer", "nullable": True},
            },
        },
        "OwnComment": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "parent_id": {"type": "integer", "nullable": True},
                "body": {"type": "string"},
                "state": {
                    "type": "string",
                    "enum": ["published", "held", "rejected", "removed", "deleted"],
                },
                "created_at": {"type": "string", "format": "date-time"},
                "edited_at": {"type": "string", "format": "date-time", "nullable": True},
                "reasons": {"type": "array", "items": {"type": "string"}},
                "decision_reason": {"type": "string", "nullable": True},
                "decision_note": {"type": "string", "nullable": True},
                "message": {"type": "string", "description": "with 202: it awaits review"},
            },
        },
        "ReportIn": {
            "type": "object",
            "required": ["reason"],
            "properties": {
                "reason": {
                    "type": "string",
                    "enum": [
                        "beledigend",
                        "racisme",
                        "bedreiging",
                        "spam",
                        "persoonsgegevens",
                        "off-topic",
                        "illegaal",
                        "andere",
                    ],
                },
                "note": {"type": "string", "maxLength": 500},
            },
        },
        "Report": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "comment_id": {"type": "integer"},
                "reason": {"type": "string"},
                "outcome": {"type": "string", "enum": ["pending", "upheld", "dismissed"]},
                "created_at": {"type": "string", "format": "date-time"},
                "resolved_at": {"type": "string", "format": "date-time", "nullable": True},
            },
        },
        "AppealIn": {
            "type": "object",
            "required": ["body"],
            "properties": {"body": {"type": "string", "minLength": 5, "maxLength": 1000}},
        },
    }
)


def _body(schema: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


PATHS.update(
    {
        "/api/v1/articles/{article_id}/comments": {
            "get": {
                "summary": "Published comments with nested replies, a page of threads at a time",
                "parameters": [
                    ARTICLE_ID,
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                    {
                        "name": "sort",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["newest", "oldest"]},
                    },
                ],
                "responses": {
                    "200": _json("ThreadPage", "One page of threads"),
                    "404": _error("Unknown article"),
                    "422": _error("Malformed id or parameters"),
                },
            },
            "post": {
                "summary": "Post a comment or reply (screened, then published, held or rejected)",
                "description": _COOKIE_WRITE,
                "parameters": [ARTICLE_ID],
                "requestBody": _body("CommentIn"),
                "responses": {
                    "201": _json("OwnComment", "Published"),
                    "202": _json("OwnComment", "Held for review"),
                    "400": _error("Body is not a JSON object"),
                    "401": _error("login_required"),
                    "403": _error("banned (details.banned_until) or origin_mismatch"),
                    "404": _error("Unknown article or parent"),
                    "409": _error("comments_closed or parent_not_visible"),
                    "415": _error("Not application/json"),
                    "422": _error(
                        "comment_rejected (stored; details.comment_id and details.reasons) "
                        "or body_too_short / body_too_long"
                    ),
                    "429": _error("too_fast (details.retry_after)"),
                },
            },
        },
        "/api/v1/comments/{comment_id}": {
            "patch": {
                "summary": "Edit one's own comment within the edit window (screened again)",
                "description": _COOKIE_WRITE,
                "parameters": [COMMENT_ID],
                "requestBody": _body("CommentIn"),
                "responses": {
                    "200": _json("OwnComment", "Edited"),
                    "202": _json("OwnComment", "Edited and now held for review"),
                    "401": _error("login_required"),
                    "403": _error("Not your comment"),
                    "404": _error("Unknown comment"),
                    "409": _error("edit_window_closed or not_editable"),
                    "415": _error("Not application/json"),
                    "422": _error("edit_rejected (the old text stays) or invalid body"),
                },
            },
            "delete": {
                "summary": "Delete one's own comment (replies stay)",
                "description": "Session cookie and this site's Origin; no body needed.",
                "parameters": [COMMENT_ID],
                "responses": {
                    "200": {"description": "Deleted"},
                    "401": _error("login_required"),
                    "403": _error("Not your comment"),
                    "404": _error("Unknown or already deleted"),
                    "409": _error("illegal_transition"),
                },
            },
        },
        "/api/v1/comments/{comment_id}/reports": {
            "post": {
                "summary": "Report a comment (once per reader)",
                "description": _COOKIE_WRITE,
                "parameters": [COMMENT_ID],
                "requestBody": _body("ReportIn"),
                "responses": {
                    "201": _json("Report", "Reported"),
                    "200": _json("Report", "Already reported by you: the same report"),
                    "401": _error("login_required"),
                    "404": _error("Unknown or not published"),
                    "409": _error("own_comment"),
                    "415": _error("Not application/json"),
                    "422": _error("invalid_reason or invalid_note"),
                },
            }
        },
        "/api/v1/comments/{comment_id}/appeal": {
            "post": {
                "summary": "Appeal a rejection or removal of one's own comment (once)",
                "description": _COOKIE_WRITE,
                "parameters": [COMMENT_ID],
                "requestBody": _body("AppealIn"),
                "responses": {
                    "201": {"description": "Appeal filed; it lands in the moderators' Bezwaren"},
                    "401": _error("login_required"),
                    "404": _error("Unknown comment or not yours"),
                    "409": _error("not_appealable or already_appealed"),
                    "422": _error("invalid_appeal"),
                },
            }
        },
        "/api/v1/me/comments": {
            "get": {
                "summary": "The caller's own comments with state and reasons (private)",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "Own comments",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "comments": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/OwnComment"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "401": _error("login_required"),
                },
            }
        },
        "/api/v1/me/reports": {
            "get": {
                "summary": "The caller's reports with their outcome (private)",
                "responses": {
                    "200": {
                        "description": "Own reports",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "reports": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Report"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "401": _error("login_required"),
                },
            }
        },
    }
)
