"""Forms of /beheer/webhooks: an endpoint (URL, description, events, on/off) and the on/off
button; the other one-button actions (rotate, test, retry, delete) use forms.base's ButtonForm
and ConfirmForm."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from forms.base import TribuneForm, choices, length, optional, required
from models.webhooks import DESCRIPTION_MAX, URL_MAX
from webhooks.endpoints import WEBHOOK_EVENTS


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        # The service names an unknown event beside the field, in Dutch.
        return None


class WebhookForm(TribuneForm):
    """An endpoint: where to, what for, which events, on or off."""

    error_codes = {
        "url": "invalid_webhook_url",
        "description": "invalid_webhook_description",
        "events": "invalid_webhook_events",
    }

    url = StringField(
        "URL (https://…)",
        [required("Vul de URL van het eindpunt in."), length(maximum=URL_MAX)],
    )
    description = StringField("Omschrijving", [optional(), length(maximum=DESCRIPTION_MAX)])
    events = CheckboxesField(
        "Gebeurtenissen",
        choices=choices({name: f"{name}: {label}" for name, label in WEBHOOK_EVENTS.items()}),
    )
    enabled = BooleanField("Actief (stuurt gebeurtenissen)", default=True)


class SwitchForm(TribuneForm):
    """Switch an endpoint on ("1") or off ("0"); `terug=lijst` returns to the list."""

    aan = HiddenField()
    terug = HiddenField()
