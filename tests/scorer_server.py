"""A Perspective-compatible scoring service for the tests (and a manual demo), on 127.0.0.1.

POST …/comments:analyze with {"comment": {"text"}, "requestedAttributes": {…}} answers
{"attributeScores": {ATTR: {"summaryScore": {"value": …}}}} from a deterministic keyword model:
each attribute's score is the highest of its words found in the text (else 0.02). `mode` makes it
misbehave: "slow" (waits `slow_seconds` before answering), "error" (500), "malformed" (JSON that
is not an answer), "garbage" (not JSON); `stop()` takes it down (connection refused) and
`start()` brings it back on the same port. Every request is counted and kept.

    python -m tests.scorer_server [PORT]   # then TRIBUNE_SCORER_URL=http://127.0.0.1:PORT/v1alpha1/comments:analyze
"""

from __future__ import annotations

import json
import re
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PATH = "/v1alpha1/comments:analyze"
BASELINE = 0.02

# word → the scores it gives (the deterministic "model").
MODEL: dict[str, dict[str, float]] = {
    "kapotmaken": {"THREAT": 0.95, "TOXICITY": 0.7},
    "dreig": {"THREAT": 0.85},
    "idioot": {"INSULT": 0.93, "TOXICITY": 0.92},
    "sukkel": {"INSULT": 0.6, "TOXICITY": 0.5},
    "verdomme": {"PROFANITY": 0.9, "TOXICITY": 0.4},
    "buitenlanders": {"IDENTITY_ATTACK": 0.88, "TOXICITY": 0.75},
    "walgelijk": {"SEVERE_TOXICITY": 0.9, "TOXICITY": 0.95},
}


def model_scores(text: str, attributes: list[str]) -> dict[str, float]:
    """Each requested attribute's score for `text`."""
    words = set(re.findall(r"\w+", text.casefold()))
    scores = dict.fromkeys(attributes, BASELINE)
    for word, given in MODEL.items():
        if word in words:
            for name, value in given.items():
                if name in scores:
                    scores[name] = max(scores[name], value)
    return scores


@dataclass
class Call:
    """One request as the server got it."""

    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class ScorerServer:
    mode: str = "ok"
    slow_seconds: float = 2.0
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    _release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> ScorerServer:
        scorer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                scorer.calls.append(Call(parts.path, parse_qs(parts.query), body))
                if scorer.mode == "slow":
                    scorer._release.wait(scorer.slow_seconds)
                if scorer.mode == "error":
                    return self._answer(500, b'{"error": {"code": 500}}')
                if scorer.mode == "garbage":
                    return self._answer(200, b"<html>geen json</html>")
                if scorer.mode == "malformed":
                    return self._answer(200, b'{"attributeScores": {"TOXICITY": {"score": 1}}}')
                if parts.path != PATH or not isinstance(body, dict):
                    return self._answer(400, b'{"error": {"code": 400}}')
                text = str((body.get("comment") or {}).get("text", ""))
                requested = list((body.get("requestedAttributes") or {}).keys())
                answer = {
                    "attributeScores": {
                        name: {
                            "summaryScore": {"value": value, "type": "PROBABILITY"},
                            "spanScores": [],
                        }
                        for name, value in model_scores(text, requested).items()
                    },
                    "languages": body.get("languages", []),
                }
                return self._answer(200, json.dumps(answer).encode())

            def _answer(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (a timeout): nothing to tell it
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._release.clear()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Down: connections are refused until start()."""
        self._release.set()  # a slow answer still waiting ends now
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8089
    served = ScorerServer(port=port).start()
    print(f"TRIBUNE_SCORER_URL={served.url}  (Ctrl-C stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        served.stop()
