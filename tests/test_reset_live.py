"""Issue 17's first Done-when, end to end on real processes: the dev server (`flask run`) and
the outbox worker (`flask tribune worker`) as `make run` starts them, MAIL_URL pointing at a real
SMTP server (aiosmtpd). A user made with `tribune create-user NAME --email ADDRESS` asks for a
reset; the mail arrives within 10 s; its link sets a password that then logs in; the browser
that was signed in before is signed out.

Also a script: `python -m tests.test_reset_live` runs the same against a fresh SQLite database
and prints each step."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import requests

from tests.conftest import CHEAP_HASH
from tests.mail_server import SmtpSink, free_port

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "een oud maar goed wachtwoord"
NEW_PASSWORD = "een gloednieuw wachtwoord"
MAIL_WAIT_SECONDS = 10.0
STARTUP_SECONDS = 180.0
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", *args]


class LiveTribune:
    """`flask run` and `flask tribune worker` on one database, mail to `mail_url`."""

    def __init__(self, database_url: str, mail_url: str, instance: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "MAIL_URL": mail_url,
            "SECRET_KEY": "live-" + uuid.uuid4().hex,
            "TRIBUNE_PUBLIC_URL": self.base,
            "TRIBUNE_PASSWORD_METHOD": CHEAP_HASH,
            "TRIBUNE_REDIS_PREFIX": "tribune-live-" + uuid.uuid4().hex[:8],
            "RATELIMIT_KEY_PREFIX": "tribune-live-" + uuid.uuid4().hex[:8],
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs = instance / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _flask(*args),
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=STARTUP_SECONDS,
            check=True,
        )

    def _start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                _flask(*args), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        )

    def start(self) -> None:
        """Both processes, ready: the server answers and the worker said it runs (starting
        can take long on a busy machine; the 10 s of the Done-when count from the request)."""
        self._start("server", "run", "--host", "127.0.0.1", "--port", str(self.port))
        self._start("worker", "tribune", "worker")
        deadline = time.monotonic() + STARTUP_SECONDS
        server_up = False
        while not (server_up and "Worker: mail to" in self.log("worker")):
            if not server_up:
                with contextlib.suppress(requests.ConnectionError):
                    server_up = requests.get(self.base + "/login", timeout=5).status_code == 200
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "not started: server log:\n"
                    + self.log("server")
                    + "\nworker log:\n"
                    + self.log("worker")
                )
            time.sleep(0.1)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def form_post(browser: requests.Session, url: str, data: dict[str, str]) -> requests.Response:
    """POST a form as a browser does: the CSRF token from the form's page first."""
    page = browser.get(url, timeout=10)
    token = CSRF.search(page.text)
    assert token is not None, page.text[:500]
    return browser.post(url, data={**data, "csrf_token": token.group(1)}, timeout=10)


def signed_in(browser: requests.Session, base: str) -> bool:
    return browser.get(base + "/profiel", allow_redirects=False, timeout=10).status_code == 200


def wait_for_mail(smtp: SmtpSink, address: str, timeout: float) -> list[EmailMessage]:
    """The messages the SMTP server received for `address`, waiting up to `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        with smtp.lock:
            found = [item.message for item in smtp.received if address in item.envelope_to]
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.05)


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content())  # type: ignore[attr-defined]


def reset_end_to_end(live: LiveTribune, smtp: SmtpSink, say: object = None) -> float:
    """The Done-when, step by step; returns the seconds the reset mail took."""
    report = say if callable(say) else (lambda _text: None)
    name = "live_" + uuid.uuid4().hex[:8]
    address = f"{name}@example.test"
    live.run("tribune", "create-user", name, "--email", address, stdin=PASSWORD + "\n")
    report(f"create-user {name} --email {address}")
    live.start()
    report(f"server {live.base} and worker running; mail to {smtp.url}")

    old_browser = requests.Session()
    login = form_post(old_browser, live.base + "/login", {"login": name, "password": PASSWORD})
    assert login.history and login.history[0].status_code == 302, login.text[:500]
    assert signed_in(old_browser, live.base)

    browser = requests.Session()
    started = time.monotonic()
    asked = form_post(browser, live.base + "/wachtwoord-vergeten", {"email": address})
    assert asked.status_code == 200 and "Kijk in je mailbox" in asked.text
    mails = wait_for_mail(smtp, address, MAIL_WAIT_SECONDS)
    took = time.monotonic() - started
    assert mails, "no reset mail within 10 s; worker log:\n" + live.log("worker")
    report(f"reset mail arrived after {took:.2f} s: {mails[0]['Subject']}")
    text = part(mails[0], "plain")
    html = part(mails[0], "html")
    found = re.search(re.escape(live.base) + r"/wachtwoord-herstellen/[A-Za-z0-9_\-]+", text)
    assert found is not None, text
    assert found.group(0) in html

    done = form_post(
        browser, found.group(0), {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    )
    assert done.url == live.base + "/login" and "Je nieuwe wachtwoord is ingesteld" in done.text
    report("the link set a new password")
    assert not signed_in(old_browser, live.base)
    report("the session from before is gone")
    again = form_post(browser, live.base + "/login", {"login": name, "password": NEW_PASSWORD})
    assert again.history and again.history[0].status_code == 302, again.text[:500]
    assert signed_in(browser, live.base)
    report("the new password logs in")
    return took


def test_the_reset_mail_arrives_within_10_s_and_its_link_sets_a_password_that_logs_in(
    database_url: str, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    live = LiveTribune(database_url, smtp_server.url, tmp_path / "instance")
    try:
        took = reset_end_to_end(live, smtp_server)
    finally:
        live.stop()
    assert took < MAIL_WAIT_SECONDS


def main() -> int:
    """Show it on a fresh SQLite database: `python -m tests.test_reset_live`."""
    import tempfile

    from migrations import upgrade_database

    with tempfile.TemporaryDirectory() as scratch:
        database_url = f"sqlite:///{Path(scratch) / 'live.db'}"
        upgrade_database(database_url)
        smtp = SmtpSink().start()
        live = LiveTribune(database_url, smtp.url, Path(scratch) / "instance")
        try:
            reset_end_to_end(live, smtp, say=print)
        finally:
            live.stop()
            smtp.stop()
    print("ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
