"""A campaign: one process run for every eligible org unit at once (e.g. the year's branch assessment)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import UTCDateTime, db

CAMPAIGN_STATUSES = ("running", "confirmed")


class Campaign(db.Model):
    __tablename__ = "campaign"
    __table_args__ = (Index("ix_campaign_process_year", "process_key", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date] = mapped_column(Date)
    launched_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    launched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    #: what the campaign ran with: reviewers, scope units, excluded units with reasons, quotas, confirmations
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
