"""`tribune worker`: deliver the outbox and run the periodic jobs, until stopped.

Several workers may run at once on PostgreSQL (claims skip each other's locked rows; a
periodic job runs in one worker per period: the worker_jobs row decides). On SQLite the CLI
lets one worker run at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db import begin_write
from models import WorkerJob, utcnow
from outbox.delivery import SessionFactory, deliver_due, deliverers

log = logging.getLogger(__name__)

JobFunction = Callable[[Session, Mapping[str, Any], datetime], None]
# A step of every worker round that manages its own transactions (it calls a service outside
# any, as delivery does): returns how many items it worked on (0: nothing was due).
StepFunction = Callable[[SessionFactory, Mapping[str, Any], Callable[[], datetime]], int]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: JobFunction


_jobs: dict[str, PeriodicJob] = {}


def periodic_job(name: str, every_seconds: float) -> Callable[[JobFunction], JobFunction]:
    """Run the decorated function in the worker at most every `every_seconds`."""

    def register(function: JobFunction) -> JobFunction:
        _jobs[name] = PeriodicJob(name, timedelta(seconds=every_seconds), function)
        return function

    return register


_steps: dict[str, StepFunction] = {}


def worker_step(name: str) -> Callable[[StepFunction], StepFunction]:
    """Run the decorated function in every round of every worker, after the outbox delivery."""

    def register(function: StepFunction) -> StepFunction:
        _steps[name] = function
        return function

    return register


def run_steps(
    session_factory: SessionFactory,
    settings: Mapping[str, Any],
    now: Callable[[], datetime] = utcnow,
) -> int:
    """One round of every registered step; how many items they worked on together."""
    worked = 0
    for name in sorted(_steps):
        try:
            worked += _steps[name](session_factory, settings, now)
        except Exception:
            log.exception("worker step %s failed", name)
    return worked


def registered_jobs() -> list[PeriodicJob]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def claim_job(session: Session, job: PeriodicJob, now: datetime) -> bool:
    """Whether this worker runs `job` now: its row moves to now only if its period is over."""
    table = WorkerJob.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(table)
        .values(name=job.name, last_run_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(table.c.name)
    ).scalar()
    if inserted is not None:
        return True
    moved = session.execute(
        update(WorkerJob)
        .where(WorkerJob.name == job.name, WorkerJob.last_run_at <= now - job.every)
        .values(last_run_at=now)
    )
    return bool(getattr(moved, "rowcount", 0))


def run_due_jobs(
    session_factory: SessionFactory,
    settings: Mapping[str, Any],
    now: Callable[[], datetime] = utcnow,
    only: set[str] | None = None,
) -> list[str]:
    """Run every job whose period is over (each in its own transaction); returns their names."""
    ran = []
    for job in registered_jobs():
        if only is not None and job.name not in only:
            continue
        with session_factory() as session:
            begin_write(session)
            try:
                moment = now()
                if not claim_job(session, job, moment):
                    session.rollback()
                    continue
                job.run(session, settings, moment)
                session.commit()
                ran.append(job.name)
            except Exception:
                session.rollback()
                log.exception("periodic job %s failed", job.name)
    return ran


@dataclass
class WorkerReport:
    delivered_batches: int = 0
    claimed: int = 0
    stepped: int = 0  # items the worker steps (scoring) worked on
    jobs: list[str] = field(default_factory=list)


def run_worker(
    session_factory: SessionFactory,
    settings: Mapping[str, Any],
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    now: Callable[[], datetime] = utcnow,
) -> WorkerReport:
    """Deliver due messages and run due jobs; with `once`, until nothing is due, then return."""
    channels = deliverers(settings)
    stop = stop or threading.Event()
    interval = settings["TRIBUNE_WORKER_INTERVAL_SECONDS"]
    report = WorkerReport()
    while not stop.is_set():
        claimed = deliver_due(session_factory, settings, channels, now)
        report.claimed += claimed
        report.delivered_batches += bool(claimed)
        stepped = run_steps(session_factory, settings, now)
        report.stepped += stepped
        ran = run_due_jobs(session_factory, settings, now)
        report.jobs += ran
        if once and not claimed and not stepped and not ran:  # a job may have queued mail
            break
        if not claimed and not stepped:
            stop.wait(interval)
    return report
