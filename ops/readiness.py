"""Readiness: is this instance fit to take traffic? The database answers, Redis answers (when
configured) and the database's schema is at the migrations' head."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from migrations import alembic_config

OK = "ok"
SKIPPED = "skipped"  # Redis without REDIS_URL


@dataclass(frozen=True)
class Readiness:
    """Each part's state: `ok`, `skipped`, or a short word for what is wrong."""

    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(state in (OK, SKIPPED) for state in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, state in self.checks.items() if state not in (OK, SKIPPED)]


@cache
def script_heads() -> frozenset[str]:
    """The head revision(s) of the code's migrations (read once per process: the scripts do not
    change while it runs)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(script.get_heads())


def check(engine: Engine, redis_client: object | None) -> Readiness:
    """Check the database (and its schema revision), then Redis; never raises."""
    checks: dict[str, str] = {}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
            connection.rollback()
    except Exception:
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    else:
        checks["database"] = OK
        if current == script_heads():
            checks["migrations"] = OK
        elif not current:
            checks["migrations"] = "not_migrated"
        else:
            checks["migrations"] = "not_at_head"
    if redis_client is None:
        checks["redis"] = SKIPPED
    else:
        try:
            redis_client.ping()  # type: ignore[attr-defined]
            checks["redis"] = OK
        except Exception:
            checks["redis"] = "unreachable"
    return Readiness(checks)
