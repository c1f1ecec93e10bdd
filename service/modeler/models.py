"""Process models and their immutable versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.extensions import UTCDateTime, db


class ProcessModel(db.Model):
    __tablename__ = "process_model"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    subject_kind: Mapped[str] = mapped_column(String(16))
    latest_version: Mapped[int] = mapped_column(Integer, default=0)

    versions: Mapped[list[ProcessVersion]] = relationship(
        back_populates="model", order_by="ProcessVersion.number", lazy="raise_on_sql")


class ProcessVersion(db.Model):
    """Never updated after insert: running instances point at the version they started on."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("model_id", "number", name="uq_process_version_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("process_model.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # the large columns load only when read: a step normally finds the parsed spec in memory
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    dmn: Mapped[dict] = mapped_column(JSON, default=dict, deferred=True)  # file name -> DMN XML
    forms: Mapped[dict] = mapped_column(JSON, default=dict, deferred=True)  # form file -> JSON document
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    checksum: Mapped[str] = mapped_column(String(64))
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    comment: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    model: Mapped[ProcessModel] = relationship(back_populates="versions", lazy="joined")
