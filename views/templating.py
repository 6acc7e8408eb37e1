"""Jinja helpers: Dutch plurals, dates and labels of stored codes, safe comment bodies."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask, current_app, g
from markupsafe import Markup, escape

from brussels import text_nl
from forms.base import ButtonForm
from models import utcnow
from moderation.flags import FlagCode
from moderation.rules import ContextFlag
from reasons import ReasonCode

URL_RE = re.compile(r"\b(https?://[^\s<>\"']{1,300}|www\.[^\s<>\"']{2,300})", re.IGNORECASE)


def count_nl(count: int, singular: str, plural: str, zero: str | None = None) -> str:
    """'nog geen reacties', '1 reactie', '5 reacties'."""
    if count == 0 and zero is not None:
        return zero
    return f"{count} {singular if count == 1 else plural}"


def brussels(value: datetime | None, with_time: bool = True) -> str:
    """A UTC timestamp as Belgian local time, in Dutch."""
    return "" if value is None else text_nl(value, with_time)


def comment_html(body: str) -> Markup:
    """Plain text as HTML: escaped, line breaks kept, links marked nofollow ugc."""
    parts: list[str] = []
    last = 0
    for match in URL_RE.finditer(body):
        parts.append(str(escape(body[last : match.start()])))
        url = match.group(0).rstrip(".,;:!?)")
        href = url if url.lower().startswith("http") else "https://" + url
        parts.append(
            f'<a href="{escape(href)}" rel="nofollow ugc noopener" target="_blank">'
            f"{escape(url)}</a>"
        )
        last = match.start() + len(url)
    parts.append(str(escape(body[last:])))
    return Markup("<br>\n".join("".join(parts).split("\n")))


def button_form() -> ButtonForm:
    """The form of a one-click button (log out, delete, approve): only its CSRF field.
    One per request; it is never filled from the submitted data."""
    form: ButtonForm | None = g.get("tribune_button_form")
    if form is None:
        form = g.tribune_button_form = ButtonForm(formdata=None)
    return form


def has_endpoint(name: str) -> bool:
    """Whether a view exists (menus show only what is built)."""
    return name in current_app.view_functions


def flag_label(code: str) -> str:
    """The Dutch label of a stored flag code (screening or context rule)."""
    try:
        return FlagCode.from_code(code).label_nl
    except ValueError:
        for flag in ContextFlag:
            if flag.code == code:
                return flag.label_nl
    return code


# What the audit trail stores (states, actions) as moderators read it. A code without a label
# (one added later) is shown as stored rather than hidden.
STATE_LABELS_NL = {
    "new": "nieuw",
    "published": "gepubliceerd",
    "held": "wacht op nakijken",
    "rejected": "afgewezen",
    "removed": "verwijderd door moderator",
    "deleted": "verwijderd door auteur",
    "active": "actief",
    "banned": "geschorst",
    "pending": "open",
    "upheld": "toegekend",
    "dismissed": "afgewezen",
    "premoderate": "voormoderatie",
    "slow": "vertraagd",
}
ACTION_LABELS_NL = {
    "post": "geplaatst",
    "edit": "bewerkt door auteur",
    "delete": "verwijderd door auteur",
    "undelete": "verwijderen ongedaan gemaakt door auteur",
    "report_threshold": "meldscore bereikt",
    "approve": "goedgekeurd",
    "reject": "afgewezen",
    "remove": "verwijderd",
    "restore": "hersteld",
    "dismiss_reports": "meldingen onterecht",
    "mark_reviewed": "nagekeken",
    "appeal": "bezwaar ingediend",
    "appeal_upheld": "bezwaar toegekend",
    "appeal_denied": "bezwaar afgewezen",
    "ban": "permanent verbannen",
    "suspend_24h": "geschorst (24 uur)",
    "suspend_7d": "geschorst (7 dagen)",
    "suspend_30d": "geschorst (30 dagen)",
    "lift_ban": "schorsing opgeheven",
    "add_note": "notitie",
    "set_role": "rol gewijzigd",
    "create_token": "API-sleutel aangemaakt",
    "revoke_token": "API-sleutel ingetrokken",
    "lexicon_add": "woord toegevoegd",
    "lexicon_remove": "woord geschrapt",
    "lexicon_allow": "woord toegelaten",
    "lexicon_allow_domain": "domein toegelaten",
    "lexicon_undo_add": "toevoeging ongedaan",
    "lexicon_undo_remove": "schrapping ongedaan",
    "lexicon_undo_allow": "toelating ongedaan",
    "lexicon_undo_allow_domain": "domeintoelating ongedaan",
    "schedule_match_day": "wedstrijddag gepland",
    "cancel_match_day": "wedstrijddag geannuleerd",
}

# Error codes a person sees on an error page ("Foutcode 403 (eigen reactie)"); the API keeps
# the code itself.
ERROR_LABELS_NL = {
    "forbidden": "geen toegang",
    "own_account": "eigen account",
    "own_comment": "eigen reactie",
    "staff_suspended": "geschorst",
}


def error_nl(code: str | None) -> str:
    """An error code in Dutch where it has a label; the code itself otherwise."""
    return ERROR_LABELS_NL.get(code or "", code or "")


def state_nl(code: object) -> str:
    """A stored state (comment, user, report) in Dutch; '–' for none."""
    if code is None or code == "":
        return "–"
    value = getattr(code, "value", code)
    return STATE_LABELS_NL.get(str(value), str(value))


def action_nl(code: str) -> str:
    """An audited action in Dutch."""
    return ACTION_LABELS_NL.get(code, code)


def reason_nl(code: str | None) -> str:
    """A stored reason code as its Dutch label; empty for none."""
    if not code:
        return ""
    try:
        return ReasonCode(code).label_nl
    except ValueError:
        return code


def register(app: Flask) -> None:
    """Make the helpers available in every template."""

    @app.context_processor
    def _now() -> dict[str, object]:
        return {"now": utcnow()}

    app.jinja_env.globals.update(
        count_nl=count_nl,
        has_endpoint=has_endpoint,
        flag_label=flag_label,
        button_form=button_form,
    )
    app.jinja_env.filters.update(
        brussels=brussels,
        comment_html=comment_html,
        state_nl=state_nl,
        action_nl=action_nl,
        reason_nl=reason_nl,
        error_nl=error_nl,
    )
