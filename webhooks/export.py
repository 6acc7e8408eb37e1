"""The webhook endpoints an admin registered, in that admin's GDPR export (never a secret)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User, WebhookEndpoint
from privacy.export import register_section


@register_section("webhooks_created", covers={("webhook_endpoints", "created_by_id"): "endpoints"})
def export_webhooks_created(session: Session, user: User) -> dict[str, Any]:
    """Staff work: the endpoints this account registered, with their URL and events."""
    endpoints = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.created_by_id == user.id)
        .order_by(WebhookEndpoint.id)
    )
    return {
        "endpoints": [
            {
                "id": endpoint.id,
                "url": endpoint.url,
                "description": endpoint.description,
                "events": list(endpoint.events),
                "enabled": endpoint.enabled,
                "created_at": endpoint.created_at.isoformat(),
            }
            for endpoint in endpoints
        ]
    }
