"""The task page: the step's instructions, the case, its history and the form (or why there is none)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup
from sqlalchemy import select

from service.attachments.operations import case_attachments
from service.auth.actor import Actor
from service.extensions import db
from service.instances import operations
from service.instances.access import may_act
from service.instances.models import HumanTask, Instance
from service.instances.views import instance_detail, usernames
from service.tracking.visibility import redact_task_data

from .actions import may_withdraw, returnable_steps, with_proposal
from .drafts import draft_for
from .presenters import history_rows, process_names, subject_labels
from .queries import prefill

EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}}


def _sees_comments(actor: Actor, instance: Instance) -> bool:
    """Approvers read each other's comments; the person a case is about does not see them here."""
    own_case = instance.subject_kind == "person" and instance.subject == actor.person_id
    return actor.is_admin or not own_case


def _case_data(instance: Instance, task: HumanTask) -> dict[str, Any]:
    """The data the ready step sees (empty for a closed step: its data may have moved on)."""
    if task.status != "ready":
        return {}
    case = operations.restore_case(instance)
    current = next((v for v in case.ready_human_tasks() if v.id == task.engine_task_id), None)
    return current.data if current else {}


_INSTRUCTIONS = SandboxedEnvironment(autoescape=True, undefined=ChainableUndefined)


def render_instructions(text: str | None, data: dict[str, Any]) -> Markup | None:
    """A step's instructions with the case's values filled in ({{ candidate_name }}, ...), rendered
    in Jinja's sandbox with autoescaping; text that is not a valid template is shown as written."""
    if not text:
        return None
    try:
        return Markup(_INSTRUCTIONS.from_string(text).render(**data))
    except (TemplateError, SecurityError, TypeError, ValueError):
        return Markup.escape(text)


def task_page(actor: Actor, task_id: str, *, data: dict[str, Any] | None = None,
              errors: list[dict[str, str]] | None = None, message: str | None = None,
              status: int = 200) -> tuple[str, int]:
    """Render a task for `actor` (404 if they may not see it). After a rejected submission, `data` is
    what they typed and `errors` says what is wrong with it, field by field."""
    task = operations.get_task_for(actor, task_id)
    instance = db.session.get(Instance, task.instance_id)
    assert instance is not None
    ready = task.status == "ready" and instance.status == "running"
    mine_to_do = ready and may_act(actor, task)
    delegated_away = task.delegated_to is not None and task.delegated_to != actor.user_id
    actionable = mine_to_do and task.claimed_by in (None, actor.user_id) and not delegated_away
    handing_over = actionable and task.delegated_to is None  # a delegate proposes; they do not hand on
    schema = operations.form_schema(instance, task) or EMPTY_FORM
    draft = draft_for(actor, task) if actionable else None
    case_data = redact_task_data(actor, instance, _case_data(instance, task))
    if actionable and data is None:
        data = draft.data if draft else with_proposal(task, prefill(case_data, schema))
    detail = instance_detail(instance, with_comments=_sees_comments(actor, instance), viewer=actor)
    titles = dict(db.session.execute(select(HumanTask.name, HumanTask.title)
                                     .where(HumanTask.instance_id == instance.id)).all())
    attachments = case_attachments(instance.id)
    names = usernames([task.claimed_by, task.completed_by, task.delegated_to, task.delegated_by,
                       *(a.uploaded_by for a in attachments)])
    return render_template(
        "inbox/task.html", task=task, instance=instance, detail=detail, history=history_rows(detail["history"], titles),
        subject=subject_labels([instance.subject]).get(instance.subject, {"name": instance.subject, "unit": None}),
        process_name=process_names().get(instance.process_key, instance.process_key),
        claimed_by=names.get(task.claimed_by) if task.claimed_by else None,
        completed_by=names.get(task.completed_by) if task.completed_by else None,
        actionable=actionable, may_claim=actionable and task.claimed_by is None and task.assigned_user_id != actor.user_id,
        may_unclaim=ready and task.claimed_by is not None and (task.claimed_by == actor.user_id or actor.is_admin),
        instructions=render_instructions(task.instructions, case_data),
        schema=schema, ui_schema=operations.form_ui_schema(instance, task) or {}, data=data or {},
        errors=errors or [], message=message, draft_saved_at=draft.saved_at if draft else None,
        delegated_to=names.get(task.delegated_to) if task.delegated_to else None,
        delegated_by=names.get(task.delegated_by) if task.delegated_by else None,
        may_transfer=handing_over, may_delegate=handing_over,
        return_steps=returnable_steps(task) if handing_over else [],
        attachments=attachments, uploaders=names, may_upload=instance.status == "running",
        may_remind=ready, may_copy=True, may_withdraw=may_withdraw(actor, task) and instance.status == "running"), status
