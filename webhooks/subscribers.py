"""Domain events → one webhook message per enabled endpoint that subscribed to the event.

Runs inside the publishing transaction (events.publish): the messages commit or roll back
with what happened. With no endpoint for an event this is a cached look-up and nothing else.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from events import DomainEvent, subscribe
from outbox import enqueue_webhook
from webhooks.cache import endpoint_cache
from webhooks.endpoints import WEBHOOK_EVENTS
from webhooks.payloads import event_data, webhook_payload


def fan_out(session: Session, event: DomainEvent) -> None:
    """Enqueue `event` for every enabled endpoint subscribed to it."""
    endpoint_ids = endpoint_cache.subscribers(session, event.name)
    if not endpoint_ids:
        return
    payload = webhook_payload(
        event.name, event.occurred_at, event_data(session, event.name, event.data)
    )
    for endpoint_id in endpoint_ids:
        enqueue_webhook(session, endpoint_id=endpoint_id, event=event.name, payload=payload)


for _name in WEBHOOK_EVENTS:
    subscribe(_name)(fan_out)
