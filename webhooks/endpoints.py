"""Webhook endpoints: register, change, switch on and off, rotate the secret, delete, test.

Services in the house style: they take the session and the acting user, flush, never commit.
The URL rules (`UrlPolicy`) come from the settings, handed in by the view.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from errors import Conflict, Invalid
from lookups import get_or_404
from models import User, utcnow
from models.webhooks import DESCRIPTION_MAX, URL_MAX, WebhookEndpoint
from outbox import enqueue_webhook
from webhooks.cache import endpoint_cache
from webhooks.payloads import webhook_payload
from webhooks.signing import new_secret
from webhooks.transport import is_public

# The events an endpoint may subscribe to, in the order the page lists them, with what each
# means to an admin. `webhook.test` is not among them: it goes only to the endpoint whose
# "send a test event" button was pressed.
WEBHOOK_EVENTS: dict[str, str] = {
    "comment.created": "nieuwe reactie (gepubliceerd of vastgehouden)",
    "comment.state_changed": "reactie van toestand veranderd (goedgekeurd, afgewezen, …)",
    "report.created": "reactie gemeld",
    "appeal.created": "bezwaar ingediend",
    "poll.closed": "peiling gesloten",
    "queue.alert": "wachtrij-alarm (te lang of te veel wachtende reacties)",
}
TEST_EVENT = "webhook.test"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
RECIPIENT_MAX = 500  # outbox_messages.recipient


def shown_url(url: str) -> str:
    """The endpoint's URL as the outbox's delivery list shows a message's recipient (the
    delivery itself always uses the endpoint's current URL)."""
    return url if len(url) <= RECIPIENT_MAX else url[: RECIPIENT_MAX - 1] + "…"


@dataclass(frozen=True)
class UrlPolicy:
    """Which URLs may be registered (TRIBUNE_WEBHOOK_ALLOW_HTTP, _ALLOW_PRIVATE)."""

    allow_http: bool = False
    allow_private: bool = False

    @classmethod
    def from_config(cls, config: Any) -> UrlPolicy:
        return cls(
            allow_http=bool(config["TRIBUNE_WEBHOOK_ALLOW_HTTP"]),
            allow_private=bool(config["TRIBUNE_WEBHOOK_ALLOW_PRIVATE"]),
        )


def _url_error(message: str) -> Invalid:
    return Invalid("invalid_webhook_url", message, details={"field": "url"})


def check_url(raw: str, policy: UrlPolicy) -> str:
    """The URL as it will be stored, or Invalid beside the URL field.

    https always; http only for localhost/127.0.0.1/::1 or when TRIBUNE_WEBHOOK_ALLOW_HTTP is
    on (a signature proves who sent a delivery, not that nobody read it on the way). No user
    or password in the URL (it is shown on the page), no fragment. A host that is a private
    address, or `localhost`, is refused unless TRIBUNE_WEBHOOK_ALLOW_PRIVATE is on: delivery
    would refuse it anyway (a name's addresses are checked again at every delivery)."""
    url = raw.strip()
    if not url:
        raise _url_error("Vul de URL van het eindpunt in.")
    if len(url) > URL_MAX:
        raise _url_error(f"Hoogstens {URL_MAX} tekens.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise _url_error("Dit is geen geldige URL.") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise _url_error("Geef een volledige URL die begint met https://.")
    if parts.username is not None or parts.password is not None:
        raise _url_error("Zet geen gebruikersnaam of wachtwoord in de URL.")
    if parts.fragment:
        raise _url_error("Een URL met # kan niet.")
    private = host in LOCAL_HOSTS or host.endswith(".localhost") or _private_literal(host)
    if private and not policy.allow_private:
        raise _url_error(
            "Dit is een intern adres. Webhooks gaan enkel naar publieke adressen "
            "(TRIBUNE_WEBHOOK_ALLOW_PRIVATE staat uit)."
        )
    if scheme == "http" and host not in LOCAL_HOSTS and not policy.allow_http:
        raise _url_error("Gebruik https:// (http:// enkel voor localhost).")
    return url


def _private_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return not is_public(host)


def check_events(names: Sequence[str]) -> list[str]:
    """The chosen events in catalogue order; an unknown one or none at all is refused."""
    unknown = [name for name in names if name not in WEBHOOK_EVENTS]
    if unknown:
        raise Invalid("invalid_webhook_events", "Kies uit de lijst.", details={"field": "events"})
    if not names:
        raise Invalid(
            "invalid_webhook_events", "Kies minstens één gebeurtenis.", details={"field": "events"}
        )
    return [name for name in WEBHOOK_EVENTS if name in names]


def _check_description(raw: str | None) -> str:
    description = (raw or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            "invalid_webhook_description",
            f"Hoogstens {DESCRIPTION_MAX} tekens.",
            details={"field": "description"},
        )
    return description


def _changed(session: Session) -> None:
    """Subscribers see the change at once in this process, and again when the transaction ends
    (a reader between this flush and the commit or rollback may have cached a list that is no
    longer true)."""
    endpoint_cache.invalidate(session)
    sa_event.listen(session, "after_commit", endpoint_cache.invalidate, once=True)
    sa_event.listen(session, "after_rollback", endpoint_cache.invalidate, once=True)


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    """Every endpoint, newest first."""
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())))


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    """One endpoint, or the 404."""
    return get_or_404(
        session,
        WebhookEndpoint,
        endpoint_id,
        "webhook_not_found",
        "Dit webhook-eindpunt bestaat niet (meer).",
    )


def create_endpoint(
    session: Session,
    actor: User,
    url: str,
    description: str | None,
    events: Sequence[str],
    policy: UrlPolicy,
    enabled: bool = True,
) -> WebhookEndpoint:
    """Register an endpoint with a fresh secret (the caller shows `endpoint.secret` once)."""
    endpoint = WebhookEndpoint(
        url=check_url(url, policy),
        description=_check_description(description),
        events=check_events(events),
        enabled=enabled,
        secret=new_secret(),
        created_by_id=actor.id,
    )
    session.add(endpoint)
    session.flush()
    _changed(session)
    return endpoint


def update_endpoint(
    session: Session,
    endpoint_id: int,
    url: str,
    description: str | None,
    events: Sequence[str],
    policy: UrlPolicy,
    enabled: bool,
) -> WebhookEndpoint:
    """Change an endpoint's URL, description, events and whether it is on."""
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.url = check_url(url, policy)
    endpoint.description = _check_description(description)
    endpoint.events = check_events(events)
    endpoint.enabled = enabled
    session.flush()
    _changed(session)
    return endpoint


def set_enabled(session: Session, endpoint_id: int, enabled: bool) -> WebhookEndpoint:
    """Switch an endpoint on or off (off: no new deliveries; queued ones wait and are retried
    until it is on again or they are dead)."""
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.enabled = enabled
    session.flush()
    _changed(session)
    return endpoint


def rotate_secret(
    session: Session, endpoint_id: int, grace: timedelta, now: datetime | None = None
) -> WebhookEndpoint:
    """A new secret; the current one keeps signing beside it for `grace` (the caller shows the
    new `endpoint.secret` once). Rotating again within the grace ends the oldest secret."""
    endpoint = get_endpoint(session, endpoint_id)
    now = now or utcnow()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_expires_at = now + grace
    endpoint.secret = new_secret()
    endpoint.rotated_at = now
    session.flush()
    return endpoint


def delete_endpoint(session: Session, endpoint_id: int) -> None:
    """Delete an endpoint; its queued deliveries fail as `endpoint_deleted` and go dead."""
    session.delete(get_endpoint(session, endpoint_id))
    session.flush()
    _changed(session)


def send_test(session: Session, endpoint_id: int, now: datetime | None = None) -> None:
    """Queue a `webhook.test` delivery to one endpoint (switched on: an endpoint that is off
    delivers nothing)."""
    endpoint = get_endpoint(session, endpoint_id)
    if not endpoint.enabled:
        raise Conflict(
            "webhook_disabled", "Dit eindpunt staat uit. Zet het eerst aan om te testen."
        )
    payload = webhook_payload(
        TEST_EVENT,
        now or utcnow(),
        {"endpoint_id": endpoint.id, "message": "Testbericht van Tribune."},
    )
    enqueue_webhook(
        session,
        endpoint_id=endpoint.id,
        event=TEST_EVENT,
        payload=payload,
        url=shown_url(endpoint.url),
    )
