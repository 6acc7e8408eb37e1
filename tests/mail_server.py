"""A real SMTP server for tests (aiosmtpd on a free local port): it keeps what it receives,
can refuse mail with a real SMTP error, stop and start again on the same port, speak TLS
(STARTTLS or implicit) with a self-signed certificate, and require a login."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.refuse_with:
            return self.sink.refuse_with
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self.sink.lock:
            self.sink.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed)  # type: ignore[arg-type]
            )
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    """One SMTP server; `received` lists what it accepted, in order."""

    port: int = field(default_factory=free_port)
    tls: str | None = None  # None, "starttls" or "implicit"
    cert_dir: Path | None = None
    login: tuple[str, str] | None = None
    refuse_with: str | None = None  # e.g. "451 4.3.0 Try again later"
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        auth = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        query = "?starttls=1" if self.tls == "starttls" else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}{query}"

    @property
    def ca_file(self) -> str | None:
        return str(self.cert_dir / "cert.pem") if self.cert_dir else None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.login is not None
            and (data.login.decode(), data.password.decode()) == self.login
        )
        return AuthResult(success=ok)

    def start(self) -> SmtpSink:
        kwargs: dict[str, Any] = {}
        context = self._tls_context() if self.tls else None
        if self.tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        elif self.tls == "implicit":
            kwargs.update(ssl_context=context)
        if self.login:
            kwargs.update(
                authenticator=self._authenticate,
                # aiosmtpd counts only STARTTLS as TLS; an implicit-TLS socket is TLS anyway.
                auth_require_tls=self.tls == "starttls",
                auth_required=True,
            )
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **kwargs
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [item.message for item in self.received]

    def _tls_context(self) -> ssl.SSLContext:
        assert self.cert_dir is not None, "TLS needs cert_dir"
        cert, key = self.cert_dir / "cert.pem", self.cert_dir / "key.pem"
        if not cert.exists():
            write_self_signed(cert, key)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return context


def write_self_signed(cert_path: Path, key_path: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (the client trusts it through MAIL_CA_FILE)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """A plain SMTP server on a free port; point MAIL_URL at `smtp_server.url`."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_settings(app_settings: dict[str, Any], smtp_server: SmtpSink) -> dict[str, Any]:
    """The test app's settings with MAIL_URL on the test's SMTP server (use before `app`)."""
    app_settings["MAIL_URL"] = smtp_server.url
    return app_settings
