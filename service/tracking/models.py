"""Saved searches: a user's named query of the search page, kept per user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import UTCDateTime, db
from service.instances.models import HumanTask, Instance


class SavedSearch(db.Model):
    __tablename__ = "saved_search"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_search_user_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: the search page's query string (e.g. "process=recommendation&status=running&columns=grade")
    query: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Indexes on other features' tables that only the tracking pages need; created by migration 0011 and
# declared here so the metadata matches the schema. Declaring an Index with bound columns attaches it.
Index("ix_instance_process_started", Instance.process_key, Instance.started_at)
Index("ix_instance_started", Instance.started_at)
Index("ix_human_task_step_times", HumanTask.status, HumanTask.process_key, HumanTask.name, HumanTask.created_at,
      HumanTask.completed_at)
Index("ix_human_task_instance_name", HumanTask.instance_id, HumanTask.name, HumanTask.status)
Index("ix_human_task_open_due", HumanTask.status, HumanTask.due_at, HumanTask.scope_unit, HumanTask.process_key,
      HumanTask.name, HumanTask.title, HumanTask.instance_id)
Index("ix_human_task_completed", HumanTask.status, HumanTask.completed_at, HumanTask.process_key, HumanTask.name,
      HumanTask.created_at, HumanTask.title)
