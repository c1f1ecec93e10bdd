"""Bulk approval (批量审批): one form filled once, applied to several tasks of the same step. Each
task is validated and completed on its own, in its own transaction, and reported on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from service.auth.actor import Actor
from service.errors import ApiError
from service.extensions import db
from service.instances import operations
from service.instances.access import may_act
from service.instances.models import HumanTask, Instance
from service.instances.validation import apply_defaults
from service.transaction import transactional
from service.webui import error_message

from .drafts import complete_and_discard_draft
from .presenters import field_errors, subject_labels
from .task_page import EMPTY_FORM

BULK_LIMIT = 100


@dataclass
class BulkBatch:
    tasks: list[dict[str, Any]] = field(default_factory=list)  # id, title, subject, subject_name
    step_title: str = ""
    schema: dict[str, Any] = field(default_factory=dict)
    ui_schema: dict[str, Any] = field(default_factory=dict)
    prefill: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None


@dataclass
class BulkResult:
    task: dict[str, Any]
    status: int  # 200, or the error's HTTP status
    message: str = ""
    milestone: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == 200


def bulk_batch(actor: Actor, ids: list[str]) -> BulkBatch:
    """The chosen tasks, if they are all the actor's to handle and all the same step of one process."""
    wanted = list(dict.fromkeys(i for i in ids if i))
    if not wanted:
        return BulkBatch(problem=_("请至少选择一项任务。"))
    if len(wanted) > BULK_LIMIT:
        return BulkBatch(problem=_("一次最多批量处理 %(n)d 项任务。", n=BULK_LIMIT))
    rows = {t.id: t for t in db.session.scalars(select(HumanTask).where(HumanTask.id.in_(wanted)))}
    tasks = [rows[i] for i in wanted if i in rows]
    if len(tasks) != len(wanted) or not all(may_act(actor, t) for t in tasks):
        return BulkBatch(problem=_("部分任务不存在，或不由您处理。"))
    if len({(t.process_key, t.name) for t in tasks}) > 1:
        return BulkBatch(problem=_("只能批量处理同一流程、同一步骤的任务。"))
    instance = db.session.get(Instance, tasks[0].instance_id)
    assert instance is not None
    schema = operations.form_schema(instance, tasks[0]) or EMPTY_FORM
    labels = subject_labels(t.subject for t in tasks)
    return BulkBatch(
        tasks=[{"id": t.id, "title": t.title, "subject": t.subject, "status": t.status,
                "subject_name": labels.get(t.subject, {}).get("name") or t.subject} for t in tasks],
        step_title=tasks[0].title, schema=schema, ui_schema=operations.form_ui_schema(instance, tasks[0]) or {},
        prefill=apply_defaults(schema, {}))


def complete_batch(actor: Actor, batch: BulkBatch, data: dict[str, Any]) -> list[BulkResult]:
    results = []
    for task in batch.tasks:
        try:
            instance = transactional(complete_and_discard_draft)(actor, task["id"], dict(data))
        except ApiError as exc:
            results.append(BulkResult(task, exc.status, error_message(exc), errors=field_errors(exc.details)))
        except Exception:  # one broken case must not hide what happened to the others
            current_app.logger.exception("bulk completion of task %s failed", task["id"])
            results.append(BulkResult(task, 500, _("服务器内部错误，此项未处理。")))
        else:
            results.append(BulkResult(task, 200, _("已完成"), milestone=instance.milestone))
    return results
