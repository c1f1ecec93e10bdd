"""Uploading, listing and fetching a case's attachments. Each checks access, changes, flushes and
audits; none commits.

Who may upload: with a task, whoever may act on that ready task (its evidence belongs to the step
they are doing); without one, anyone who can see the case, while it is running — the person a case
is about may hand in evidence too. Who may list and download: whoever can see the case; everybody
else gets a 404, as for the case itself."""

from __future__ import annotations

import uuid
from typing import IO

from sqlalchemy import select

from service import audit, clock
from service.auth.actor import Actor
from service.errors import ApiError, not_found
from service.extensions import db
from service.instances.access import can_view, may_act
from service.instances.models import HumanTask, Instance
from service.instances.operations import get_instance_for

from . import storage
from .models import Attachment


def _task_of(actor: Actor, instance: Instance, task_id: str) -> HumanTask:
    task = db.session.get(HumanTask, task_id)
    if task is None or task.instance_id != instance.id:
        raise ApiError(422, "validation_failed", details=[{"field": "task_id", "message": "no such step of this case"}])
    if task.status != "ready":
        raise ApiError(409, "task_not_ready")
    if not may_act(actor, task):
        raise ApiError(403, "forbidden")
    return task


def upload_attachment(actor: Actor, instance_id: int, stream: IO[bytes], filename: str | None,
                      task_id: str | None = None) -> Attachment:
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        raise not_found()
    offered = db.session.get(HumanTask, task_id) if task_id else None
    acts_on_it = offered is not None and offered.instance_id == instance.id and may_act(actor, offered)
    if not (acts_on_it or can_view(actor, instance)):  # a stand-in may act on a case they cannot see
        raise not_found()
    task = _task_of(actor, instance, task_id) if task_id else None
    if instance.status != "running":
        raise ApiError(409, "instance_not_running")
    name = storage.display_name(filename)
    checked = storage.check_upload(stream, name)
    attachment_id = str(uuid.uuid4())
    key = f"{attachment_id[:2]}/{attachment_id.replace('-', '')}"
    row = Attachment(id=attachment_id, instance_id=instance.id, task_id=task.id if task else None,
                     filename=name, content_type=checked.content_type, size=len(checked.data),
                     sha256=checked.sha256, storage_key=key, uploaded_by=actor.user_id, uploaded_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record("attachment_uploaded", actor_id=actor.user_id, instance_id=instance.id,
                 task_id=task.id if task else None, attachment_id=attachment_id, filename=name,
                 size=row.size, sha256=row.sha256)
    # last, so a refusal above writes nothing; a rollback after this (even at commit) deletes the file
    storage.store(db.session(), key, checked.data)
    return row


def attachments_of(actor: Actor, instance_id: int) -> list[Attachment]:
    instance = get_instance_for(actor, instance_id)
    return case_attachments(instance.id)


def case_attachments(instance_id: int) -> list[Attachment]:
    """For a caller who has already checked access (the task page)."""
    return list(db.session.scalars(select(Attachment).where(Attachment.instance_id == instance_id)
                                   .order_by(Attachment.uploaded_at, Attachment.id)))


def attachment_for_download(actor: Actor, attachment_id: str) -> Attachment:
    row = db.session.get(Attachment, attachment_id)
    if row is None:
        raise not_found()
    instance = db.session.get(Instance, row.instance_id)
    if instance is None or not can_view(actor, instance):
        raise not_found()
    if not storage.path_of(row.storage_key).is_file():
        raise not_found()
    audit.record("attachment_downloaded", actor_id=actor.user_id, instance_id=instance.id,
                 attachment_id=row.id)
    return row
