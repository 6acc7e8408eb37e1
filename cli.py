"""`flask --app app tribune …`: migrate, create-user, set-password, seed-demo, recount, worker,
purge, transparency, backup, restore."""

from __future__ import annotations

import fcntl
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from flask import Blueprint, current_app
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from accounts.services import Registration, register_user, set_password, username_key
from db import session_scope
from demo.seed import seed_demo
from dsa.transparency import FORMATS, build_report, period
from errors import DomainError
from migrations import upgrade_database
from models import Role, User
from ops.backup import (
    BackupError,
    backup_sqlite,
    pg_dump_command,
    pg_restore_command,
    restore_sqlite,
    sqlite_file,
)
from outbox import run_worker
from outbox.mail import MailUrlError, transport_from_url
from privacy.retention import run_purge
from tallies.recount import recount

bp = Blueprint("tribune", __name__, cli_group="tribune")

SET_PASSWORD_HINT = "Kies een nieuw met: flask --app app tribune set-password NAAM"


@bp.cli.command("migrate")
@click.option("--revision", default="head", show_default=True)
def migrate_command(revision: str) -> None:
    """Apply Alembic migrations to the configured database."""
    url = current_app.config["DATABASE_URL"]
    upgrade_database(url, revision)
    # Fresh statistics, so the planner picks the queue indexes (PostgreSQL's autovacuum does
    # this by itself; SQLite only when asked).
    if url.startswith("sqlite"):
        with session_scope(current_app) as session:
            session.execute(text("ANALYZE"))
    click.echo(f"Database at revision {revision}.")


def _read_password() -> str:
    """Prompt on a terminal (twice); read one line from a pipe."""
    if sys.stdin.isatty():
        return click.prompt("Wachtwoord", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@bp.cli.command("create-user")
@click.argument("username")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default=Role.FAN.value, show_default=True
)
@click.option("--email", default=None, help="Defaults to USERNAME@tribune.local")
def create_user_command(username: str, role: str, email: str | None) -> None:
    """Create an account; the password comes from a prompt or from stdin."""
    password = _read_password()
    try:
        with session_scope(current_app) as session:
            user = register_user(
                session,
                Registration(username, email or f"{username.lower()}@tribune.local", password),
                current_app.config["TRIBUNE_PASSWORD_METHOD"],
                Role(role),
                verified=True,  # an administrator made it: the address counts as confirmed
            )
            click.echo(f"Account {user.username} ({user.role.value}) aangemaakt.")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


@bp.cli.command("set-password")
@click.argument("username")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new password from one line of stdin instead of prompting (twice, hidden).",
)
def set_password_command(username: str, password_stdin: bool) -> None:
    """Give an account a new password (the registration's rules); its sessions all end."""
    by_name = select(User).where(User.username_key == username_key(username))
    with session_scope(current_app, write=False) as session:
        if session.scalar(by_name) is None:
            raise click.ClickException(f"Er is geen account met de naam {username}.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Nieuw wachtwoord", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(current_app) as session:
            user = session.scalars(by_name).one()
            set_password(session, user, password, current_app.config["TRIBUNE_PASSWORD_METHOD"])
            click.echo(f"Nieuw wachtwoord voor {user.username}; al zijn sessies zijn afgemeld.")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


@bp.cli.command("seed-demo")
def seed_demo_command() -> None:
    """Fill the database with the demo (idempotent); prints new demo passwords once."""
    with session_scope(current_app) as session:
        report = seed_demo(session, current_app.config["TRIBUNE_PASSWORD_METHOD"])
    click.echo(
        f"Demo: {report.articles_created} artikels, {report.comments_created} reacties, "
        f"{report.ballots_created} stemmen aangemaakt."
    )
    if report.created_accounts:
        click.echo("Demo-accounts (de wachtwoorden worden maar één keer getoond):")
        for username, role, password in report.created_accounts:
            click.echo(f"  {username:<10} {role:<10} {password}")
    else:
        click.echo("Demo-accounts bestonden al; hun wachtwoorden blijven ongewijzigd.")
    click.echo(f"Wachtwoord kwijt? {SET_PASSWORD_HINT}")


@bp.cli.command("recount")
def recount_command() -> None:
    """Rebuild every counter from the rows and report the drift that was fixed."""
    with session_scope(current_app) as session:
        drifts = recount(session)
    if not drifts:
        click.echo("Alle tellers kloppen.")
        return
    for drift in drifts:
        click.echo(f"{drift.counter} [{drift.key}]: {drift.stored} -> {drift.actual}")
    click.echo(f"{len(drifts)} tellers hersteld.")


@bp.cli.command("transparency")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
def transparency_command(first: datetime, last: datetime, fmt: str) -> None:
    """The DSA transparency report of Belgian days FROM to TO (both included), to stdout."""
    try:
        chosen = period(first.date(), last.date())
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    with session_scope(current_app, write=False) as session:
        report = build_report(session, chosen)
    click.echo(report.to_csv() if fmt == "csv" else report.to_json(), nl=fmt != "csv")


@bp.cli.command("purge")
def purge_command() -> None:
    """Erase what the retention settings no longer keep (IP hashes, rejected comments' text)."""
    with session_scope(current_app) as session:
        report = run_purge(session, current_app.config)
    click.echo(
        f"Bewaartermijnen: {report.ip_hashes_erased} IP-hashes en "
        f"{report.bodies_erased} reactieteksten gewist."
    )


@bp.cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH when it exists.")
def backup_command(path: Path, force: bool) -> None:
    """SQLite: copy the live database to PATH (online backup API). PostgreSQL: print the
    pg_dump command for the configured database (without its password)."""
    url = current_app.config["DATABASE_URL"]
    try:
        database = sqlite_file(url)
        if database is None:
            click.echo("PostgreSQL: maak de back-up met pg_dump (wachtwoord via PGPASSWORD of")
            click.echo("~/.pgpass):")
            click.echo(pg_dump_command(url, path))
            return
        backup_sqlite(database, path, force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Back-up van {database} geschreven naar {path}.")


@bp.cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database that holds data.")
def restore_command(path: Path, force: bool) -> None:
    """SQLite: copy the backup PATH over the configured database (stop the web workers
    first). PostgreSQL: print the pg_restore command."""
    url = current_app.config["DATABASE_URL"]
    try:
        database = sqlite_file(url)
        if database is None:
            click.echo("PostgreSQL: zet de back-up terug met pg_restore:")
            click.echo(pg_restore_command(url, path))
            return
        # This process's own connections would keep pages of the old file.
        current_app.extensions["tribune.engine"].dispose()
        restore_sqlite(path, database, force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{path} teruggezet in {database}. Controleer de tellers met: tribune recount")


@bp.cli.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due and run due jobs, then stop.")
def worker_command(once: bool) -> None:
    """Deliver the outbox (mail, webhooks) and run the periodic jobs until stopped."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config
    try:
        transport_from_url(settings["MAIL_URL"], Path(settings["TRIBUNE_MAIL_DIRECTORY"]))
    except MailUrlError as error:
        raise click.ClickException(str(error)) from None
    with single_sqlite_worker(settings["DATABASE_URL"], once):
        where = settings["MAIL_URL"] or f"{settings['TRIBUNE_MAIL_DIRECTORY']} (.eml files)"
        click.echo(f"Worker: mail to {where}; Ctrl-C stops.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            report = run_worker(
                app.extensions["tribune.sessionmaker"],
                settings,
                once=once,
                stop=stop,
            )
        except KeyboardInterrupt:
            return
        if once:
            click.echo(f"Delivered {report.claimed} message(s); jobs run: {len(report.jobs)}.")


@contextmanager
def single_sqlite_worker(database_url: str, once: bool) -> Iterator[None]:
    """On SQLite one worker at a time (a lock file beside the database); PostgreSQL: any."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        yield
        return
    lock_path = Path(url.database + ".worker-lock")
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if once:
                raise click.ClickException(
                    "Another worker is running on this SQLite database; one at a time."
                ) from None
            click.echo("Another worker is running on this SQLite database; waiting for it.")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
