"""One call to the scoring service: the Perspective request, a strict deadline, the answer parsed
by a pydantic model. Any error, timeout, non-200 status or malformed answer is a ScorerFailure.

The standard library's http.client does the call (as the webhook transport does), under one
deadline of TRIBUNE_SCORER_TIMEOUT_MS: the connect, the send, the wait for the answer and its read
each get what is left of it, and an answer complete only after the deadline counts as a timeout.
The URL is the operator's own setting, so a service on a private address is allowed (no SSRF
guard).
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config import SettingError

# The attributes Tribune asks for, in Perspective's names.
ATTRIBUTES = (
    "TOXICITY",
    "SEVERE_TOXICITY",
    "IDENTITY_ATTACK",
    "INSULT",
    "THREAT",
    "PROFANITY",
)
LANGUAGES = ("nl",)
ANSWER_MAX = 64 * 1024  # bytes of an answer read at most; a longer one is malformed
ERROR_MAX = 300


class ScorerFailure(Exception):
    """The service gave no usable scores: `kind` is timeout, connection, status or malformed."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}"[:ERROR_MAX] if detail else kind)
        self.kind = kind


class SummaryScore(BaseModel):
    value: float = Field(ge=0.0, le=1.0)


class AttributeScore(BaseModel):
    summaryScore: SummaryScore  # noqa: N815 (Perspective's field name)


class ScorerAnswer(BaseModel):
    """The part of a Perspective answer Tribune reads: attributeScores.*.summaryScore.value."""

    model_config = ConfigDict(extra="ignore")

    attributeScores: dict[str, AttributeScore]  # noqa: N815 (Perspective's field name)

    def scores(self) -> dict[str, float]:
        """The requested attributes the answer scored (others are ignored)."""
        return {
            name: score.summaryScore.value
            for name, score in self.attributeScores.items()
            if name in ATTRIBUTES
        }


def request_body(text: str) -> dict[str, Any]:
    """The Perspective request for one comment (never stored by the service: doNotStore)."""
    return {
        "comment": {"text": text},
        "languages": list(LANGUAGES),
        "requestedAttributes": {name: {} for name in ATTRIBUTES},
        "doNotStore": True,
    }


def parse_answer(raw: bytes) -> dict[str, float]:
    """The scores of an answer; ScorerFailure("malformed") for anything else, or no score."""
    try:
        answer = ScorerAnswer.model_validate_json(raw)
    except ValidationError as error:
        raise ScorerFailure("malformed", str(error).splitlines()[0]) from None
    scores = answer.scores()
    if not scores:
        raise ScorerFailure("malformed", "no requested attribute was scored")
    return scores


@dataclass(frozen=True)
class ScorerTarget:
    """Where and how long: the service's URL, its key, the deadline of one call."""

    url: str
    key: str | None
    timeout_seconds: float

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ScorerTarget | None:
        """The configured service, or None when TRIBUNE_SCORER_URL is not set."""
        url = settings["TRIBUNE_SCORER_URL"]
        if not url:
            return None
        timeout = settings["TRIBUNE_SCORER_TIMEOUT_MS"] / 1000
        return cls(url, settings["TRIBUNE_SCORER_KEY"], timeout)


def check_settings(settings: Mapping[str, Any]) -> None:
    """Refuse scorer settings the worker cannot use (SettingError at startup)."""
    url = settings["TRIBUNE_SCORER_URL"]
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingError(f"TRIBUNE_SCORER_URL must be an http(s) URL, not {url!r}")
    if settings["TRIBUNE_SCORER_TIMEOUT_MS"] < 1:
        raise SettingError("TRIBUNE_SCORER_TIMEOUT_MS must be 1 or more")
    if settings["TRIBUNE_SCORER_BREAKER_FAILURES"] < 1:
        raise SettingError("TRIBUNE_SCORER_BREAKER_FAILURES must be 1 or more")
    for key in (
        "TRIBUNE_SCORER_BREAKER_COOLDOWN_SECONDS",
        "TRIBUNE_SCORER_BACKOFF_SECONDS",
        "TRIBUNE_SCORER_MAX_BACKOFF_SECONDS",
        "TRIBUNE_SCORER_MAX_AGE_SECONDS",
    ):
        if settings[key] < 0:
            raise SettingError(f"{key} must be 0 or more")


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self.ends - time.monotonic()
        if remaining <= 0:
            raise ScorerFailure("timeout", "no answer within the deadline")
        return remaining


def _path(target: ScorerTarget) -> str:
    parts = urlsplit(target.url)
    path = parts.path or "/"
    query = parts.query
    if target.key:
        query = f"{query}&key={quote(target.key)}" if query else f"key={quote(target.key)}"
    return f"{path}?{query}" if query else path


def score_text(target: ScorerTarget, text: str) -> dict[str, float]:
    """Ask the service for one comment's scores within the deadline, or raise ScorerFailure."""
    parts = urlsplit(target.url)
    deadline = _Deadline(target.timeout_seconds)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=target.timeout_seconds)
    body = json.dumps(request_body(text), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
    try:
        connection.connect()
        sock = connection.sock  # kept: the response reads from it after the connection lets go
        sock.settimeout(deadline.left())
        connection.request("POST", _path(target), body, headers)
        sock.settimeout(deadline.left())
        response = connection.getresponse()
        sock.settimeout(deadline.left())
        raw = response.read(ANSWER_MAX + 1)
        deadline.left()  # an answer that came in too late is a timeout all the same
    except ScorerFailure:
        raise
    except TimeoutError:
        raise ScorerFailure("timeout", "no answer within the deadline") from None
    except (OSError, http.client.HTTPException) as error:
        raise ScorerFailure("connection", f"{type(error).__name__}: {error}") from None
    finally:
        connection.close()
    if response.status != 200:
        raise ScorerFailure("status", f"HTTP {response.status}")
    if len(raw) > ANSWER_MAX:
        raise ScorerFailure("malformed", "answer too long")
    return parse_answer(raw)
