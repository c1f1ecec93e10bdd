"""Running in production: health and readiness, Prometheus metrics, structured request logs, and the
incidents of background jobs that failed too often (service/ops/jobs.py)."""

from __future__ import annotations

import os

from flask import Flask

# attempts before an incident; backoff base and cap; how long an idle claim may hold a case (PostgreSQL)
JOB_SETTINGS = {"JOB_MAX_ATTEMPTS": 3, "JOB_RETRY_BASE_SECONDS": 30.0, "JOB_RETRY_MAX_SECONDS": 3600.0,
                "JOB_LEASE_SECONDS": 300.0}


def init_ops(app: Flask) -> None:
    """Health, metrics and request logs (none needs a login). Pages and API register with the others."""
    from . import models  # noqa: F401  (the tables are part of the metadata)
    from .health import bp as health_bp
    from .logging import init_logging
    from .metrics import init_metrics

    for key, default in JOB_SETTINGS.items():
        app.config.setdefault(key, type(default)(os.environ.get(key, default)))
    init_logging(app)
    init_metrics(app)
    app.register_blueprint(health_bp)
