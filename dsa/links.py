"""Signed links to a notice's complaint page (DSA art. 20): the notifier needs no account,
the link is signed with the notice's own key."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy.orm import Session

from errors import NotFound
from models import Notice

COMPLAINT_PATH = "/melden/bezwaar/"
LINK_INVALID_NL = "Deze link om bezwaar te maken is ongeldig."


def _signature(key: str, notice_id: int) -> str:
    mac = hmac.new(key.encode(), f"notice-complaint.{notice_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def complaint_token(session: Session, notice: Notice) -> str:
    """The signed token of a notice's complaint link (the key is made on first use)."""
    if notice.complaint_key is None:
        notice.complaint_key = secrets.token_hex(16)
        session.flush()
    return f"{notice.id}.{_signature(notice.complaint_key, notice.id)}"


def complaint_path(session: Session, notice: Notice) -> str:
    """The page where the notifier complains about "no action"."""
    return COMPLAINT_PATH + complaint_token(session, notice)


def notice_for_token(session: Session, token: str) -> Notice:
    """The notice a complaint link names, or 404 complaint_link_invalid."""
    id_text, _, signature = token.partition(".")
    notice = None
    if id_text.isdigit() and len(id_text) <= 12:
        notice = session.get(Notice, int(id_text))
    if (
        notice is None
        or notice.complaint_key is None
        or not hmac.compare_digest(_signature(notice.complaint_key, notice.id), signature)
    ):
        raise NotFound("complaint_link_invalid", LINK_INVALID_NL)
    return notice
