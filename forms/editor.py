"""Forms of the editors' pages: a poll (create, edit), reopen, an article's comment mode,
quarantine of suspicious ballots."""

from __future__ import annotations

from typing import Any, ClassVar

from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice

from forms.base import TribuneForm, choices, choices_of, length, optional, required
from forms.fields import BrusselsDateTimeField
from models import CommentMode, ResultsVisibility, ThreadSort, VoterScope
from polls.ratings import MAX_PLAYERS
from polls.services import LABEL_MAX, MAX_OPTIONS, QUESTION_MAX, QuarantineScope

VISIBILITY_NL = {
    "always": "Altijd",
    "after_vote": "Na het stemmen",
    "after_close": "Na het sluiten",
    "never": "Nooit publiek",
}
SCOPE_NL = {"everyone": "Iedereen", "logged_in": "Enkel aangemelde fans"}
MODE_NL = {"open": "Open", "premoderated": "Eerst nakijken", "closed": "Gesloten"}
SORT_NL = {"newest": "Nieuwste", "oldest": "Oudste", "best": "Beste"}
QUARANTINE_SCOPE_NL = {
    "selected": "de aangevinkte stemmen",
    "suspicious": "alle verdachte",
    "ip_allowance": "enkel: veel stemmen van één IP",
    "burst": "enkel: piek nieuwe stemmers",
}
OPTION_FIELDS = tuple(f"option_{i}" for i in range(MAX_OPTIONS))


class _PollFields(TribuneForm):
    """A poll as editors type it; the service checks the rules that span fields."""

    error_places = {"options": "option_0"}

    question = StringField(
        "Vraag",
        [required("Geef een vraag."), length(maximum=QUESTION_MAX)],
    )
    max_choices = SelectField(
        "Aantal keuzes per stemmer",
        coerce=int,
        choices=[
            SelectChoice(str(n), "1 (één antwoord)" if n == 1 else f"maximaal {n}")
            for n in range(1, MAX_OPTIONS + 1)
        ],
        default=1,
    )
    voter_scope = SelectField(
        "Wie mag stemmen", choices=choices_of(VoterScope, SCOPE_NL), default="everyone"
    )
    opens_at = BrusselsDateTimeField("Opent (Belgische tijd; leeg = meteen)")
    closes_at = BrusselsDateTimeField("Sluit (Belgische tijd; leeg = blijft open)")
    results_visibility = SelectField(
        "Stand zichtbaar voor lezers",
        choices=choices_of(ResultsVisibility, VISIBILITY_NL),
        default="always",
    )

    def option_fields(self) -> list[Any]:
        """The answer inputs, in order."""
        return [self[name] for name in OPTION_FIELDS]

    def labels(self) -> list[str]:
        """The typed answers, empty ones included (the service drops them)."""
        return [self[name].data or "" for name in OPTION_FIELDS]


class PollForm(_PollFields):
    """A poll: question, MIN_OPTIONS to MAX_OPTIONS answers, dates, visibility."""


# One text input per possible answer (option_0 … option_9), limits from the poll rules;
# WTForms' form metaclass takes fields added after the class statement.
for _number, _name in enumerate(OPTION_FIELDS, start=1):
    setattr(
        PollForm,
        _name,
        StringField(f"Antwoord {_number}", [optional(), length(maximum=LABEL_MAX)]),
    )


ROLE_NL = {"starter": "basis", "substitute": "wissel"}
PLAYER_ROWS = MAX_PLAYERS


def player_field_names(row: int) -> tuple[str, str, str]:
    """The inputs of line-up row `row`: shirt number, name, starter or substitute."""
    return f"player_{row}_number", f"player_{row}_name", f"player_{row}_role"


class RatingsPollForm(TribuneForm):
    """A player ratings poll: question, line-up (up to MAX_PLAYERS rows; empty rows do not
    count), optional coach, dates, visibility. Numbers are typed as text: the service checks
    them, and whatever was typed comes back with its message beside it."""

    question = StringField(
        "Vraag",
        [required("Geef een vraag."), length(maximum=QUESTION_MAX)],
        default="Geef de spelers een cijfer",
    )
    coach = StringField("Trainer (wordt ook beoordeeld; leeg = geen)", [optional()])
    voter_scope = SelectField(
        "Wie mag beoordelen", choices=choices_of(VoterScope, SCOPE_NL), default="everyone"
    )
    opens_at = BrusselsDateTimeField("Opent (Belgische tijd; leeg = meteen)")
    closes_at = BrusselsDateTimeField("Sluit (Belgische tijd; leeg = blijft open)")
    results_visibility = SelectField(
        "Stand zichtbaar voor lezers",
        choices=choices_of(ResultsVisibility, VISIBILITY_NL),
        default="always",
    )

    def rows(self) -> list[tuple[Any, Any, Any]]:
        """The line-up's inputs, row by row."""
        return [
            tuple(self[name] for name in player_field_names(row))
            for row in range(PLAYER_ROWS)
        ]

    def lineup(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The typed players (rows left empty skipped) and the row of each."""
        players: list[dict[str, Any]] = []
        rows: list[int] = []
        for row, (number, name, role) in enumerate(self.rows()):
            typed_number = (number.data or "").strip()
            typed_name = name.data or ""
            if not typed_number and not typed_name.strip():
                continue
            players.append(
                {
                    "name": typed_name,
                    "shirt_number": int(typed_number) if typed_number.isdigit() else typed_number,
                    "role": role.data,
                }
            )
            rows.append(row)
        return players, rows


for _row in range(PLAYER_ROWS):
    _number_name, _name_name, _role_name = player_field_names(_row)
    setattr(
        RatingsPollForm,
        _number_name,
        StringField(f"Rugnummer speler {_row + 1}", [optional(), length(maximum=3)]),
    )
    setattr(
        RatingsPollForm,
        _name_name,
        StringField(f"Naam speler {_row + 1}", [optional(), length(maximum=80)]),
    )
    setattr(
        RatingsPollForm,
        _role_name,
        SelectField(
            f"Rol speler {_row + 1}",
            choices=choices(ROLE_NL),
            default="starter" if _row < 11 else "substitute",
        ),
    )


class ReopenForm(TribuneForm):
    """Reopen a closed poll, optionally until a new closing time."""

    closes_at = BrusselsDateTimeField("Heropenen tot (leeg = zonder einde)")


class CommentModeForm(TribuneForm):
    """An article's comment mode."""

    q = HiddenField()
    mode = SelectField(
        "Reacties:",
        choices=choices_of(CommentMode, MODE_NL),
        validate_choice=True,
    )


class DefaultSortForm(TribuneForm):
    """The order of an article's thread when the reader picks none."""

    q = HiddenField()
    sort = SelectField(
        "Volgorde:",
        choices=choices_of(ThreadSort, SORT_NL),
        validate_choice=True,
    )


class QuarantineForm(TribuneForm):
    """Put suspicious ballots in quarantine or release them."""

    action = SelectField(
        "Wat", choices=choices({"quarantine": "In quarantaine", "release": "Weer meetellen"})
    )
    scope = SelectField(
        "Welke stemmen",
        choices=choices_of(QuarantineScope, QUARANTINE_SCOPE_NL),
        default="selected",
    )
    # Ids of rows on the page; the service ignores ids that are not this poll's.
    ballot = SelectMultipleField("Stemmen", coerce=int, validate_choice=False)


class PredictionPollForm(TribuneForm):
    """A score prediction poll: the match (teams, competition), the kick-off (the poll closes
    then), when it opens and whether the count of predictions shows. The service checks the
    names; what was typed comes back with its message beside it."""

    question = StringField(
        "Vraag",
        [required("Geef een vraag."), length(maximum=QUESTION_MAX)],
        default="Voorspel de eindstand",
    )
    home_team = StringField("Thuisploeg", [optional()])
    away_team = StringField("Bezoekers", [optional()])
    competition = StringField(
        "Competitie (het klassement, bv. Jupiler Pro League 2026-27)", [optional()]
    )
    opens_at = BrusselsDateTimeField("Opent (Belgische tijd; leeg = meteen)")
    closes_at = BrusselsDateTimeField("Aftrap (Belgische tijd; dan sluiten de voorspellingen)")
    results_visibility = SelectField(
        "Stand zichtbaar voor lezers",
        choices=choices_of(ResultsVisibility, VISIBILITY_NL),
        default="always",
    )


class ResultForm(TribuneForm):
    """The final score of a score prediction poll (typed as text; the service checks 0–20)."""

    error_codes: ClassVar[dict[str, str]] = {"home_goals": "invalid_result"}
    refusal_field: ClassVar[str | None] = "home_goals"

    home_goals = StringField("Thuisploeg", [required("Vul de doelpunten in.")])
    away_goals = StringField("Bezoekers", [required("Vul de doelpunten in.")])
