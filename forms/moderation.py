"""Forms of the moderators' pages: decisions on comments, appeals, suspensions, notes, bulk
actions and word-list changes. Choices come from the enums, limits from the services."""

from __future__ import annotations

from typing import Any

from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice

from forms.base import TribuneForm, choices, choices_of, length, optional, required
from models import LexiconAction
from moderation.actions import NOTE_MAX, SUSPENSIONS
from moderation.runtime import LIST_NAMES, WORD_MAX, WORD_MIN
from reasons import ReasonCode

REASON_NL = "Kies een geldige reden."
DURATION_NL = {"24h": "24 uur", "7d": "7 dagen", "30d": "30 dagen", "permanent": "permanent"}
LEXICON_ACTION_NL = {
    "add": "Woord toevoegen aan een lijst",
    "remove": "Meegeleverd woord uitschakelen",
    "allow": "Woord altijd toestaan",
    "allow_domain": "Linkdomein toestaan",
}
assert set(DURATION_NL) == {*SUSPENSIONS, "permanent"}


def _reason_field(label: str = "Reden") -> SelectField:
    # Checked by validate_reason where a reason is needed; an approve sends none.
    return SelectField(label, choices=choices_of(ReasonCode), validate_choice=False)


def _note_field(label: str = "Toelichting") -> StringField:
    return StringField(label, [optional(), length(maximum=NOTE_MAX)])


def _valid_reason(field: Field) -> None:
    if field.data not in {code.value for code in ReasonCode}:
        raise ValidationError(REASON_NL)


class ModeratorForm(TribuneForm):
    """Every moderator form carries where to go back to (a /moderatie/ path)."""

    error_codes = {"reason": "invalid_reason", "note": "invalid_note"}

    back = HiddenField()


class DecisionForm(ModeratorForm):
    """A one-click decision (approve, dismiss the reports)."""


class NoteDecisionForm(ModeratorForm):
    """A decision with an optional note (restore, lift a suspension)."""

    note = _note_field()


class ReasonDecisionForm(ModeratorForm):
    """Reject or remove: a reason from the list, an optional note for the author."""

    # Numbered: in the queue the digit keys pick the reason (static/moderator.js).
    reason = SelectField(
        "Reden",
        choices=[
            SelectChoice(code.value, f"{number} · {code.label_nl}")
            for number, code in enumerate(ReasonCode, start=1)
        ],
        validate_choice=False,  # the service refuses a bad one, listing the allowed codes
    )
    note = _note_field()


class AppealDecisionForm(ModeratorForm):
    """Uphold or deny an appeal (the button pressed says which)."""

    error_codes = {"decision": "invalid_decision", "note": "invalid_note"}

    note = _note_field("Motivering")
    decision = SelectField(
        "Beslissing",
        # The buttons say what happens to the comment, not only to the appeal.
        choices=choices(
            {
                "uphold": "Bezwaar toekennen: reactie terug online",
                "deny": "Bezwaar afwijzen: reactie blijft weg",
            }
        ),
        invalid_choice_message="Kies bezwaar toekennen of afwijzen.",
    )


class BanForm(ModeratorForm):
    """Suspend an author; from a queue item, `comment_id` says which page to come back to."""

    error_codes = {"duration": "invalid_duration", **ModeratorForm.error_codes}

    comment_id = HiddenField()
    duration = SelectField(
        "Duur",
        choices=choices(DURATION_NL),
        invalid_choice_message="Kies 24h, 7d, 30d of permanent.",
    )
    reason = _reason_field()
    note = _note_field()
    reject_held = BooleanField("Ook alle wachtende reacties van deze auteur afwijzen")

    def validate_reason(self, field: Field) -> None:
        _valid_reason(field)


class UserNoteForm(ModeratorForm):
    """A note about a user, for the other moderators."""

    error_codes = {"body": "invalid_note"}

    comment_id = HiddenField()
    body = TextAreaField(
        "Nieuwe notitie",
        [required("Een notitie mag niet leeg zijn."), length(maximum=NOTE_MAX)],
    )


class BulkForm(ModeratorForm):
    """Approve or reject the selected queue items."""

    # Declared in the order the checks answer: nothing selected, then the action, the reason.
    error_codes = {
        "ids": "nothing_selected",
        "action": "invalid_action",
        **ModeratorForm.error_codes,
    }

    ids = SelectMultipleField(
        "Geselecteerde reacties",
        [required("Selecteer eerst reacties (x).")],
        coerce=int,
        validate_choice=False,
    )
    action = SelectField(
        "Actie",
        choices=choices({"approve": "Goedkeuren", "reject": "Afwijzen"}),
        invalid_choice_message="Kies goedkeuren of afwijzen.",
    )
    reason = _reason_field()
    note = _note_field()

    def validate_ids(self, field: Field) -> None:
        if any(not isinstance(i, int) or i <= 0 for i in field.data or []):
            raise ValidationError("Selecteer eerst reacties (x).")

    def validate_reason(self, field: Field) -> None:
        if self.action.data == "reject":
            _valid_reason(field)


class WordForm(ModeratorForm):
    """A change to the word lists on top of the shipped ones."""

    error_codes = {"action": "invalid_action", "word": "invalid_word", "list": "invalid_list"}

    action = SelectField(
        "Wat",
        choices=choices_of(LexiconAction, LEXICON_ACTION_NL),
        invalid_choice_message="Kies toevoegen, uitzonderen of domein toestaan.",
    )
    word = StringField(
        "Woord, zin of domein",
        [
            required(f"Een woord of domein heeft {WORD_MIN} tot {WORD_MAX} tekens."),
            length(
                WORD_MIN, WORD_MAX, f"Een woord of domein heeft {WORD_MIN} tot {WORD_MAX} tekens."
            ),
        ],
    )
    list = SelectField(
        "Lijst (bij toevoegen)",
        choices=choices({name: name for name in LIST_NAMES}),
        default="hold",
        validate_choice=False,  # only an "add" needs a list; the service says which are valid
    )


def queue_forms(**failed: Any) -> dict[str, Any]:
    """Empty forms for a page of queue items (never filled from the request)."""
    return {
        "decision": DecisionForm(formdata=None),
        "reason": ReasonDecisionForm(formdata=None),
        "note_decision": NoteDecisionForm(formdata=None),
        "appeal": AppealDecisionForm(formdata=None),
        "ban": BanForm(formdata=None),
        "note": UserNoteForm(formdata=None),
        **failed,
    }
