"""Domain events → one webhook message per enabled endpoint that subscribed to the event.

Runs inside the publishing transaction (events.publish): the messages commit or roll back
with what happened. With no endpoint for an event this is a cached look-up and nothing else.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from events import DomainEvent, subscribe
from outbox import enqueue_webhook
from webhooks.cache import endpoint_cache
from webhooks.endpoints import WEBHOOK_EVENTS, shown_url
from webhooks.payloads import event_data, webhook_payload


def fan_out(session: Session, event: DomainEvent) -> None:
    """Enqueue `event` for every enabled endpoint subscribed to it."""
    subscribers = endpoint_cache.subscribers(session, event.name)
    if not subscribers:
        return
    payload = webhook_payload(
        event.name, event.occurred_at, event_data(session, event.name, event.data)
    )
    for subscriber in subscribers:
        enqueue_webhook(
            session,
            endpoint_id=subscriber.endpoint_id,
            event=event.name,
            payload=payload,
            url=shown_url(subscriber.url),
        )


for _name in WEBHOOK_EVENTS:
    subscribe(_name)(fan_out)
