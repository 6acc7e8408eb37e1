"""Operations routes for load balancers and Prometheus: /healthz, /readyz, /metrics.

No session cookie (@sessionless), no rate limit, never cached.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from flask.typing import ResponseReturnValue

from ops import metrics, readiness
from ops.web import RETRY_AFTER_SECONDS, check_metrics_access
from security import sessionless

bp = Blueprint("ops", __name__)

NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
@sessionless
def healthz() -> ResponseReturnValue:
    """The process answers: nothing else is checked (a liveness probe)."""
    return jsonify(status="ok"), 200, NO_STORE


@bp.get("/readyz")
@sessionless
def readyz() -> ResponseReturnValue:
    """Fit for traffic: database reachable, Redis reachable (when configured), migrations at
    head; else 503 naming the failing part."""
    state = readiness.check(
        current_app.extensions["tribune.engine"], current_app.extensions["tribune.redis"]
    )
    if state.ready:
        return jsonify(status="ok", checks=state.checks), 200, NO_STORE
    headers = {**NO_STORE, "Retry-After": str(RETRY_AFTER_SECONDS)}
    body = {"status": "unavailable", "failing": state.failing, "checks": state.checks}
    return jsonify(body), 503, headers


@bp.get("/metrics")
@sessionless
def prometheus_metrics() -> ResponseReturnValue:
    """Prometheus text format; from TRIBUNE_METRICS_NETWORKS or with TRIBUNE_METRICS_TOKEN."""
    check_metrics_access()
    body, content_type = metrics.render(current_app.extensions["tribune.metrics_scrape"])
    return Response(body, content_type=content_type, headers=NO_STORE)
