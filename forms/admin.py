"""Forms of the admin pages: users' roles and accounts, match-day windows."""

from __future__ import annotations

from wtforms import HiddenField, IntegerField, SelectField, StringField

from forms.base import TribuneForm, choices_of, length, number_range, optional, required_input
from forms.fields import BrusselsDateTimeField
from models import MatchDayMode, Role
from models.article import ARTICLE_ID_MAX
from moderation.modes import LABEL_MAX, SLOW_MAX, SLOW_MIN

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
