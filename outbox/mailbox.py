"""Development: the mails the file transport wrote under instance/mail/ (/beheer/mail)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path

# Delivery ids are hex: a name that is not one never reaches the file system.
MAIL_NAME = re.compile(r"^[0-9a-f]{32}$")
LIST_LIMIT = 200


@dataclass(frozen=True)
class StoredMail:
    name: str
    subject: str
    to: str
    date: str
    text: str
    links: list[str]
    headers: dict[str, str]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith(("http://", "https://")):
            self.links.append(href)


def _read(path: Path) -> StoredMail:
    with path.open("rb") as handle:
        mail = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(mail, EmailMessage)
    text_part = mail.get_body(preferencelist=("plain",))
    html_part = mail.get_body(preferencelist=("html",))
    parser = _Links()
    if html_part is not None:
        parser.feed(html_part.get_content())
    return StoredMail(
        name=path.stem,
        subject=str(mail["Subject"] or ""),
        to=str(mail["To"] or ""),
        date=str(mail["Date"] or ""),
        text=text_part.get_content() if text_part is not None else "",
        links=list(dict.fromkeys(parser.links)),
        headers={key: str(value) for key, value in mail.items()},
    )


def list_mails(directory: Path) -> list[StoredMail]:
    """The newest mails first (at most LIST_LIMIT)."""
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [_read(path) for path in paths[:LIST_LIMIT]]


def read_mail(directory: Path, name: str) -> StoredMail | None:
    """One stored mail by its delivery id, or None."""
    if not MAIL_NAME.match(name):
        return None
    path = directory / f"{name}.eml"
    return _read(path) if path.is_file() else None
