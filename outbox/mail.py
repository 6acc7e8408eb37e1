"""Mail transport from MAIL_URL, and one outbox message composed as a MIME mail.

smtp://host:port (plain, or STARTTLS with ?starttls=1), smtps://host:port (TLS from the first
byte), user and password in the URL's user part; empty: each message becomes an .eml file under
instance/mail/ (development), named by its delivery id so a retry rewrites the same file.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from models import OutboxMessage, utcnow
from outbox.rendering import RenderedMail, public_url

SMTP_PORTS = {"smtp": 25, "smtps": 465}
TRUE_WORDS = ("1", "true", "yes", "on")


class MailTransport(Protocol):
    def send(self, mail: EmailMessage) -> None: ...


class MailUrlError(ValueError):
    """MAIL_URL cannot be read (raised when the worker starts)."""


@dataclass(frozen=True)
class FileTransport:
    """Development: every mail an .eml file in one directory."""

    directory: Path

    def send(self, mail: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = mail["X-Tribune-Delivery-Id"] + ".eml"
        # Written whole or not at all: the mail listing never shows half a message.
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(bytes(mail))
        os.replace(temporary, self.directory / name)


@dataclass(frozen=True)
class SmtpTransport:
    """A real SMTP server: plain, STARTTLS or implicit TLS, with an optional login."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None
    timeout: float
    ca_file: str | None

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def send(self, mail: EmailMessage) -> None:
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._tls()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.starttls:
                client.starttls(context=self._tls())
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(mail)


def transport_from_url(
    url: str, directory: Path, timeout: float = 10.0, ca_file: str | None = None
) -> MailTransport:
    """The transport MAIL_URL names (empty: .eml files in `directory`)."""
    if not url:
        return FileTransport(directory)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SMTP_PORTS or not parts.hostname:
        raise MailUrlError(
            f"MAIL_URL must look like smtp://host:port, smtp://host:port?starttls=1 or "
            f"smtps://host:port, not {url!r}"
        )
    try:
        port = parts.port or SMTP_PORTS[scheme]
    except ValueError:
        raise MailUrlError(f"MAIL_URL has a port that is not a number: {url!r}") from None
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in TRUE_WORDS
    if scheme == "smtps" and starttls:
        raise MailUrlError("MAIL_URL: smtps:// is TLS already; starttls=1 is for smtp://")
    return SmtpTransport(
        host=parts.hostname,
        port=port,
        implicit_tls=scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
        ca_file=ca_file,
    )


def uses_files(settings: Mapping[str, Any]) -> bool:
    """Whether mail goes to .eml files (development) rather than an SMTP server."""
    return not settings.get("MAIL_URL")


def compose(
    message: OutboxMessage, rendered: RenderedMail, settings: Mapping[str, Any]
) -> EmailMessage:
    """The MIME mail of a message: text and HTML parts, a stable Message-ID, RFC 8058 headers."""
    mail = EmailMessage()
    sender = settings["MAIL_FROM"]
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = rendered.subject
    mail["Date"] = format_datetime(utcnow())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "tribune.local"
    # The same on every attempt: a receiver that got a retry knows it is the same mail.
    mail["Message-ID"] = f"<{message.delivery_id}@{domain}>"
    mail["X-Tribune-Delivery-Id"] = message.delivery_id
    mail["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_path:
        base = public_url(settings)
        mail["List-Unsubscribe"] = f"<{base}{message.unsubscribe_path}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    return mail
