"""The outbox: written in the event's transaction, delivered by the worker to a real SMTP
server, retried with backoff, dead after the last attempt, retried by an admin, in order per
recipient, once under two workers, within each address's hourly allowance."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import MessageState, OutboxAttempt, OutboxMessage, Role, User, utcnow
from outbox import enqueue_mail, retry_message, run_worker
from outbox.delivery import backoff, deliver_due, deliverers
from outbox.mail import MailUrlError, SmtpTransport, transport_from_url
from tests.conftest import login
from tests.mail_server import SmtpSink, free_port


def queue_mail(db: Session, to: str, n: int = 1, **extra: Any) -> list[OutboxMessage]:
    messages = [
        enqueue_mail(
            db,
            to=to,
            template="outbox_test",
            context={"name": f"Fan {i}"},
            kind="test",
            **extra,
        )
        for i in range(n)
    ]
    db.commit()
    return messages


def work(app: Flask, **settings: Any) -> None:
    """Run one worker until nothing is due (with settings changed for this run)."""
    run_worker(app.extensions["tribune.sessionmaker"], {**app.config, **settings}, once=True)


def stored(db: Session, message: OutboxMessage) -> OutboxMessage:
    db.rollback()
    db.expire_all()
    found = db.get(OutboxMessage, message.id)
    assert found is not None
    return found


def test_a_message_commits_or_rolls_back_with_its_transaction(app: Flask, db: Session) -> None:
    enqueue_mail(db, to="a@example.test", template="outbox_test", context={"name": "A"}, kind="x")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    queue_mail(db, "a@example.test")
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_worker_delivers_a_dutch_mail_with_text_and_html_parts(
    mail_settings: dict[str, Any], app: Flask, db: Session, smtp_server: SmtpSink
) -> None:
    [message] = queue_mail(db, "Fan@Example.test", unsubscribe_path="/meldingen/afmelden/abc")
    work(app)
    [mail] = smtp_server.messages()
    assert mail["To"] == "Fan@Example.test"
    assert mail["From"] == app.config["MAIL_FROM"]
    assert mail["Subject"] == "Testbericht van Tribune"
    assert mail["Message-ID"] == f"<{message.delivery_id}@tribune.local>"
    assert mail["List-Unsubscribe"] == "<http://127.0.0.1:5000/meldingen/afmelden/abc>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "Hallo Fan 0," in text.get_content()
    assert "Geen mails meer van deze soort? http://127.0.0.1:5000/meldingen/afmelden/abc" in (
        text.get_content()
    )
    assert '<html lang="nl-BE">' in html.get_content()
    done = stored(db, message)
    assert done.state is MessageState.SENT and done.attempts == 1 and done.sent_at is not None
    [attempt] = db.scalars(select(OutboxAttempt)).all()
    assert attempt.ok and attempt.status_code == 250


def test_html_part_escapes_what_the_context_carries(
    mail_settings: dict[str, Any], app: Flask, db: Session, smtp_server: SmtpSink
) -> None:
    enqueue_mail(
        db, to="x@example.test", template="outbox_test",
        context={"name": "<script>alert(1)</script>"}, kind="test",
    )  # fmt: skip
    db.commit()
    work(app)
    [mail] = smtp_server.messages()
    html = mail.get_body(preferencelist=("html",))
    text = mail.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    assert "&lt;script&gt;" in html.get_content() and "<script>" not in html.get_content()
    assert "<script>alert(1)</script>" in text.get_content()  # plain text is not HTML


def test_receiver_down_then_up_delivers_once_and_in_order(
    app_settings: dict[str, Any], tmp_path: Path
) -> None:
    sink = SmtpSink()  # not started: the receiver is down
    app_settings.update(MAIL_URL=sink.url, TRIBUNE_OUTBOX_BACKOFF_SECONDS=60.0)
    from app import create_app

    app = create_app(app_settings)
    db = app.extensions["tribune.sessionmaker"]()
    try:
        first, second = queue_mail(db, "fan@example.test", 2)
        other = queue_mail(db, "other@example.test")[0]
        work(app)
        # The first failed and waits for its retry; the second waits behind it; nothing lost.
        assert stored(db, first).state is MessageState.FAILED
        assert stored(db, first).attempts == 1
        assert stored(db, second).state is MessageState.PENDING
        assert stored(db, second).attempts == 0
        assert stored(db, other).state is MessageState.FAILED
        failed_at = stored(db, first).next_attempt_at
        assert failed_at > utcnow() + timedelta(seconds=50)  # the backoff holds it back
        work(app)
        assert stored(db, first).attempts == 1  # not retried before its time
        sink.start()
        try:
            later = lambda: utcnow() + timedelta(minutes=5)  # noqa: E731
            run_worker(app.extensions["tribune.sessionmaker"], app.config, once=True, now=later)
            subjects = [(m["To"], m["Message-ID"]) for m in sink.messages()]
        finally:
            sink.stop()
        ids = [m.delivery_id for m in (first, second)]
        fan_mails = [mid for to, mid in subjects if to == "fan@example.test"]
        assert fan_mails == [f"<{i}@tribune.local>" for i in ids]  # once each, in order
        assert len(subjects) == 3
        assert all(stored(db, m).state is MessageState.SENT for m in (first, second, other))
    finally:
        db.close()
        app.extensions["tribune.engine"].dispose()


def test_real_smtp_refusal_is_retried_then_dead_then_an_admin_retries(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    make_user: Callable[..., User],
) -> None:
    smtp_server.refuse_with = "451 4.3.0 Probeer later opnieuw"
    [message] = queue_mail(db, "fan@example.test")
    work(app, TRIBUNE_OUTBOX_MAX_ATTEMPTS=3)
    dead = stored(db, message)
    assert dead.state is MessageState.DEAD and dead.attempts == 3
    attempts = db.scalars(select(OutboxAttempt).order_by(OutboxAttempt.id)).all()
    assert [a.ok for a in attempts] == [False, False, False]
    assert {a.status_code for a in attempts} == {451}
    assert "Probeer later opnieuw" in (dead.last_error or "")
    work(app, TRIBUNE_OUTBOX_MAX_ATTEMPTS=3)
    assert stored(db, message).attempts == 3  # dead is dead: no more tries by itself
    assert smtp_server.messages() == []

    # The admin page lists it with a retry button; the button brings it back.
    admin = make_user(Role.ADMIN)
    client = app.test_client()
    login(client, admin)
    page = client.get("/beheer/bezorging?toestand=dead")
    assert page.status_code == 200
    assert b"opgegeven" in page.data and b"Opnieuw versturen" in page.data
    detail = client.get(f"/beheer/bezorging/{message.id}")
    assert b"451" in detail.data
    smtp_server.refuse_with = None
    answer = client.post(f"/beheer/bezorging/{message.id}/opnieuw")
    assert answer.status_code == 303
    assert stored(db, message).state is MessageState.PENDING
    work(app, TRIBUNE_OUTBOX_MAX_ATTEMPTS=3)
    assert stored(db, message).state is MessageState.SENT
    assert len(smtp_server.messages()) == 1
    # A sent message cannot be "retried".
    again = client.post(
        f"/beheer/bezorging/{message.id}/opnieuw", headers={"Accept": "application/json"}
    )
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "message_not_retryable"


def test_delivery_pages_are_for_admins_only(app: Flask, make_user: Callable[..., User]) -> None:
    client = app.test_client()
    assert client.get("/beheer/bezorging").status_code in (302, 401)
    login(client, make_user(Role.MODERATOR))
    assert client.get("/beheer/bezorging").status_code == 403
    assert client.post("/beheer/bezorging/1/opnieuw").status_code == 403


def test_retry_of_a_missing_message_is_404(app: Flask, db: Session) -> None:
    from errors import NotFound

    with pytest.raises(NotFound):
        retry_message(db, 999)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff(n, 30, 3600).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(20, 30, 3600).total_seconds() == 3600


def test_a_lease_that_ran_out_is_taken_again(
    mail_settings: dict[str, Any], app: Flask, db: Session, smtp_server: SmtpSink
) -> None:
    [message] = queue_mail(db, "fan@example.test")
    row = stored(db, message)
    row.state = MessageState.SENDING  # a worker took it and died
    row.lease_until = utcnow() + timedelta(minutes=2)
    db.commit()
    work(app)
    assert smtp_server.messages() == []  # its lease still runs
    row = stored(db, message)
    row.lease_until = utcnow() - timedelta(seconds=1)
    db.commit()
    work(app)
    assert len(smtp_server.messages()) == 1
    assert stored(db, message).state is MessageState.SENT


def test_hourly_allowance_per_address_defers_and_loses_nothing(
    mail_settings: dict[str, Any], app: Flask, db: Session, smtp_server: SmtpSink
) -> None:
    messages = queue_mail(db, "fan@example.test", 3)
    queue_mail(db, "other@example.test")
    work(app, TRIBUNE_MAIL_PER_RECIPIENT_PER_HOUR=2)
    assert [m["To"] for m in smtp_server.messages()].count("fan@example.test") == 2
    assert [m["To"] for m in smtp_server.messages()].count("other@example.test") == 1
    third = stored(db, messages[2])
    assert third.state is MessageState.PENDING and third.attempts == 0
    assert third.next_attempt_at > utcnow() + timedelta(minutes=55)
    later = lambda: utcnow() + timedelta(hours=1, minutes=1)  # noqa: E731
    run_worker(
        app.extensions["tribune.sessionmaker"],
        {**app.config, "TRIBUNE_MAIL_PER_RECIPIENT_PER_HOUR": 2},
        once=True,
        now=later,
    )
    assert stored(db, messages[2]).state is MessageState.SENT


def test_two_workers_at_once_deliver_each_message_once_in_order(
    mail_settings: dict[str, Any], app: Flask, db: Session, smtp_server: SmtpSink
) -> None:
    recipients = [f"fan{n}@example.test" for n in range(8)]
    expected: dict[str, list[str]] = defaultdict(list)
    for _ in range(6):
        for to in recipients:
            [message] = queue_mail(db, to)
            expected[to].append(f"<{message.delivery_id}@tribune.local>")
    sessionmaker = app.extensions["tribune.sessionmaker"]
    channels = deliverers(app.config)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            while deliver_due(sessionmaker, app.config, channels, limit=5):
                pass
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    run_worker(sessionmaker, app.config, once=True)  # anything a race left for later
    got: dict[str, list[str]] = defaultdict(list)
    for mail in smtp_server.messages():
        got[str(mail["To"])].append(str(mail["Message-ID"]))
    assert got == expected  # each once, in order per recipient
    assert db.scalar(select(func.count()).select_from(OutboxAttempt)) == 48


def test_file_transport_writes_eml_listed_on_the_mail_page(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    [message] = queue_mail(db, "fan@example.test")
    work(app)
    path = Path(app.config["TRIBUNE_MAIL_DIRECTORY"]) / f"{message.delivery_id}.eml"
    assert path.is_file()
    work(app)  # nothing due: written once
    assert len(list(path.parent.glob("*.eml"))) == 1
    client = app.test_client()
    login(client, make_user(Role.ADMIN))
    listing = client.get("/beheer/mail")
    assert listing.status_code == 200 and b"Testbericht van Tribune" in listing.data
    page = client.get(f"/beheer/mail/{message.delivery_id}")
    assert page.status_code == 200
    assert b'href="http://127.0.0.1:5000/"' in page.data  # the mail's link, clickable
    assert client.get("/beheer/mail/../../secret_key").status_code == 404
    assert client.get("/beheer/mail/" + "0" * 32).status_code == 404


def test_mail_page_is_absent_when_mail_goes_to_smtp(
    mail_settings: dict[str, Any], app: Flask, make_user: Callable[..., User]
) -> None:
    client = app.test_client()
    login(client, make_user(Role.ADMIN))
    assert client.get("/beheer/mail").status_code == 404


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_tls_and_login(tls: str, app_settings: dict[str, Any], tmp_path: Path) -> None:
    sink = SmtpSink(tls=tls, cert_dir=tmp_path, login=("tribune", "geheim wachtwoord")).start()
    try:
        app_settings.update(MAIL_URL=sink.url, MAIL_CA_FILE=sink.ca_file)
        from app import create_app

        app = create_app(app_settings)
        db = app.extensions["tribune.sessionmaker"]()
        queue_mail(db, "fan@example.test")
        work(app)
        assert [m["To"] for m in sink.messages()] == ["fan@example.test"]
        # Without the certificate's CA the client refuses the server: a failed attempt.
        queue_mail(db, "fan2@example.test")
        work(app, MAIL_CA_FILE=None, TRIBUNE_OUTBOX_MAX_ATTEMPTS=1)
        last = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert last is not None and last.state is MessageState.DEAD
        assert "CERTIFICATE_VERIFY_FAILED" in (last.last_error or "")
        db.close()
        app.extensions["tribune.engine"].dispose()
    finally:
        sink.stop()


def test_wrong_password_is_a_failed_attempt(app_settings: dict[str, Any], tmp_path: Path) -> None:
    sink = SmtpSink(tls="starttls", cert_dir=tmp_path, login=("tribune", "juist")).start()
    try:
        url = sink.url.replace("tribune:juist", "tribune:fout")
        app_settings.update(
            MAIL_URL=url,
            MAIL_CA_FILE=sink.ca_file,
            TRIBUNE_OUTBOX_MAX_ATTEMPTS=1,
            TRIBUNE_MAIL_TIMEOUT_SECONDS=2.0,
        )
        from app import create_app

        app = create_app(app_settings)
        db = app.extensions["tribune.sessionmaker"]()
        [message] = queue_mail(db, "fan@example.test")
        work(app)
        dead = stored(db, message)
        # aiosmtpd answers 535 to the first mechanism smtplib tries, then stops answering.
        assert dead.state is MessageState.DEAD and dead.last_error.startswith("SMTP")
        assert sink.messages() == []
        db.close()
        app.extensions["tribune.engine"].dispose()
    finally:
        sink.stop()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.be", ("mail.example.be", 25, False, False, None)),
        ("smtp://mail.example.be:2525?starttls=1", ("mail.example.be", 2525, False, True, None)),
        ("smtps://u%40x:p%3Aw@mail.example.be", ("mail.example.be", 465, True, False, "u@x")),
    ],
)
def test_mail_url_forms(url: str, expected: tuple[Any, ...], tmp_path: Path) -> None:
    transport = transport_from_url(url, tmp_path)
    assert isinstance(transport, SmtpTransport)
    got = (transport.host, transport.port, transport.implicit_tls, transport.starttls,
           transport.username)  # fmt: skip
    assert got == expected


@pytest.mark.parametrize(
    "url", ["http://mail.example.be", "smtp://", "smtp://host:port", "smtps://h?starttls=1"]
)
def test_bad_mail_urls_are_refused_clearly(url: str, tmp_path: Path) -> None:
    with pytest.raises(MailUrlError, match="MAIL_URL"):
        transport_from_url(url, tmp_path)


def test_worker_command_once(
    mail_settings: dict[str, Any], app: Flask, db: Session, smtp_server: SmtpSink
) -> None:
    queue_mail(db, "fan@example.test", 2)
    result = app.test_cli_runner().invoke(args=["tribune", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Delivered 2 message(s)" in result.output
    assert len(smtp_server.messages()) == 2


def test_worker_command_refuses_a_bad_mail_url(app_settings: dict[str, Any]) -> None:
    from app import create_app

    app_settings["MAIL_URL"] = "smtp://host:port"
    app = create_app(app_settings)
    result = app.test_cli_runner().invoke(args=["tribune", "worker", "--once"])
    assert result.exit_code != 0 and "MAIL_URL" in result.output
    app.extensions["tribune.engine"].dispose()


def test_smtp_port_helper_gives_a_free_port() -> None:
    assert 1024 < free_port() < 65536
