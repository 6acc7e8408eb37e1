"""POST one webhook over HTTP(S) with the standard library, refusing private addresses.

The address check is made on the addresses the connection really uses (resolved once, then
connected to by number), so a name that resolves to a public address when it is checked and
to 127.0.0.1 when it is used (DNS rebinding) cannot reach the inside. Redirects are not
followed: a 3xx is a failed delivery like any other non-2xx answer.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

RESPONSE_READ_MAX = 4096  # bytes of the receiver's answer read (only its status matters)


class PrivateAddress(OSError):
    """The endpoint's host resolves to an address that is not public (SSRF guard)."""


@dataclass(frozen=True)
class PostResult:
    """What one POST got: a status code, or the error that prevented one."""

    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


def is_public(address: str) -> bool:
    """Whether an IP address is publicly routable (not loopback, private, link-local, shared,
    reserved, multicast or unspecified; an IPv4-mapped IPv6 address counts as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def guarded_socket(host: str, port: int, timeout: float, allow_private: bool) -> socket.socket:
    """A connected socket to `host`, refusing any non-public address unless allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"name not resolved: {host}") from exc
    if not allow_private:
        refused = [info[4][0] for info in infos if not is_public(str(info[4][0]))]
        if refused:
            raise PrivateAddress(f"{host} resolves to a private address ({refused[0]})")
    last: OSError | None = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    raise last or OSError(f"no address for {host}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, timeout: float, allow_private: bool) -> None:
        super().__init__(host, port, timeout=timeout)
        self.timeout_seconds = timeout
        self.allow_private = allow_private

    def connect(self) -> None:
        self.sock = guarded_socket(self.host, self.port, self.timeout_seconds, self.allow_private)


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, timeout: float, allow_private: bool) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.timeout_seconds = timeout
        self.allow_private = allow_private

    def connect(self) -> None:
        sock = guarded_socket(self.host, self.port, self.timeout_seconds, self.allow_private)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_private: bool,
) -> PostResult:
    """POST `body` to `url`; any answer gives its status, anything else an error text
    ("timeout", "private_address: …", "connection_failed: …")."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    factory = _GuardedHTTPSConnection if secure else _GuardedHTTPConnection
    connection = factory(host, port, timeout, allow_private)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_MAX)
        return PostResult(response.status, None)
    except PrivateAddress as exc:
        return PostResult(None, f"private_address: {exc}")
    except TimeoutError:
        return PostResult(None, "timeout")
    except (OSError, http.client.HTTPException) as exc:
        return PostResult(None, f"connection_failed: {exc or type(exc).__name__}")
    finally:
        connection.close()
