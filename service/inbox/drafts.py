"""Drafts (草稿): save a task's form half-filled and come back to it. Unvalidated — a draft may be
incomplete — but only for a task the user may act on now, and of bounded size. None commits."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete

from service import clock
from service.auth.actor import Actor
from service.errors import ApiError, forbidden
from service.extensions import db
from service.instances import operations
from service.instances.access import may_act
from service.instances.models import HumanTask, Instance

from .actions import complete_task
from .models import TaskDraft

MAX_DRAFT_BYTES = 64 * 1024


def save_draft(actor: Actor, task_id: str, data: dict[str, Any]) -> TaskDraft:
    task = operations.get_task_for(actor, task_id)
    if task.status != "ready":
        raise ApiError(409, "task_not_ready")
    if not may_act(actor, task):
        raise forbidden()
    if task.claimed_by not in (None, actor.user_id):
        raise ApiError(409, "task_claimed")
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_DRAFT_BYTES:
        raise ApiError(413, "payload_too_large")
    draft = db.session.get(TaskDraft, (task.id, actor.user_id))
    if draft is None:
        draft = TaskDraft(task_id=task.id, user_id=actor.user_id)
        db.session.add(draft)
    draft.data, draft.saved_at = data, clock.now()
    return draft


def draft_for(actor: Actor, task: HumanTask) -> TaskDraft | None:
    return db.session.get(TaskDraft, (task.id, actor.user_id)) if task.status == "ready" else None


def complete_and_discard_draft(actor: Actor, task_id: str, data: dict[str, Any]) -> Instance:
    """Complete the task; its drafts (anyone's) go with it, in the same transaction."""
    instance = complete_task(actor, task_id, data)  # a delegate's completion is a proposal
    db.session.execute(delete(TaskDraft).where(TaskDraft.task_id == task_id))
    return instance
