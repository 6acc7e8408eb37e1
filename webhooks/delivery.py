"""The outbox's deliverer for the webhook channel, and the delivery log of an endpoint.

One delivery: read the endpoint as it is now (its URL, whether it is on, the secrets that sign
now: a rotation's grace is judged at delivery), serialise the payload, sign it per Standard
Webhooks and POST it. 2xx is delivered; any other status, a timeout, a refused or private
address is a failed attempt that the outbox retries with backoff and gives up on (dead) after
TRIBUNE_OUTBOX_MAX_ATTEMPTS. The `webhook-id` is the message's delivery_id, the same on every
retry, so a receiver can drop a repeat.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import make_engine
from errors import NotFound
from models import MessageState, OutboxAttempt, OutboxMessage, WebhookEndpoint, utcnow
from outbox import Channel, DeliveryOutcome, register_deliverer, retry_message
from webhooks.signing import webhook_headers
from webhooks.transport import post


@dataclass(frozen=True)
class Target:
    """What a delivery needs of its endpoint, read at delivery time."""

    url: str
    enabled: bool
    secrets: list[str]


def body_of(payload: dict[str, Any]) -> bytes:
    """The JSON body exactly as signed and sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def load_target(session: Session, endpoint_id: int, now: datetime) -> Target | None:
    """The endpoint's URL, state and signing secrets now (None: it was deleted)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        return None
    return Target(endpoint.url, endpoint.enabled, endpoint.signing_secrets(now))


def _read_target(settings: Mapping[str, Any], endpoint_id: int, now: datetime) -> Target | None:
    # The outbox hands a deliverer the message (detached) and the settings, no session: one
    # short read on a connection of its own, closed at once (webhooks are not a hot path).
    engine = make_engine(settings["DATABASE_URL"])
    try:
        with Session(engine) as session:
            return load_target(session, endpoint_id, now)
    finally:
        engine.dispose()


def send(
    target: Target,
    delivery_id: str,
    payload: dict[str, Any],
    settings: Mapping[str, Any],
    timestamp: int | None = None,
) -> DeliveryOutcome:
    """Sign and POST one payload to a target; the outcome the outbox records."""
    if not target.enabled:
        return DeliveryOutcome(False, None, "endpoint_disabled")
    body = body_of(payload)
    stamp = int(time.time()) if timestamp is None else timestamp
    result = post(
        target.url,
        body,
        webhook_headers(target.secrets, delivery_id, stamp, body),
        timeout=float(settings["TRIBUNE_WEBHOOK_TIMEOUT_SECONDS"]),
        allow_private=bool(settings["TRIBUNE_WEBHOOK_ALLOW_PRIVATE"]),
    )
    if result.ok:
        return DeliveryOutcome(True, result.status_code, None)
    error = result.error or f"http_status: {result.status_code}"
    return DeliveryOutcome(False, result.status_code, error)


def deliver(message: OutboxMessage, settings: Mapping[str, Any]) -> DeliveryOutcome:
    """Deliver one webhook message (registered for Channel.WEBHOOK)."""
    if message.endpoint_id is None:
        return DeliveryOutcome(False, None, "endpoint_deleted")
    target = _read_target(settings, message.endpoint_id, utcnow())
    if target is None:
        return DeliveryOutcome(False, None, "endpoint_deleted")
    return send(target, message.delivery_id, message.payload, settings)


register_deliverer(Channel.WEBHOOK, deliver)


# ---------------------------------------------------------------- the delivery log

ERRORS_NL = {
    "timeout": "geen antwoord binnen de tijdslimiet",
    "connection_failed": "geen verbinding",
    "private_address": "intern adres geweigerd",
    "http_status": "antwoord zonder 2xx",
    "endpoint_disabled": "eindpunt stond uit",
    "endpoint_deleted": "eindpunt verwijderd",
}


def error_nl(error: str | None) -> str:
    """An attempt's error in Dutch: the label of its code, then the detail."""
    if not error:
        return ""
    code, _, detail = error.partition(": ")
    label = ERRORS_NL.get(code)
    if label is None:
        return error
    return f"{label} ({detail})" if detail else label


@dataclass(frozen=True)
class LogRow:
    """One attempt as the endpoint's page shows it."""

    message_id: int
    event: str
    attempted_at: datetime
    ok: bool
    status_code: int | None
    error_nl: str
    state_nl: str
    # The retry button sits on the latest attempt of a failed or dead message.
    retryable: bool


def delivery_log(session: Session, endpoint_id: int, limit: int) -> list[LogRow]:
    """The endpoint's last `limit` attempts, newest first."""
    rows = session.execute(
        select(OutboxAttempt, OutboxMessage)
        .join(OutboxMessage, OutboxMessage.id == OutboxAttempt.message_id)
        .where(
            OutboxMessage.channel == Channel.WEBHOOK,
            OutboxMessage.endpoint_id == endpoint_id,
        )
        .order_by(OutboxAttempt.attempted_at.desc(), OutboxAttempt.id.desc())
        .limit(limit)
    ).all()
    seen: set[int] = set()
    log = []
    for attempt, message in rows:
        latest = message.id not in seen
        seen.add(message.id)
        log.append(
            LogRow(
                message_id=message.id,
                event=message.kind,
                attempted_at=attempt.attempted_at,
                ok=attempt.ok,
                status_code=attempt.status_code,
                error_nl=error_nl(attempt.error),
                state_nl=message.state.label_nl,
                retryable=latest and message.state in (MessageState.FAILED, MessageState.DEAD),
            )
        )
    return log


def retry_delivery(session: Session, endpoint_id: int, message_id: int) -> OutboxMessage:
    """An admin's retry of one of this endpoint's failed or dead deliveries (due now)."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.endpoint_id != endpoint_id:
        raise NotFound("message_not_found", "Dit bericht bestaat niet (meer).")
    return retry_message(session, message_id)
