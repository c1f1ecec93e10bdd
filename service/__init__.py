"""The Flask service. `create_app()` builds one; `flask --app service ...` finds it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine as SAEngine

from .config import from_environment

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


@event.listens_for(SAEngine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # with WAL, NORMAL is safe against application crashes (a power cut may lose the last commits)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.from_mapping(from_environment(Path(app.instance_path)))
    app.config.update(
        API_TITLE="党建带团建 BPM API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    if test_config:
        app.config.update(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # a server database may drop idle connections; a SQLite file cannot
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from . import errors
    from .api import register_api
    from .cli import register_cli
    from .extensions import db, migrate
    from .ops import init_ops
    from .runtime import init_runtime

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    init_runtime(app)
    errors.register(app)
    init_ops(app)  # health, readiness, metrics, request logs (first, so they time the whole request; no login)
    register_api(app)
    register_cli(app)
    from .home.routes import bp as home_bp
    from .webui import init_web

    app.register_blueprint(home_bp)
    init_web(app)  # the server-rendered pages: language, CSRF, login session, inbox
    return app
