"""Forms of the admin pages: users' roles and accounts, match-day windows, the scoring model's
thresholds."""

from __future__ import annotations

from typing import Any, ClassVar

from wtforms import BooleanField, Field, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import ValidationError

from forms.base import TribuneForm, choices_of, length, number_range, optional, required_input
from forms.fields import BrusselsDateTimeField
from models import MatchDayMode, Role
from models.article import ARTICLE_ID_MAX
from moderation.modes import LABEL_MAX, SLOW_MAX, SLOW_MIN
from scoring.client import ATTRIBUTES
from scoring.thresholds import ATTRIBUTE_LABELS_NL, OUT_OF_RANGE_NL, Threshold

MATCH_DAY_MODE_NL = {"premoderate": "Alles eerst nakijken", "slow": "Trage modus"}


class RoleForm(TribuneForm):
    """Give a user another role."""

    error_codes = {"role": "invalid_role"}
    # A refusal (your own account) is shown beside the role it would have changed.
    refusal_field = "role"

    back = HiddenField()
    role = SelectField(
        "Rol", choices=choices_of(Role), invalid_choice_message="Kies een geldige rol."
    )


class AccountStatusForm(TribuneForm):
    """Deactivate ("0") or reactivate ("1") an account."""

    back = HiddenField()
    active = HiddenField()


class MatchDayForm(TribuneForm):
    """A match-day window, site-wide or for one article, in Belgian time."""

    # JSON clients of the same route get the service's codes for what the form checks first.
    error_codes = {
        "mode": "invalid_mode",
        "slow_seconds": "invalid_slow",
        "starts_at": "invalid_time",
        "ends_at": "invalid_time",
        "article_id": "invalid_article",
        "label": "invalid_label",
    }

    article_id = StringField("Artikel-id", [optional(), length(maximum=ARTICLE_ID_MAX)])
    mode = SelectField("Modus", choices=choices_of(MatchDayMode, MATCH_DAY_MODE_NL))
    slow_seconds = IntegerField(
        "Trage modus: seconden tussen reacties",
        [
            optional(),
            number_range(
                SLOW_MIN, SLOW_MAX, f"Trage modus: kies {SLOW_MIN} tot {SLOW_MAX} seconden."
            ),
        ],
        default=60,
    )
    starts_at = BrusselsDateTimeField("Begin (Brussel)", [required_input("Geef een begin.")])
    ends_at = BrusselsDateTimeField("Einde (Brussel)", [required_input("Geef een einde.")])
    label = StringField("Omschrijving", [optional(), length(maximum=LABEL_MAX)])


# ---------------------------------------------------------------- the scoring model's thresholds

SCORE_MAX_LENGTH = 10


def parse_score(raw: str) -> float | None:
    """A threshold as typed: empty is off; 0,8 or 0.8; ValueError outside 0–1 or not a number."""
    text = raw.strip().replace(",", ".")
    if not text:
        return None
    value = float(text)
    if not 0 <= value <= 1:  # also refuses nan and inf
        raise ValueError(text)
    return value


def show_score(value: float | None) -> str:
    """A threshold as the form shows it (Belgian decimal comma; empty when off)."""
    return "" if value is None else f"{value:g}".replace(".", ",")


def _score_in_range(form: Any, field: Field) -> None:
    try:
        parse_score(field.data or "")
    except ValueError:
        raise ValidationError(OUT_OF_RANGE_NL) from None


class ScorerThresholdsForm(TribuneForm):
    """Per attribute of the scoring model: the threshold (0–1, empty = off) and whether a score
    at or above it holds the comment (else the flag only informs the moderators)."""

    error_codes: ClassVar[dict[str, str]] = {
        f"{name.lower()}_value": "invalid_threshold" for name in ATTRIBUTES
    }

    @classmethod
    def filled(cls, thresholds: dict[str, Threshold]) -> ScorerThresholdsForm:
        """The form showing the thresholds in force."""
        data: dict[str, object] = {}
        for name, threshold in thresholds.items():
            data[f"{name.lower()}_value"] = show_score(threshold.value)
            data[f"{name.lower()}_hold"] = threshold.hold
        return cls(formdata=None, data=data)

    def rows(self) -> list[tuple[str, Field, Field]]:
        """(Dutch label, threshold field, hold box) per attribute, in the model's order."""
        return [
            (ATTRIBUTE_LABELS_NL[name], self[f"{name.lower()}_value"], self[f"{name.lower()}_hold"])
            for name in ATTRIBUTES
        ]

    def thresholds(self) -> dict[str, Threshold]:
        """The typed thresholds (call after validate())."""
        return {
            name: Threshold(
                parse_score(self[f"{name.lower()}_value"].data or ""),
                bool(self[f"{name.lower()}_hold"].data),
            )
            for name in ATTRIBUTES
        }


for _name in ATTRIBUTES:
    setattr(
        ScorerThresholdsForm,
        f"{_name.lower()}_value",
        StringField(
            f"{ATTRIBUTE_LABELS_NL[_name]}: drempel (0 tot 1, leeg = uit)",
            [
                optional(),
                length(maximum=SCORE_MAX_LENGTH, message=OUT_OF_RANGE_NL),
                _score_in_range,
            ],
        ),
    )
    setattr(
        ScorerThresholdsForm,
        f"{_name.lower()}_hold",
        BooleanField(f"{ATTRIBUTE_LABELS_NL[_name]}: reactie vasthouden voor nakijken"),
    )
