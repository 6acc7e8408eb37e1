"""The HTTP side of operations: request ids, one log line and the metrics of every request,
503 answers while the database or Redis is unreachable, and the /metrics guard."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import sys
import time
import uuid
from contextlib import suppress
from typing import Any

import psycopg
import redis
from flask import Flask, Response, current_app, g, has_request_context, request
from flask.logging import default_handler
from sqlalchemy import exc as sa_exc

from config import SettingError
from errors import DomainError, error_response
from ops import metrics

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy may hand us as a request id: nginx's $request_id (32 hex), a UUID, or similar
# tokens; anything else (too long, spaces, control characters) gets a fresh id.
REQUEST_ID_FORM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# How long a client should wait after a 503 before it tries again.
RETRY_AFTER_SECONDS = 5
UNMATCHED = "<unmatched>"  # the route label of a request no URL rule matched (404s)

request_log = logging.getLogger("tribune.requests")

# What "unreachable" means: the driver could not connect or lost the connection (psycopg's
# OperationalError, SQLite's "database is locked" beyond the busy timeout), the pool had no
# connection in time, Redis refused or timed out. The vote's statement runs on the driver's
# own connection (writes/votes_postgres.py), so psycopg's errors arrive unwrapped too: behind
# PgBouncer during a PostgreSQL restart, "server login has been failing" (a ProtocolViolation,
# an OperationalError) and then "the connection is lost" (bench/scaleout.py found them as 500s).
DATABASE_FAULTS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
REDIS_FAULTS: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)


def init_app(app: Flask) -> None:
    """Register the request hooks and fault handlers (call before the other after_request
    hooks, so the duration covers them)."""
    _configure_request_log()
    _configure_app_log(app)
    sessionmaker = app.extensions["tribune.sessionmaker"]
    metrics.listen(sessionmaker)
    metrics.watch_pool(app.extensions["tribune.engine"])
    app.extensions["tribune.metrics_scrape"] = metrics.ScrapeCollector(sessionmaker)
    app.extensions["tribune.metrics_networks"] = metrics_networks(
        app.config["TRIBUNE_METRICS_NETWORKS"]
    )
    app.before_request(_start)
    app.after_request(_finish)
    for fault in (*DATABASE_FAULTS, *REDIS_FAULTS):
        app.register_error_handler(fault, _unavailable)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment (a handler lives as long as the process;
    the stream may be swapped, by gunicorn's log setup or a test's capture)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class JsonLogFormatter(logging.Formatter):
    """The app's own log records (warnings, errors) as one JSON object per line, with the
    request id when there is a request; a traceback stays one field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _COMPACT_JSON.encode(entry)


def _configure_app_log(app: Flask) -> None:
    """In json mode the app's logger writes JSON lines too (instead of Flask's default text
    handler); a logger the operator configured is left alone."""
    if app.config["TRIBUNE_LOG_FORMAT"] != "json":
        return
    if app.logger.handlers and app.logger.handlers != [default_handler]:
        return
    app.logger.removeHandler(default_handler)
    handler = StderrHandler()
    handler.setFormatter(JsonLogFormatter())
    app.logger.addHandler(handler)


def _configure_request_log() -> None:
    """tribune.requests logs at INFO to stderr, the message only (it is formatted already);
    once per process, and not over a level or handler the operator set."""
    if request_log.level == logging.NOTSET:
        request_log.setLevel(logging.INFO)
    if not any(isinstance(handler, StderrHandler) for handler in request_log.handlers):
        handler = StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        request_log.addHandler(handler)
        request_log.propagate = False


# ---------------------------------------------------------------- each request


def request_id() -> str:
    """This request's id: the proxy's X-Request-ID when proxies are trusted and it is
    well-formed, else a new one."""
    found: str | None = g.get("request_id")
    if found is None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        trusted = current_app.config["TRIBUNE_TRUSTED_PROXIES"] > 0
        found = given if trusted and REQUEST_ID_FORM.fullmatch(given) else uuid.uuid4().hex
        g.request_id = found
    return found


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    route, method, status = _route(), request.method, response.status_code
    metrics.observe_request(route, method, status, duration)
    identifier = request_id()
    response.headers[REQUEST_ID_HEADER] = identifier
    if request_log.isEnabledFor(logging.INFO):
        request_log.info(
            log_line(
                current_app.config["TRIBUNE_LOG_FORMAT"],
                request_id=identifier,
                method=method,
                route=route,
                status=status,
                duration_ms=round(duration * 1000, 2),
            )
        )
    return response


_stamp: tuple[int, str] = (0, "")
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))  # built once, not per line


def _utc_second() -> str:
    """The current UTC second, formatted once per second."""
    global _stamp
    second = int(time.time())
    if _stamp[0] != second:
        _stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return _stamp[1]


def log_line(form: str, **fields: Any) -> str:
    """One request's line: JSON (one object) or text (key=value). It carries no personal
    data: no address, no e-mail, no body, no query string, not even the path (the route is
    the URL rule, `/artikels/<article_id>`, never a fan's own values)."""
    stamped = {"time": _utc_second(), **fields}
    if form == "json":
        return _COMPACT_JSON.encode({"event": "request", **stamped})
    return " ".join(f"{key}={value}" for key, value in stamped.items())


# ---------------------------------------------------------------- faults


def _unavailable(error: Exception) -> tuple[Response | str, int, dict[str, str]]:
    """503 with Retry-After while the database or Redis is unreachable; the next request tries
    again (the pool pre-pings, the Redis client reconnects): nothing to restart."""
    part = "redis" if isinstance(error, REDIS_FAULTS) else "database"
    if part == "redis":
        metrics.count_redis_error(error, "request")
    session = g.get("db_session")
    if session is not None:
        with suppress(Exception):  # the connection may be gone with the server
            session.rollback()
    current_app.logger.warning(
        "%s unreachable on %s %s: %s", part, request.method, _route(), type(error).__name__
    )
    response, status = error_response(
        503,
        "service_unavailable",
        "Tribune is even niet bereikbaar. Probeer het over enkele seconden opnieuw.",
    )
    return response, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


# ---------------------------------------------------------------- /metrics guard


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def metrics_networks(raw: str) -> tuple[Network, ...]:
    """TRIBUNE_METRICS_NETWORKS parsed: CIDRs (or addresses) separated by commas or spaces."""
    networks = []
    for item in raw.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingError(
                f"TRIBUNE_METRICS_NETWORKS: {item!r} is no network (like 10.0.0.0/8 or ::1)"
            ) from None
    return tuple(networks)


def check_metrics_access() -> None:
    """Only the configured networks (the client address as ProxyFix gives it) or a bearer
    token equal to TRIBUNE_METRICS_TOKEN may read the metrics; others get 403."""
    token = current_app.config["TRIBUNE_METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    bearer = given[len("Bearer ") :] if given.startswith("Bearer ") else ""
    if token and bearer and hmac.compare_digest(bearer.encode(), token.encode()):
        return
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        address = None
    networks = current_app.extensions["tribune.metrics_networks"]
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if any(address in network for network in networks):
            return
    raise DomainError("forbidden", "Je hebt geen toegang tot deze pagina.", 403)
