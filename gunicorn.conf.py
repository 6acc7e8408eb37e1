"""Gunicorn settings for production: gunicorn -c gunicorn.conf.py "app:create_app()".

Command-line options override these (`--bind 0.0.0.0:8000`, `--workers 4`); the README's
"Production" section shows the launch behind nginx.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

# Behind nginx on the same host; nginx is the only thing that talks to gunicorn
# (`--bind` or GUNICORN_CMD_ARGS="--bind …" for another address).
bind = "127.0.0.1:8000"

# Sync workers: each holds one request at a time, and a request is mostly CPU (rendering,
# screening) with short database and Redis waits, so gunicorn's rule of 2 per core + 1 keeps
# the cores busy while some wait. WEB_CONCURRENCY (gunicorn's own variable) overrides it.
# Each worker keeps at most pool_size + max_overflow database connections (db.make_engine:
# 5 + 10); a sync worker uses one or two, so PostgreSQL needs about 2 per worker.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"

# No preload: each worker builds its own app after the fork, so no database connection,
# Redis socket or prometheus value file is shared between processes, and a HUP reload picks
# up new code. Preloading would save a few MB per worker, not worth disposing pools after fork.
preload_app = False

# A request that takes 30 s is stuck (the slowest page answers in well under a second): the
# master kills the worker and starts another (see docs/architecture.md, "Faults"). On SIGTERM
# workers get 30 s to finish what they hold; nginx keeps connections open for 5 s.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, at different moments (a leak stays small).
max_requests = 10_000
max_requests_jitter = 1_000

# Only Tribune's ProxyFix (TRIBUNE_TRUSTED_PROXIES hops) believes X-Forwarded-*: gunicorn
# itself trusts no front end (its default would take X-Forwarded-Proto from 127.0.0.1, also
# when TRIBUNE_TRUSTED_PROXIES is 0). One place decides.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# The access log would hold client addresses; Tribune logs one line per request itself
# (TRIBUNE_LOG_FORMAT, no personal data). Errors go to stderr.
accesslog = None
errorlog = "-"

# Prometheus multiprocess mode: every worker writes its metrics to files in this directory
# and /metrics adds them up. The variable must be set before a worker imports
# prometheus_client, so here, in the master. Default: a fresh directory per start.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
if not os.environ.get(MULTIPROCESS_DIR):
    os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="tribune-metrics-")


def on_starting(server: Any) -> None:
    """Start with an empty metrics directory: files of an earlier run would be added in."""
    directory = Path(os.environ[MULTIPROCESS_DIR])
    directory.mkdir(parents=True, exist_ok=True)
    for entry in directory.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended (recycled, killed): its live gauges stop counting."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
