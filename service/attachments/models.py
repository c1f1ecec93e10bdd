"""One row per uploaded file; the bytes live on disk under ATTACHMENTS_DIR, named by `storage_key`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import UTCDateTime, db


class Attachment(db.Model):
    __tablename__ = "attachment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a uuid4
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(ForeignKey("human_task.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))  # the uploader's name, sanitized; for display only
    content_type: Mapped[str] = mapped_column(String(100))  # from the checked type, never from the client
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)  # path under ATTACHMENTS_DIR
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
