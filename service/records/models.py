"""The subject_record table: what finished cases recorded about a person or an org unit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import UTCDateTime, db


class SubjectRecord(db.Model):
    __tablename__ = "subject_record"
    __table_args__ = (Index("ix_subject_record_subject", "subject_kind", "subject", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # person | org_unit
    subject: Mapped[str] = mapped_column(String(64))  # person id or org unit code
    kind: Mapped[str] = mapped_column(String(64))  # e.g. training_certificate, reelection, contact_visit
    year: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
