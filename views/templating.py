"""Jinja helpers: Dutch plurals, dates and labels of stored codes, safe comment bodies."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask, current_app, g, request
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


# The comments embed's sign-in popup (views.embed_comments.sign_in) sends the fan to the login
# or registration page with this `next`.
SIGN_IN_POPUP_PATH = "/embed/aanmelden"


def in_sign_in_popup() -> bool:
    """True on the login or registration page opened in the comments embed's sign-in popup:
    it is shown in the lean popup layout (templates/embed/_popup.html), not the site's."""
    return request.endpoint in ("auth.login", "auth.register") and (
        request.values.get("next") or ""
    ).startswith(SIGN_IN_POPUP_PATH)


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
    "denied": "afgewezen",
    "inactive": "gedeactiveerd",
    "premoderate": "voormoderatie",
    "slow": "vertraagd",
    # An article's comment mode.
    "open": "open",
    "premoderated": "eerst nakijken",
    "closed": "gesloten",
    # A ballot.
    "counted": "meegeteld",
    "quarantined": "in quarantaine",
    # A DSA notice.
    "decided": "beslist",
}
ACTION_LABELS_NL = {
    "post": "geplaatst",
    "edit": "bewerkt door auteur",
    "delete": "verwijderd door auteur",
    "undelete": "verwijderen ongedaan gemaakt door auteur",
    "account_deleted": "verwijderd met het account van de auteur",
    "delete_account": "account verwijderd door de gebruiker",
    "erase_body": "tekst gewist na bewaartermijn",
    "report_threshold": "meldscore bereikt",
    "score_threshold": "drempel van het scoremodel bereikt",
    "scoring_dropped": "niet gescoord door het model (te lang gewacht)",
    "scorer_thresholds": "drempels van het scoremodel gewijzigd",
    "approve": "goedgekeurd",
    "reject": "afgewezen",
    "remove": "verwijderd",
    "restore": "hersteld",
    "dismiss_reports": "meldingen onterecht",
    "mark_reviewed": "nagekeken",
    "appeal": "bezwaar ingediend",
    "appeal_upheld": "bezwaar toegekend",
    "appeal_denied": "bezwaar afgewezen",
    "notice_filed": "melding van illegale inhoud ontvangen",
    "notice_removed": "melding van illegale inhoud: verwijderd",
    "notice_kept": "melding van illegale inhoud: geen actie",
    "notice_complaint_filed": "bezwaar van de melder ingediend",
    "notice_complaint_upheld": "bezwaar van de melder toegekend: reactie alsnog verwijderd",
    "notice_complaint_denied": "bezwaar van de melder afgewezen",
    "ban": "permanent verbannen",
    "suspend_24h": "geschorst (24 uur)",
    "suspend_7d": "geschorst (7 dagen)",
    "suspend_30d": "geschorst (30 dagen)",
    "lift_ban": "schorsing opgeheven",
    "add_note": "notitie",
    "set_role": "rol gewijzigd",
    "activate": "account geactiveerd",
    "deactivate": "account gedeactiveerd",
    "register_article": "artikel geregistreerd",
    "update_article": "artikel bijgewerkt",
    "set_comment_mode": "reactiemodus gewijzigd",
    "set_default_sort": "volgorde van de reacties gewijzigd",
    "quarantine": "stemmen in quarantaine",
    "release": "stemmen weer meegeteld",
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
    "feature": "uitgelicht",
    "unfeature": "niet meer uitgelicht",
    "pin": "vastgepind boven de reacties",
    "unpin": "losgemaakt",
    "resolve_prediction": "uitslag ingevuld, voorspellingen gescoord",
}

# Error codes a person sees on an error page ("Foutcode 409 (eigen account)"); the API keeps
# the code itself. tests/test_labels_nl.py collects every code the app raises and fails on one
# without a label here.
ERROR_LABELS_NL = {
    # Statuses without a more precise code (errors.STATUS_ERRORS) and the CSRF check.
    "bad_request": "ongeldig verzoek",
    "login_required": "aanmelden nodig",
    "forbidden": "geen toegang",
    "not_found": "niet gevonden",
    "invalid_threshold": "ongeldige drempel",
    "method_not_allowed": "methode niet toegestaan",
    "conflict": "kan nu niet",
    "payload_too_large": "verzoek te groot",
    "message_not_found": "bericht niet gevonden",
    "message_not_retryable": "bericht niet opnieuw te versturen",
    "unsupported_media_type": "verkeerd formaat",
    "validation_failed": "ongeldige invoer",
    "rate_limited": "te veel verzoeken",
    "internal_error": "interne fout",
    "service_unavailable": "tijdelijk onbereikbaar",
    "csrf_failed": "formulier verlopen",
    "form_expired": "formulier verlopen",
    "invalid_form_token": "formulier verlopen",
    "origin_mismatch": "verzoek van een andere site",
    "invalid_json": "ongeldige JSON",
    "invalid_text": "ongeldige tekens",
    "invalid_parameter": "ongeldige parameter",
    # Accounts, sessions and staff authority.
    "own_account": "eigen account",
    "own_comment": "eigen reactie",
    "not_featurable": "niet uit te lichten",
    "not_pinnable": "niet vast te pinnen",
    "not_own_comment": "niet je eigen reactie",
    "staff_suspended": "geschorst",
    "banned": "geschorst",
    "not_banned": "niet geschorst",
    "username_taken": "gebruikersnaam al in gebruik",
    "email_taken": "e-mailadres al in gebruik",
    "same_email": "zelfde e-mailadres",
    "email_unverified": "e-mailadres nog niet bevestigd",
    "link_invalid": "link werkt niet (meer)",
    "invalid_username": "ongeldige gebruikersnaam",
    "username_not_allowed": "gebruikersnaam niet toegestaan",
    "invalid_email": "ongeldig e-mailadres",
    "password_too_short": "wachtwoord te kort",
    "password_too_long": "wachtwoord te lang",
    "wrong_password": "verkeerd wachtwoord",
    "wrong_username": "verkeerde gebruikersnaam",
    "account_deleted": "account verwijderd",
    "body_erased": "tekst gewist",
    "invalid_role": "ongeldige rol",
    "user_not_found": "gebruiker niet gevonden",
    "invalid_name": "ongeldige naam",
    "invalid_token": "ongeldige sleutel",
    "undo_window_closed": "te laat om ongedaan te maken",
    "insufficient_scope": "sleutel mag dit niet schrijven",
    "invalid_scope": "onbekend recht voor een sleutel",
    "scope_not_allowed": "recht dat je rol niet mag geven",
    "password_common": "te bekend wachtwoord",
    "password_personal": "wachtwoord met je naam of e-mail",
    "password_trivial": "te eenvoudig wachtwoord",
    "token_not_found": "sleutel niet gevonden",
    "too_many_tokens": "te veel sleutels",
    "account_inactive": "account gedeactiveerd",
    "password_login_disabled": "aanmelden via de website van je krant",
    # The comments embed's sessions and single sign-on.
    "embed_session_expired": "aanmelding in de reacties verlopen",
    "embed_session_invalid": "aanmelding in de reacties ongeldig",
    "embed_session_required": "aanmelding in de reacties nodig",
    "sso_disabled": "aanmelden via de website niet ingesteld",
    "sso_invalid": "ongeldig aanmeldbewijs",
    "sso_expired": "aanmeldbewijs verlopen",
    "sso_algorithm": "ondertekening niet aanvaard",
    "sso_claims": "aanmeldbewijs onvolledig",
    "sso_issuer": "aanmeldbewijs van een andere website",
    "sso_replayed": "aanmeldbewijs al gebruikt",
    "sso_busy": "even geduld",
    # Articles and comments.
    "article_not_found": "artikel niet gevonden",
    "invalid_article": "ongeldig artikel",
    "invalid_article_id": "ongeldige artikel-id",
    "comments_closed": "reageren gesloten",
    "comment_not_found": "reactie niet gevonden",
    "comment_not_published": "reactie niet zichtbaar",
    "invalid_body": "ongeldige tekst",
    "body_too_short": "tekst te kort",
    "body_too_long": "tekst te lang",
    "too_fast": "te snel na elkaar",
    "invalid_parent": "ongeldige reactie",
    "parent_not_found": "reactie niet gevonden",
    "parent_not_visible": "reactie niet zichtbaar",
    "not_editable": "niet meer te bewerken",
    "edit_window_closed": "bewerktijd voorbij",
    "edit_rejected": "bewerking geweigerd",
    # Moderation.
    "illegal_transition": "kan niet in deze toestand",
    "already_reviewed": "al nagekeken",
    "not_reported": "niet gemeld",
    "invalid_action": "ongeldige actie",
    "invalid_reason": "ongeldige reden",
    "invalid_note": "ongeldige toelichting",
    "invalid_decision": "ongeldige beslissing",
    "invalid_duration": "ongeldige duur",
    "nothing_selected": "niets geselecteerd",
    "missing_ids": "niets geselecteerd",
    "too_many_ids": "te veel geselecteerd",
    "not_appealable": "geen bezwaar mogelijk",
    "already_appealed": "al bezwaar ingediend",
    "invalid_appeal": "ongeldig bezwaar",
    "appeal_not_found": "bezwaar niet gevonden",
    "appeal_decided": "bezwaar al beslist",
    "notice_decided": "melding al beslist",
    "invalid_complaint": "ongeldig bezwaar",
    "complaint_link_invalid": "ongeldige link om bezwaar te maken",
    "complaint_not_possible": "geen bezwaar mogelijk tegen deze beslissing",
    "complaint_exists": "al bezwaar gemaakt",
    "complaint_too_late": "termijn voor bezwaar verstreken",
    "complaint_decided": "bezwaar al beslist",
    "notice_not_found": "melding niet gevonden",
    "invalid_notice": "ongeldige melding",
    "invalid_ground": "ongeldige wettelijke grond",
    "invalid_period": "ongeldige periode",
    "invalid_word": "ongeldig woord",
    "invalid_list": "ongeldige lijst",
    "entry_not_found": "regel niet gevonden",
    # Match-day windows.
    "invalid_mode": "ongeldige modus",
    "invalid_slow": "ongeldige wachttijd",
    "invalid_time": "ongeldig tijdstip",
    "invalid_window": "ongeldig venster",
    "invalid_label": "ongeldige omschrijving",
    "window_not_found": "venster niet gevonden",
    # Polls and votes.
    "poll_not_found": "peiling niet gevonden",
    "poll_not_open": "peiling niet open",
    "poll_closed": "peiling gesloten",
    "poll_not_closed": "peiling niet gesloten",
    "poll_frozen": "peiling vastgezet",
    "poll_has_ballots": "peiling heeft stemmen",
    "invalid_options": "ongeldige antwoorden",
    "too_many_choices": "te veel keuzes",
    "vote_conflict": "stem botst",
    # Player ratings.
    "not_a_ratings_poll": "geen spelersbeoordeling",
    "not_a_prediction_poll": "geen voorspelling",
    "invalid_prediction": "ongeldige voorspelling",
    "invalid_result": "ongeldige uitslag",
    "match_not_started": "wedstrijd nog niet begonnen",
    "match_resolved": "uitslag al ingevuld",
    "invalid_ratings": "ongeldige cijfers",
    "lineup_empty": "opstelling leeg",
    "too_many_players": "te veel spelers",
    "empty_player_name": "naam ontbreekt",
    "player_name_too_long": "naam te lang",
    "invalid_shirt_number": "ongeldig rugnummer",
    "duplicate_shirt_number": "rugnummer dubbel",
    "invalid_player_role": "ongeldige rol",
    "voter_token_required": "stemsleutel nodig",
    "invalid_voter_token": "ongeldige stemsleutel",
    "voter_token_expired": "stemsleutel verlopen",
    "foreign_voter_token": "stemsleutel van een ander",
    # Webhooks (/beheer/webhooks).
    "invalid_webhook_url": "ongeldige webhook-URL",
    "invalid_webhook_events": "ongeldige gebeurtenissen",
    "invalid_webhook_description": "ongeldige omschrijving",
    "webhook_not_found": "webhook niet gevonden",
    "webhook_disabled": "webhook staat uit",
    # Notifications.
    "unsubscribe_link_invalid": "ongeldige afmeldlink",
    "invalid_notification_choice": "ongeldige keuze voor meldingen",
}

# The word lists (moderation/lexicon.py CATEGORIES) as moderators read them.
LIST_LABELS_NL = {
    "slur": "scheldwoorden (racistisch, homofoob)",
    "reject": "zwaarste beledigingen",
    "hold": "beledigingen",
    "hate": "haatcodes en spreekkoren",
    "curse": "vloeken",
    "disease": "ziektewoorden",
    "threat": "bedreigingen",
    "spam": "spamwoorden",
    "prefix": "voorvoegsels (kanker-, tyfus-)",
    "mild": "milde krachttermen",
    "identity": "groepsnamen",
    "person": "personen (scheids, speler, supporter)",
    "violence": "geweld (werkwoorden en zinnen)",
    "figurative": "geweld dat ook voetbaltaal is (afmaken)",
    "harm": "lichaamsdelen en wapens",
    "dehumanising": "ontmenselijkende woorden (ongedierte)",
    "hostile": "vijandige uitspraken over een groep",
    "insult_adjective": "beledigende bijvoeglijke naamwoorden",
    "insult_noun": "beledigende zelfstandige naamwoorden",
}

# A poll's state and why a ballot looks suspicious (the editors' pages).
POLL_STATE_LABELS_NL = {"scheduled": "gepland", "open": "open", "closed": "gesloten"}
SUSPICION_LABELS_NL = {"ip_allowance": "veel stemmen van één IP", "burst": "piek nieuwe stemmers"}


def error_nl(code: str | None) -> str:
    """An error code in Dutch where it has a label; the code itself otherwise."""
    return ERROR_LABELS_NL.get(code or "", code or "")


def list_nl(code: str | None) -> str:
    """A word list's name in Dutch; empty for none."""
    if not code:
        return ""
    return LIST_LABELS_NL.get(code, code)


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


def duration_nl(seconds: float | None) -> str:
    """A handling time as Dutch words: "3 min", "2 u 5 min", "4 d 3 u"."""
    if seconds is None:
        return "–"
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} u"
    if hours:
        return f"{hours} u {minutes} min"
    return f"{minutes} min"


def register(app: Flask) -> None:
    """Make the helpers available in every template."""

    @app.context_processor
    def _now() -> dict[str, object]:
        return {"now": utcnow()}

    app.jinja_env.globals.update(
        count_nl=count_nl,
        has_endpoint=has_endpoint,
        in_sign_in_popup=in_sign_in_popup,
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
        list_nl=list_nl,
        duration_nl=duration_nl,
    )
