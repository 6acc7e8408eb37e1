"""Notifications to fans and staff: per-kind choices, mails and daily digests from domain events,
the moderation queue's alarm.

preferences: the choices, their defaults, addresses and unsubscribe links (no outbox needed);
notices: what each notification says; delivery: a mail now or a digest line; subscribers: the
domain events they follow; digest and alerts: the worker's periodic jobs.
"""

from notifications.preferences import address_verified, notification_address

__all__ = ["address_verified", "notification_address"]
