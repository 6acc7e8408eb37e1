"""Mail bodies from templates/mail/<name>.txt and .html, rendered at delivery.

A Jinja environment of its own (no Flask: the worker renders outside any request): the text
part is not escaped, the HTML part is. Each template extends mail/_base.txt or mail/_base.html
and defines the blocks `subject` (one line) and `body`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from brussels import text_nl

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Used when TRIBUNE_PUBLIC_URL is unset: the address `make run` serves.
DEVELOPMENT_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The mail templates' environment (HTML escaped, undefined names an error)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def public_url(settings: Mapping[str, Any]) -> str:
    return str(settings.get("TRIBUNE_PUBLIC_URL") or DEVELOPMENT_URL)


def brussels(iso: str | None) -> str:
    """An ISO timestamp as Dutch words in Brussels time ("7 december 2026 om 14:05")."""
    return text_nl(datetime.fromisoformat(iso)) if iso else ""


def render_mail(
    template: str,
    context: Mapping[str, Any],
    settings: Mapping[str, Any],
    unsubscribe_path: str | None = None,
) -> RenderedMail:
    """The subject, text part and HTML part of one mail."""
    base = public_url(settings)
    values = {
        **context,
        "site_name": settings["TRIBUNE_SITE_NAME"],
        "public_url": base,
        "absolute": lambda path: base + path,
        "brussels": brussels,
        "unsubscribe_url": base + unsubscribe_path if unsubscribe_path else None,
    }
    env = environment()
    text_template = env.get_template(f"mail/{template}.txt")
    html_template = env.get_template(f"mail/{template}.html")
    subject_block = text_template.blocks["subject"]
    subject = "".join(subject_block(text_template.new_context(values))).strip()
    return RenderedMail(
        subject=" ".join(subject.split()),
        text=text_template.render(values),
        html=html_template.render(values),
    )
