"""Instances (one per case), the human-task projection the inbox reads, and message waits."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.extensions import UTCDateTime, db
from service.modeler.models import ProcessVersion

INSTANCE_STATUSES = ("running", "completed", "suspended", "terminated", "error")


class Instance(db.Model):
    __tablename__ = "instance"
    __table_args__ = (
        Index("ix_instance_process_status", "process_key", "status"),
        Index("ix_instance_subject", "subject"),
        # the worker's claim order over the cases waiting on a timer (migration 0014)
        Index("ix_instance_due_timers", "next_timer_at", "id",
              postgresql_where=text("status = 'running' AND next_timer_at IS NOT NULL"),
              sqlite_where=text("status = 'running' AND next_timer_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    subject_unit: Mapped[str | None] = mapped_column(String(64), index=True)  # org unit code for scoping
    status: Mapped[str] = mapped_column(String(16), default="running")
    outcome: Mapped[str | None] = mapped_column(String(64))
    milestone: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(Text)  # serialized workflow, without the spec
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timer_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[dict | None] = mapped_column(JSON)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)  # a few data values for lists
    started_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)  # service/campaigns

    version: Mapped[ProcessVersion] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": revision}


class HumanTask(db.Model):
    """One row per user task that became ready; kept after completion as history."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_queue", "status", "lane_role", "scope_unit"),
        Index("ix_human_task_assignee", "status", "assigned_user_id"),
        Index("ix_human_task_claimed", "status", "claimed_by"),
        Index("ix_human_task_delegated", "status", "delegated_to"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # our id (the API's task id)
    engine_task_id: Mapped[str] = mapped_column(String(36), index=True)  # the engine's task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))  # BPMN element id
    title: Mapped[str] = mapped_column(String(200))
    lane_role: Mapped[str | None] = mapped_column(String(64))
    scope_unit: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(16), default="ready")  # ready | completed | cancelled
    form_schema: Mapped[str | None] = mapped_column(String(200))
    form_ui_schema: Mapped[str | None] = mapped_column(String(200))
    instructions: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 委派: while delegated_to is set only that user works on it; their data comes back as a proposal
    delegated_to: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    delegated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    proposal: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    instance: Mapped[Instance] = relationship(lazy="raise_on_sql")


class MessageWait(db.Model):
    """Which instances wait for which message name (so a thrown message finds its catchers)."""

    __tablename__ = "message_wait"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class Policy(db.Model):
    """An admin's override of a process policy default (see ProcessDefinition.policies)."""

    __tablename__ = "policy"

    process_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)  # {"value": ...}
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)




class CaseCopy(db.Model):
    """抄送: a case copied to a user for information; they may then see it."""

    __tablename__ = "case_copy"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True, index=True)
    copied_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StandIn(db.Model):
    """代理: while `user_id` is away (starts_on..ends_on, inclusive) `stand_in_id` handles their tasks."""

    __tablename__ = "stand_in"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    stand_in_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
