"""The mail account care sends, as the tests read it (a link out of a mail to an address).

TEMPORARY pre-merge version: reads the local outbox stand-in; replaced by real delivery
through the outbox worker to an aiosmtpd server once the outbox core is merged."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask

import outbox


@dataclass(frozen=True)
class Mail:
    to: str
    kind: str
    subject: str
    text: str
    html: str


class Mailbox:
    def __init__(self, app: Flask) -> None:
        self.app = app
        outbox.SENT.clear()

    def deliver(self) -> list[Mail]:
        """Every mail sent so far, in order."""
        return [
            Mail(
                to=item["to"],
                kind=item["kind"],
                subject=item["template"],
                text=" ".join(str(value) for value in item["context"].values()),
                html="",
            )
            for item in outbox.SENT
        ]

    def to(self, address: str) -> list[Mail]:
        return [mail for mail in self.deliver() if mail.to == address]


def link(mail: Mail, prefix: str) -> str:
    """The path of the first link in the mail that starts with `prefix`."""
    found = re.search(re.escape(prefix) + r"[A-Za-z0-9_\-]+", mail.text)
    assert found is not None, mail.text
    return found.group(0)
