"""Backups: SQLite through its online backup API (consistent while workers write); for
PostgreSQL the pg_dump / pg_restore commands for the configured database, without its password."""

from __future__ import annotations

import os
import shlex
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from writes.driver import BUSY_TIMEOUT_SECONDS

# Pages copied per step: between steps the source's writers may go on (SQLite restarts the
# copy when one of them changed a page already copied).
PAGES_PER_STEP = 1024


class BackupError(Exception):
    """Why a backup or a restore did not run (shown to the operator as is)."""


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for another database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("Deze SQLite-databank is geen bestand: er valt niets te bewaren.")
    return Path(url.database)


def _create_private(path: Path, force: bool) -> None:
    """Create `path` with mode 0600 (a copy of the database is as private as the database)."""
    if path.exists() and path.stat().st_size > 0 and not force:
        raise BackupError(f"{path} bestaat al; gebruik --force om het te overschrijven.")
    if path.exists():
        path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def backup_sqlite(database: Path, target: Path, force: bool = False) -> None:
    """Copy the live database into `target` (a consistent snapshot, also in WAL mode)."""
    if not database.exists():
        raise BackupError(f"De databank {database} bestaat niet.")
    _create_private(target, force)
    source = sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=PAGES_PER_STEP)
        # One file to carry around: the copy's pages out of its WAL, back to a rollback journal.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()


def check_backup(path: Path) -> None:
    """Refuse a file that is not an intact Tribune database."""
    if not path.is_file():
        raise BackupError(f"{path} bestaat niet.")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            intact = connection.execute("PRAGMA integrity_check").fetchone()
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is geen SQLite-databank ({exc}).") from None
    if intact != ("ok",):
        raise BackupError(f"{path} is beschadigd (integrity_check: {intact}).")
    if "alembic_version" not in tables:
        raise BackupError(f"{path} is geen Tribune-databank (geen alembic_version).")


def restore_sqlite(backup: Path, database: Path, force: bool = False) -> None:
    """Copy `backup` over the configured database file (refused over data without force).

    Stop the web workers first: the copy takes the database's write lock, but workers that
    keep connections would go on from their cached pages."""
    check_backup(backup)
    has_data = database.exists() and database.stat().st_size > 0
    if has_data and not force:
        raise BackupError(
            f"De databank {database} bestaat al en heeft gegevens; "
            "gebruik --force om ze te overschrijven."
        )
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    target = sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        source.backup(target, pages=PAGES_PER_STEP)
    finally:
        target.close()
        source.close()


def _connection_options(url: URL) -> list[str]:
    options = []
    if url.host:
        options += ["--host", url.host]
    if url.port:
        options += ["--port", str(url.port)]
    if url.username:
        options += ["--username", url.username]
    return options


def pg_dump_command(database_url: str, target: Path) -> str:
    """The pg_dump command that backs up the configured PostgreSQL database (no password:
    pg_dump reads it from PGPASSWORD or ~/.pgpass)."""
    url = make_url(database_url)
    words = ["pg_dump", "--format=custom", "--no-owner", *_connection_options(url)]
    words += ["--file", str(target), url.database or ""]
    return shlex.join(words)


def pg_restore_command(database_url: str, backup: Path) -> str:
    """The pg_restore command that restores such a dump into the configured database."""
    url = make_url(database_url)
    words = ["pg_restore", "--clean", "--if-exists", "--no-owner", *_connection_options(url)]
    words += ["--dbname", url.database or "", str(backup)]
    return shlex.join(words)
