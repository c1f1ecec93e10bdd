"""Configuration from the environment.

DATABASE_URL    SQLAlchemy URL; default: SQLite file instance/service.db (WAL mode)
SECRET_KEY      signing key; for development one is generated once and kept in instance/
ALLOW_CLOCK_OVERRIDE  "1" lets `timers run-due --now` (and tests) move the clock
ATTACHMENTS_DIR where uploaded evidence files are kept; default instance/attachments (made on demand)
ATTACHMENT_MAX_BYTES  largest accepted attachment; default 10 MB
ATTACHMENT_TYPES  comma-separated extensions accepted; default pdf,jpg,jpeg,png,docx,xlsx,txt
MAIL_ENABLED    "1" sends notification e-mails (off by default) through MAIL_SERVER:MAIL_PORT
                (MAIL_USE_TLS, MAIL_USERNAME, MAIL_PASSWORD, MAIL_SENDER)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance_path: Path) -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def normalise_database_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def from_environment(instance_path: Path) -> dict:
    default_db = f"sqlite:///{instance_path / 'service.db'}"
    attachment_max = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(os.environ.get("DATABASE_URL", default_db)),
        "ALLOW_CLOCK_OVERRIDE": os.environ.get("ALLOW_CLOCK_OVERRIDE", "") in {"1", "true", "yes"},
        "BPMN_DIR": os.environ.get("BPMN_DIR", str(PROJECT_ROOT / "bpmn")),
        "FORMS_DIR": os.environ.get("FORMS_DIR", str(PROJECT_ROOT / "forms")),
        "PROCESS_PACK": os.environ.get("PROCESS_PACK", "processes"),
        "SCRIPT_TIME_LIMIT": float(os.environ.get("SCRIPT_TIME_LIMIT", "2.0")),
        "TOKEN_LIFETIME_SECONDS": int(os.environ.get("TOKEN_LIFETIME_SECONDS", str(12 * 3600))),
        # werkzeug method string; tests use a cheap one
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        "LOGIN_RATE_LIMIT": int(os.environ.get("LOGIN_RATE_LIMIT", "10")),  # failures per 10 min
        "ATTACHMENTS_DIR": os.environ.get("ATTACHMENTS_DIR", str(instance_path / "attachments")),
        "ATTACHMENT_MAX_BYTES": attachment_max,
        "ATTACHMENT_TYPES": tuple(ext.strip().lower().lstrip(".") for ext in os.environ.get(
            "ATTACHMENT_TYPES", "pdf,jpg,jpeg,png,docx,xlsx,txt").split(",") if ext.strip()),
        # room for the largest attachment plus the multipart envelope
        "MAX_CONTENT_LENGTH": max(10 * 1024 * 1024, attachment_max + 1024 * 1024),
        "JSON_AS_ASCII": False,
        "MAIL_ENABLED": os.environ.get("MAIL_ENABLED", "") in {"1", "true", "yes"},
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "") in {"1", "true", "yes"},
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "bpm@localhost"),
    }
