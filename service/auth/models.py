from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import UTCDateTime, db


class LoginFailure(db.Model):
    """Failed logins, counted per username and per address for the rate limit (shared by all workers)."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_user_at", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
