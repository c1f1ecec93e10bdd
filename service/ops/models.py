"""Failed background jobs: attempts with backoff, then an incident for an admin."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import UTCDateTime, db

# retrying: the worker tries again at next_attempt_at; incident: attempts used up, an admin decides;
# resolved: it ran after all (or an admin retried it successfully); dismissed: an admin let it be
JOB_STATUSES = ("retrying", "incident", "resolved", "dismissed")


class JobFailure(db.Model):
    """One row per (job kind, case): the latest run of failures of that job for that case."""

    __tablename__ = "job_failure"
    __table_args__ = (
        UniqueConstraint("kind", "instance_id", name="uq_job_failure_kind_instance"),
        Index("ix_job_failure_status", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "timer": firing the case's due timers
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="retrying")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
