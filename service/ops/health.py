"""Liveness (/healthz: the process answers) and readiness (/readyz: the database answers and its schema
is at the migrations' head). Neither needs a login; a load balancer polls them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from service.extensions import db

bp = Blueprint("ops_health", __name__)


def _head_revisions() -> set[str]:
    heads = current_app.extensions.get("ops_migration_heads")
    if heads is None:
        from alembic.script import ScriptDirectory

        directory = current_app.extensions["migrate"].directory
        heads = current_app.extensions["ops_migration_heads"] = set(ScriptDirectory(directory).get_heads())
    return heads


def readiness() -> tuple[bool, str]:
    """(ready, reason)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:
        db.session.rollback()
        current_app.logger.warning("readiness: database unreachable: %s", exc.__class__.__name__)
        return False, "database_unreachable"
    try:
        current = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:  # no version table: never migrated
        current = set()
    finally:
        db.session.rollback()  # end the read transaction either way
    if current != _head_revisions():
        return False, "migrations_pending"
    return True, "ok"


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Any:
    ready, reason = readiness()
    if ready:
        return jsonify(status="ready")
    return jsonify(status="unavailable", reason=reason), 503
