"""The poll widget's vote form (the embed page, inside a cross-site iframe)."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, SelectMultipleField

from forms.base import TribuneForm


class WidgetVoteForm(TribuneForm):
    """A vote posted from the widget without JavaScript. The iframe has no session cookie
    (third-party cookies are blocked), so there is no CSRF field: a signed per-poll form token
    proves the form is ours, and the voter token stands in for the cookie."""

    class Meta:
        csrf = False

    form_token = HiddenField()
    voter_token = HiddenField()
    # Ids as typed; the view refuses anything that is not one (its "invalid_options").
    option = SelectMultipleField("Antwoord", validate_choice=False)


class VoteBadgeForm(TribuneForm):
    """The account setting of the vote badge (/profiel): show my choice in an article's poll
    beside my comments under it, on every poll I voted in (polls.badges)."""

    show = BooleanField("Toon mijn stem bij mijn reacties")
