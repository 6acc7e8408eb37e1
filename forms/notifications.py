"""The notification settings form: one radio group per kind the account can choose."""

from __future__ import annotations

from typing import Any

from wtforms import RadioField

from forms.base import TribuneForm, choices, required
from models import Delivery, NotificationKind, User
from notifications.preferences import choices_for, kinds_for

CHOICE_NL = "Kies meteen, dagelijks overzicht of nooit."


def _field(kind: NotificationKind) -> RadioField:
    return RadioField(
        kind.label_nl,
        [required(CHOICE_NL)],
        choices=choices({delivery.value: delivery.label_nl for delivery in choices_for(kind)}),
    )


class NotificationSettingsForm(TribuneForm):
    """Per kind: meteen, dagelijks overzicht or nooit (the queue alarm: meteen or nooit)."""

    reply = _field(NotificationKind.REPLY)
    decision = _field(NotificationKind.DECISION)
    report = _field(NotificationKind.REPORT)
    appeal = _field(NotificationKind.APPEAL)
    suspension = _field(NotificationKind.SUSPENSION)
    queue_alert = _field(NotificationKind.QUEUE_ALERT)

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = kinds_for(user)
        for kind in NotificationKind:
            if kind not in self.kinds:
                delattr(self, kind.value)

    def chosen(self) -> dict[NotificationKind, Delivery]:
        """The validated choices."""
        return {kind: Delivery(self[kind.value].data) for kind in self.kinds}
