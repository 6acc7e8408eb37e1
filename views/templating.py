"""Jinja helpers: Dutch plurals and dates, safe comment bodies."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from markupsafe import Markup, escape

BRUSSELS = ZoneInfo("Europe/Brussels")
MONTHS_NL = (
    "januari februari maart april mei juni juli augustus september oktober november december"
)
MONTHS_NL_LIST = MONTHS_NL.split()
URL_RE = re.compile(r"\b(https?://[^\s<>\"']{1,300}|www\.[^\s<>\"']{2,300})", re.IGNORECASE)


def count_nl(count: int, singular: str, plural: str, zero: str | None = None) -> str:
    """'nog geen reacties', '1 reactie', '5 reacties'."""
    if count == 0 and zero is not None:
        return zero
    return f"{count} {singular if count == 1 else plural}"


def brussels(value: datetime | None, with_time: bool = True) -> str:
    """A UTC timestamp as Belgian local time, in Dutch."""
    if value is None:
        return ""
    local = value.astimezone(BRUSSELS)
    text = f"{local.day} {MONTHS_NL_LIST[local.month - 1]} {local.year}"
    return f"{text} om {local:%H:%M}" if with_time else text


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


def has_endpoint(name: str) -> bool:
    """Whether a view exists (menus show only what is built)."""
    return name in current_app.view_functions


def flag_label(code: str) -> str:
    """The Dutch label of a stored flag code (screening or context rule)."""
    from moderation.flags import FlagCode
    from moderation.rules import ContextFlag

    try:
        return FlagCode.from_code(code).label_nl
    except ValueError:
        for flag in ContextFlag:
            if flag.code == code:
                return flag.label_nl
    return code


def register(app: Flask) -> None:
    """Make the helpers available in every template."""

    @app.context_processor
    def _now() -> dict[str, object]:
        from models import utcnow

        return {"now": utcnow()}

    app.jinja_env.globals.update(
        count_nl=count_nl, has_endpoint=has_endpoint, flag_label=flag_label
    )
    app.jinja_env.filters.update(brussels=brussels, comment_html=comment_html)
