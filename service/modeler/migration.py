"""Moving running cases to another version of their process (issue #6.6).

A case can move when every element it is at now (ready user tasks, waiting timers and messages, a
step in error) exists in the target version with the same kind; its data stays, its history keeps
what still exists, and it continues along the target version's flows. Cases that cannot move are
left unchanged, with the reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service import audit, clock
from service.auth.actor import Actor
from service.engine import Case
from service.engine.migrate import Blocker, blockers, current_elements, move_case
from service.errors import ApiError, forbidden, not_found
from service.extensions import db
from service.instances.models import HumanTask, Instance
from service.runtime import load_spec

from .models import ProcessModel, ProcessVersion

OPEN_STATUSES = ("running", "suspended", "error")


def version_of(key: str, number: int) -> ProcessVersion:
    version = db.session.scalar(
        select(ProcessVersion).join(ProcessModel, ProcessModel.id == ProcessVersion.model_id)
        .where(ProcessModel.key == key, ProcessVersion.number == number))
    if version is None:
        raise ApiError(404, "not_found", f"流程 {key} 没有版本 {number} / process {key} has no version {number}")
    return version


def _restore(instance: Instance) -> Case:
    from service.instances.operations import restore_case

    return restore_case(instance)


def _reason(blocked: list[Blocker], number: int) -> str:
    missing = [b for b in blocked if b.reason == "missing"]
    changed = [b for b in blocked if b.reason != "missing"]
    parts_zh, parts_en = [], []
    if missing:
        names = "、".join(f"{b.name}（{b.element_id}）" for b in missing)
        parts_zh.append(f"当前环节在版本 {number} 中不存在：{names}")
        parts_en.append(f"current steps missing from version {number}: "
                        + ", ".join(f"{b.name} ({b.element_id})" for b in missing))
    if changed:
        names = "、".join(f"{b.name}（{b.element_id}）" for b in changed)
        parts_zh.append(f"当前环节在版本 {number} 中类型不同：{names}")
        parts_en.append(f"current steps of another kind in version {number}: "
                        + ", ".join(f"{b.name} ({b.element_id}: {b.old_type} → {b.new_type})" for b in changed))
    return "；".join(parts_zh) + " / " + "; ".join(parts_en)


def _check(instance: Instance, case: Case, target: ProcessVersion) -> str | None:
    """Why the case cannot move to `target` (bilingual), or None."""
    if instance.status not in OPEN_STATUSES:
        return "案件已结束，无需迁移 / the case has ended"
    if instance.version_id == target.id:
        return f"案件已在版本 {target.number} 上 / the case is already on version {target.number}"
    blocked = blockers(case, load_spec(target))
    return _reason(blocked, target.number) if blocked else None


def migration_plan(key: str, from_number: int, to_number: int) -> list[dict[str, Any]]:
    """The open cases on version `from_number` and whether each can move to `to_number`."""
    source = version_of(key, from_number)
    target = version_of(key, to_number)
    rows = db.session.scalars(select(Instance).where(
        Instance.version_id == source.id, Instance.status.in_(OPEN_STATUSES)).order_by(Instance.id))
    plan = []
    for instance in rows:
        case = _restore(instance)
        reason = _check(instance, case, target)
        plan.append({"instance_id": instance.id, "subject": instance.subject, "status": instance.status,
                     "current": [bpmn_id for _name, bpmn_id, _kind in current_elements(case)],
                     "movable": reason is None, "reason": reason})
    return plan


def migrate_instance(actor: Actor, instance_id: int, to_number: int) -> dict[str, Any]:
    """Move one case to version `to_number` of its process: {id, moved, reason}. A case that cannot
    move is left as it is (moved false, with the reason)."""
    if not actor.is_admin:
        raise forbidden()
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        raise not_found()
    target = version_of(instance.process_key, to_number)
    case = _restore(instance)
    reason = _check(instance, case, target)
    if reason is not None:
        return {"id": instance.id, "moved": False, "reason": reason}
    moved = move_case(case, load_spec(target))
    source_number = instance.version.number
    instance.version_id, instance.version = target.id, target
    instance.state = moved.state_json()
    instance.updated_at = clock.now()
    _resync_tasks(instance, moved)
    if instance.status == "running":
        from service.instances.operations import _milestone, _sync_message_waits

        instance.next_timer_at = moved.next_timer_due()
        _sync_message_waits(instance, moved.waiting_messages())
        instance.milestone = _milestone(instance, moved.ready_human_tasks(), moved)
    audit.record("instance_migrated", actor_id=actor.user_id, instance_id=instance.id,
                 process=instance.process_key, **{"from": source_number, "to": target.number})
    db.session.flush()
    return {"id": instance.id, "moved": True, "reason": None}


def migrate_instances(actor: Actor, key: str, to_number: int, instance_ids: list[int]) -> list[dict[str, Any]]:
    if not actor.is_admin:
        raise forbidden()
    version_of(key, to_number)
    results = []
    for instance_id in dict.fromkeys(instance_ids):
        instance = db.session.get(Instance, instance_id)
        if instance is None or instance.process_key != key:
            results.append({"id": instance_id, "moved": False,
                            "reason": f"没有流程 {key} 的案件 {instance_id} / no case {instance_id} of process {key}"})
            continue
        results.append(migrate_instance(actor, instance_id, to_number))
    return results


def _resync_tasks(instance: Instance, case: Case) -> None:
    """The open human tasks keep their rows (the engine task ids survive the move); their title, form
    and instructions come from the new version."""
    views = {view.id: view for view in case.ready_human_tasks()}
    for row in db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.status == "ready")):
        view = views.get(row.engine_task_id)
        if view is None:
            continue
        row.title = (view.title or row.title)[:200]
        row.form_schema, row.form_ui_schema = view.form_schema, view.form_ui_schema
        row.instructions = view.instructions
        row.due_at = view.due_at
