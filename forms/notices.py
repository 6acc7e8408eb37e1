"""Forms of DSA notice-and-action: the notice anyone can file, the moderator's decision on it,
and the period of the transparency export."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields import DateField
from wtforms.fields.choices import SelectChoice

from accounts.services import EMAIL_MAX
from dsa.complaints import COMPLAINT_MAX, COMPLAINT_MIN, COMPLAINT_NL
from dsa.notices import (
    EXPLANATION_MAX,
    EXPLANATION_MIN,
    EXPLANATION_NL,
    GOOD_FAITH_NL,
    GROUND_NL,
    NAME_MAX,
    NoticeInput,
    notice_problems,
)
from dsa.transparency import FORMATS
from forms.base import TribuneForm, choices, choices_of, length, optional, required
from forms.moderation import ModeratorForm
from models import NoticeDecision, NoticeGround
from moderation.actions import NOTE_MAX


class NoticeForm(TribuneForm):
    """A notice of illegal content about one comment (DSA art. 16(2))."""

    error_codes = {
        "ground": "invalid_ground",
        "explanation": "invalid_notice",
        "name": "invalid_notice",
        "email": "invalid_notice",
        "good_faith": "invalid_notice",
    }

    ground = SelectField(
        "Op welke wettelijke grond is deze reactie illegaal?",
        [required(GROUND_NL)],
        choices=[SelectChoice("", "Kies een grond"), *choices_of(NoticeGround)],
        validate_choice=False,  # notice_problems names a bad one beside the field
    )
    explanation = TextAreaField(
        "Leg uit waarom deze reactie illegaal is",
        [required(EXPLANATION_NL), length(EXPLANATION_MIN, EXPLANATION_MAX, EXPLANATION_NL)],
    )
    name = StringField("Je naam", [optional(), length(maximum=NAME_MAX)])
    email = EmailField("Je e-mailadres", [optional(), length(maximum=EMAIL_MAX)])
    good_faith = BooleanField(
        "Ik verklaar te goeder trouw dat de gegevens en verklaringen in deze melding juist en "
        "volledig zijn.",
        [required(GOOD_FAITH_NL)],
    )

    def notice_input(self) -> NoticeInput:
        """What was typed, for the service."""
        return NoticeInput(
            ground=self.ground.data or "",
            explanation=self.explanation.data or "",
            name=self.name.data or "",
            email=self.email.data or "",
            good_faith=bool(self.good_faith.data),
        )

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields' own rules, then the notice's (name and e-mail depend on the ground);
        every problem beside its field at once."""
        valid = bool(super().validate(extra_validators))
        for name, message in notice_problems(self.notice_input()).items():
            field = self[name]
            if not field.errors:
                field.errors = [message]
            valid = False
        return valid


class NoticeDecisionForm(ModeratorForm):
    """Remove the comment or take no action, with a note for the notifier and the author."""

    error_codes = {"decision": "invalid_decision", "note": "invalid_note"}

    decision = SelectField(
        "Beslissing",
        choices=choices(
            {
                NoticeDecision.REMOVED.value: "Reactie verwijderen",
                NoticeDecision.NO_ACTION.value: "Geen actie: reactie blijft",
            }
        ),
        invalid_choice_message="Kies verwijderen of geen actie.",
    )
    note = StringField("Motivering", [optional(), length(maximum=NOTE_MAX)])


class ComplaintForm(TribuneForm):
    """The notifier's complaint against "no action" on their notice (DSA art. 20)."""

    refusal_field = "body"
    error_codes = {"body": "invalid_complaint"}

    body = TextAreaField(
        "Waarom ben je het niet eens met deze beslissing?",
        [required(COMPLAINT_NL), length(COMPLAINT_MIN, COMPLAINT_MAX, COMPLAINT_NL)],
    )


class ComplaintDecisionForm(ModeratorForm):
    """Uphold the notifier's complaint (the comment goes) or deny it (no action stands)."""

    error_codes = {"decision": "invalid_decision", "note": "invalid_note"}

    decision = SelectField(
        "Beslissing over het bezwaar",
        choices=choices(
            {
                "uphold": "Bezwaar toekennen: reactie alsnog verwijderen",
                "deny": "Bezwaar afwijzen: reactie blijft",
            }
        ),
        invalid_choice_message="Kies bezwaar toekennen of afwijzen.",
    )
    note = StringField("Motivering", [optional(), length(maximum=NOTE_MAX)])


class TransparencyForm(TribuneForm):
    """The period (Belgian calendar days, both included) and the format of the export."""

    class Meta:
        csrf = False  # a GET form: it reads, it changes nothing

    van = DateField("Van", [required("Kies een begindatum.")])
    tot = DateField("Tot en met", [required("Kies een einddatum.")])
    formaat = SelectField(
        "Formaat",
        choices=choices({"html": "Op de pagina", **{f: f.upper() for f in FORMATS}}),
        default="html",
        invalid_choice_message="Kies pagina, CSV of JSON.",
    )
