"""The mail account care sends, as a fan's mailbox sees it: the outbox worker delivers what
is due to a real SMTP server (aiosmtpd, tests/mail_server.py) and the tests read the messages
it received, with the outbox's kind of each (by its X-Tribune-Delivery-Id)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from models import OutboxMessage
from outbox import run_worker
from tests.mail_server import SmtpSink


@dataclass(frozen=True)
class Mail:
    to: str
    kind: str
    subject: str
    text: str
    html: str


class Mailbox:
    """Delivers the app's due mail to `smtp` and reads it back."""

    def __init__(self, app: Flask, smtp: SmtpSink) -> None:
        self.app = app
        self.smtp = smtp

    def deliver(self) -> list[Mail]:
        """Run one worker until nothing is due; every mail received so far, in order."""
        # A job that ran makes the worker look once more after its idle wait: keep it short.
        settings = {
            **self.app.config,
            "MAIL_URL": self.smtp.url,
            "TRIBUNE_WORKER_INTERVAL_SECONDS": 0.01,
        }
        sessionmaker = self.app.extensions["tribune.sessionmaker"]
        run_worker(sessionmaker, settings, once=True)
        with sessionmaker() as session:
            kinds = dict(
                session.execute(select(OutboxMessage.delivery_id, OutboxMessage.kind))
                .tuples()
                .all()
            )
        mails = []
        with self.smtp.lock:
            received = list(self.smtp.received)
        for item in received:
            message = item.message
            text = message.get_body(preferencelist=("plain",))
            html = message.get_body(preferencelist=("html",))
            assert text is not None and html is not None, "every mail has a text and an HTML part"
            for address in item.envelope_to:
                mails.append(
                    Mail(
                        to=address,
                        kind=kinds[str(message["X-Tribune-Delivery-Id"])],
                        subject=str(message["Subject"]),
                        text=text.get_content(),  # type: ignore[attr-defined]
                        html=html.get_content(),  # type: ignore[attr-defined]
                    )
                )
        return mails

    def to(self, address: str) -> list[Mail]:
        return [mail for mail in self.deliver() if mail.to == address]


def link(mail: Mail, prefix: str) -> str:
    """The path of the first link in the mail that starts with `prefix` (in both parts)."""
    found = re.search(re.escape(prefix) + r"[A-Za-z0-9_\-]+", mail.text)
    assert found is not None, mail.text
    assert found.group(0) in mail.html
    return found.group(0)
