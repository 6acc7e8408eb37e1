"""What every Tribune form shares: Dutch validators, service refusals placed beside the field
they concern, and failed validation as the one error shape for JSON clients."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import Field, HiddenField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import get_translations
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from errors import DomainError, Invalid

FORM_INVALID_NL = "Niet alle velden zijn geldig."


def required(message: str = "Vul dit veld in.") -> DataRequired:
    """A field that must not be empty (renders `required`)."""
    return DataRequired(message)


def required_input(message: str = "Vul dit veld in.") -> InputRequired:
    """A field that must be typed in; for parsed fields, whose own error must not be replaced."""
    return InputRequired(message)


def optional() -> Optional:
    """An empty value skips the other validators."""
    return Optional()


def length(minimum: int = -1, maximum: int = -1, message: str | None = None) -> Length:
    """A length rule from the code's constants (renders `minlength`/`maxlength`)."""
    if message is None:
        if minimum > 0 and maximum > 0:
            message = f"Tussen {minimum} en {maximum} tekens."
        elif maximum > 0:
            message = f"Hoogstens {maximum} tekens."
        else:
            message = f"Minstens {minimum} tekens."
    return Length(min=minimum, max=maximum, message=message)


def number_range(minimum: int, maximum: int, message: str | None = None) -> NumberRange:
    """A number between two limits (renders `min`/`max`)."""
    return NumberRange(minimum, maximum, message or f"Kies {minimum} tot {maximum}.")


def choices_of(enum_type: Any, labels: dict[str, str] | None = None) -> list[SelectChoice]:
    """Select choices from an enum: the stored value and its Dutch label."""
    return [
        SelectChoice(member.value, labels[member.value] if labels else member.label_nl)
        for member in enum_type
    ]


def choices(pairs: dict[str, str]) -> list[SelectChoice]:
    """Select choices from a value → Dutch label mapping."""
    return [SelectChoice(value, label) for value, label in pairs.items()]


_DUTCH = get_translations(["nl"])


def json_formdata(body: object) -> ImmutableMultiDict[str, str]:
    """A JSON body as form data: a field gets text, as a browser would send it.

    Flask-WTF hands the JSON object over as it is, so `{"login": {}}` put a dict where a
    field expects text. Numbers become their text, `true` a ticked box, a list of scalars
    several values; objects, nulls, `false` and a body that is not an object give no value,
    so the field's own rule answers (in Dutch, beside it)."""
    if not isinstance(body, dict):
        return ImmutableMultiDict()
    pairs: list[tuple[str, str]] = []
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if item is True:
                pairs.append((name, "y"))
            elif isinstance(item, str | int | float) and not isinstance(item, bool):
                pairs.append((name, str(item)))
    return ImmutableMultiDict(pairs)


class TribuneForm(FlaskForm):
    """A FlaskForm that can take a service's refusal and answer JSON clients in one shape."""

    class Meta:
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto and _is_submitted() and not request.form and request.is_json:
                return json_formdata(request.get_json(silent=True))
            return super().wrap_formdata(form, formdata)  # type: ignore[misc]

        def get_translations(self, form: Any) -> Any:
            # WTForms' own Dutch messages for the rules our validators leave to it (an invalid
            # choice, a number that is not one); ours are written out in Dutch.
            return _DUTCH

    # The stable error code a JSON client gets when this field fails validation.
    error_codes: ClassVar[dict[str, str]] = {}
    # Where a service's error about something that is not one field is shown (a poll's
    # "options" beside its first answer).
    error_places: ClassVar[dict[str, str]] = {}
    # Where a refusal that names no field is shown (a comment's flood limit: beside its text);
    # None: above the form.
    refusal_field: ClassVar[str | None] = None

    def refuse(self, error: DomainError) -> None:
        """Show a service's refusal beside the field it names, else above the form."""
        details = error.details or {}
        fields: dict[str, str] = dict(details.get("fields") or {})
        if not fields and details.get("field"):
            fields[details["field"]] = error.message
        if not fields:
            # A code this form knows belongs to one of its fields.
            owner = {code: name for name, code in self.error_codes.items()}.get(error.code)
            if owner:
                fields[owner] = error.message
            elif self.refusal_field:
                fields[self.refusal_field] = error.message
        placed = False
        for name, message in fields.items():
            field: Field | None = self._fields.get(self.error_places.get(name, name))
            if field is not None and name != "csrf_token":
                if message not in field.errors:  # the form's own failure comes back once
                    field.errors = [*field.errors, message]
                placed = True
        if not placed and error.message not in self.form_errors:
            self.form_errors.append(error.message)

    def field_errors(self) -> dict[str, str]:
        """The first error of every failing field."""
        return {name: messages[0] for name, messages in self.errors.items() if name and messages}

    def invalid(self) -> Invalid:
        """Failed validation as a DomainError: the first failing field's code, every field's
        message in details (for JSON clients of the same route)."""
        fields = self.field_errors()
        first = next(iter(fields), None)
        code = self.error_codes.get(first or "", "validation_failed")
        message = fields[first] if first and first in self.error_codes else FORM_INVALID_NL
        return Invalid(code, message, details={"fields": fields})


class ButtonForm(TribuneForm):
    """A form that is only a button (log out, delete, one-click decisions): CSRF comes from it."""


class ConfirmForm(TribuneForm):
    """The second step of a destructive button: only a POST carrying bevestigd=ja (sent by the
    confirm page's button) acts; a bare one-click POST gets the confirm page instead."""

    bevestigd = HiddenField()

    def confirmed(self) -> bool:
        """Whether this POST is the confirm page's "yes" (CSRF checked as well)."""
        return bool(self.validate()) and self.bevestigd.data == "ja"
