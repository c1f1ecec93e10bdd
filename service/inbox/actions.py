"""What an approver may do with a task besides completing it: 转办 transfer, 委派 delegate, 撤回
withdraw, 退回 return, 催办 remind, 抄送 copy, and naming a 代理 stand-in while away. Each checks the
state and the caller's right, changes, flushes and audits with the caller's comment; none commits."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from sqlalchemy import exists, or_, select

from service import audit, clock
from service.auth.actor import Actor
from service.auth.operations import actor_for
from service.campaigns.operations import CONFIRM_TASK
from service.engine import TaskNotReady
from service.errors import ApiError, forbidden, not_found
from service.extensions import db
from service.instances import operations
from service.instances.access import may_act, may_act_in_own_right
from service.instances.models import CaseCopy, HumanTask, Instance, StandIn
from service.instances.validation import apply_defaults, validate_task_data
from service.notifications.operations import notify, notify_task_offered
from service.org.models import User

from .models import TaskDraft

STEP_STARTED = ("下一步已有人处理（已认领、已保存草稿、已委派或已办理），不能撤回 / "
                "the next step has already been taken up (claimed, drafted, delegated or completed); "
                "it can no longer be withdrawn")


def _target(username: str, field: str = "to") -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise ApiError(422, "validation_failed", details=[{"field": field, "message": "没有这个用户 / no such user"}])
    return user


def _not_eligible(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_failed", details=[{"field": field, "message": message}])


def _touch(instance: Instance) -> None:
    instance.updated_at = clock.now()  # bumps the revision: a racing change to the same case gets a 409


def _task_and_instance(actor: Actor, task_id: str) -> tuple[HumanTask, Instance]:
    return operations._visible_pair(actor, task_id)  # one statement, one snapshot (404 if not visible)


# -- 转办 transfer -----------------------------------------------------------------------------------
def transfer_task(actor: Actor, task_id: str, to: str, comment: str | None = None) -> HumanTask:
    """Hand a ready task to another person who may act on it by role and scope: it becomes theirs alone."""
    task, instance = operations._actionable(actor, task_id)
    user = _target(to)
    target = actor_for(user)
    if user.id == actor.user_id or not may_act_in_own_right(target, task) or task.assigned_user_id == user.id:
        raise _not_eligible("to", "该用户无权办理此任务 / that user may not act on this task")
    previous = task.assigned_user_id
    task.assigned_user_id = task.claimed_by = user.id
    _touch(instance)
    notify([user.id], "new_task", f"{actor.username} 转办给您：{task.title}（案件 {instance.id}）",
           instance_id=instance.id, task_id=task.id)
    audit.record("task_transferred", actor_id=actor.user_id, instance_id=instance.id, task_id=task.id,
                 task=task.name, to=user.username, previous_assignee=previous, comment=comment)
    return task


# -- 委派 delegate -------------------------------------------------------------------------------------
def delegate_task(actor: Actor, task_id: str, to: str, comment: str | None = None) -> HumanTask:
    """Let someone else fill the task in; their data comes back to the caller as a proposal to confirm."""
    task, instance = operations._actionable(actor, task_id)
    user = _target(to)
    if user.id == actor.user_id or (user.person_id and user.person_id == task.subject and task.lane_role != "member"):
        raise _not_eligible("to", "不能委派给本人或案件当事人 / not to yourself or to the person the case is about")
    task.delegated_to, task.delegated_by = user.id, actor.user_id
    _touch(instance)
    notify([user.id], "new_task", f"{actor.username} 委派您办理：{task.title}（案件 {instance.id}）",
           instance_id=instance.id, task_id=task.id)
    audit.record("task_delegated", actor_id=actor.user_id, instance_id=instance.id, task_id=task.id,
                 task=task.name, to=user.username, comment=comment)
    return task


def _propose(actor: Actor, task: HumanTask, instance: Instance, data: dict[str, Any]) -> Instance:
    if task.status != "ready":
        raise ApiError(409, "task_not_ready")
    if instance.status != "running":
        raise ApiError(409, "instance_not_running")
    schema = operations.form_schema(instance, task)
    data = apply_defaults(schema, data)
    problems = validate_task_data(schema, data)
    if problems:
        raise ApiError(422, "validation_failed", details=problems)
    task.proposal, task.delegated_to = copy.deepcopy(data), None
    _touch(instance)
    notify([task.delegated_by], "returned", f"{actor.username} 已办理您委派的任务，请确认：{task.title}（案件 {instance.id}）",
           instance_id=instance.id, task_id=task.id)
    audit.record("delegation_returned", actor_id=actor.user_id, instance_id=instance.id, task_id=task.id,
                 task=task.name, data=copy.deepcopy(data))
    return instance


def complete_task(actor: Actor, task_id: str, data: dict[str, Any]) -> Instance:
    """Complete a task; the delegate's completion of a delegated task is a proposal sent back instead."""
    task, instance = _task_and_instance(actor, task_id)
    if instance.campaign_id is not None and task.name == CONFIRM_TASK and data.get("decision") == "confirm":
        # one case's grade confirmed alone would skip the quota check across the campaign (a return is fine)
        raise ApiError(409, "conflict", "考核活动的等级须在活动页面统一确认（检查比例限额） / a campaign's grades are "
                                        "confirmed together on the campaign page, where the quotas are checked",
                       details=[{"campaign": instance.campaign_id}])
    if task.delegated_to is not None and task.delegated_to == actor.user_id:
        return _propose(actor, task, instance, data)
    return operations.complete_task(actor, task_id, data, pair=(task, instance))


def with_proposal(task: HumanTask, values: dict[str, Any]) -> dict[str, Any]:
    """The form's starting values: a delegate's proposal wins over the case's current values."""
    return {**values, **task.proposal} if task.proposal else values


# -- 撤回 withdraw and 退回 return ---------------------------------------------------------------------------
def _later_steps_untouched(task: HumanTask) -> bool:
    later = select(HumanTask.id).where(HumanTask.instance_id == task.instance_id, HumanTask.id != task.id,
                                       HumanTask.created_at >= task.completed_at)
    touched = db.session.scalar(select(exists().where(
        HumanTask.instance_id == task.instance_id, HumanTask.id != task.id,
        or_(HumanTask.completed_at > task.completed_at,
            HumanTask.id.in_(later.where(or_(HumanTask.status == "completed", HumanTask.claimed_by.isnot(None),
                                             HumanTask.delegated_to.isnot(None), HumanTask.proposal.isnot(None))))))))
    drafted = db.session.scalar(select(exists().where(TaskDraft.task_id.in_(later))))
    return not touched and not drafted


def may_withdraw(actor: Actor, task: HumanTask) -> bool:
    return (task.status == "completed" and task.completed_by == actor.user_id and task.completed_at is not None
            and _later_steps_untouched(task))


def _reset(actor: Actor, instance: Instance, engine_task_id: str) -> None:
    case = operations.restore_case(instance)

    def step() -> None:
        try:
            case.reset_to(engine_task_id)
        except TaskNotReady:
            raise ApiError(409, "conflict", "该步骤已无法回到 / that step can no longer be gone back to") from None

    operations._advance(instance, case, actor, step)


def _reopened(instance: Instance, engine_task_id: str) -> HumanTask | None:
    db.session.flush()
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "ready",
                                                     HumanTask.engine_task_id == engine_task_id))


def withdraw_task(actor: Actor, task_id: str, comment: str | None = None) -> Instance:
    """The person who completed a step takes it back while the next step is untouched."""
    task, instance = _task_and_instance(actor, task_id)
    if task.status != "completed" or task.completed_by != actor.user_id:
        raise forbidden("只有办理人本人可以撤回已办理的步骤 / only the person who completed a step can withdraw it")
    if instance.status != "running":
        raise ApiError(409, "instance_not_running")
    if not _later_steps_untouched(task):
        raise ApiError(409, "next_step_started", STEP_STARTED)
    _reset(actor, instance, task.engine_task_id)
    reopened = _reopened(instance, task.engine_task_id)
    if reopened is not None and may_act(actor, reopened):
        reopened.claimed_by = actor.user_id  # it comes back to the one who took it back
    audit.record("task_withdrawn", actor_id=actor.user_id, instance_id=instance.id, task_id=task.id,
                 task=task.name, title=task.title, reopened=reopened.id if reopened else None, comment=comment)
    return instance


def returnable_steps(task: HumanTask) -> list[HumanTask]:
    """Earlier completed human steps of the task's case, latest first, one per step."""
    rows = db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == task.instance_id, HumanTask.status == "completed", HumanTask.name != task.name)
        .order_by(HumanTask.completed_at.desc(), HumanTask.id)).all()
    seen: dict[str, HumanTask] = {}
    for row in rows:
        seen.setdefault(row.name, row)
    return list(seen.values())


def return_task(actor: Actor, task_id: str, step: str, comment: str | None = None) -> Instance:
    """An approver sends the case back to an earlier step it has passed (退回)."""
    task, instance = operations._actionable(actor, task_id)
    earlier = next((row for row in returnable_steps(task) if row.id == step), None)
    if earlier is None:
        raise _not_eligible("step", "只能退回到本案件已办理过的步骤 / only to a step this case has passed")
    _reset(actor, instance, earlier.engine_task_id)
    reopened = _reopened(instance, earlier.engine_task_id)
    notify([earlier.completed_by], "returned", f"{actor.username} 退回了「{earlier.title}」（案件 {instance.id}）：{comment or ''}",
           instance_id=instance.id, task_id=reopened.id if reopened else None)
    audit.record("task_returned", actor_id=actor.user_id, instance_id=instance.id, task_id=task.id, task=task.name,
                 to_step=earlier.name, title=earlier.title, reopened=reopened.id if reopened else None, comment=comment)
    return instance


# -- 催办 remind and 抄送 copy ------------------------------------------------------------------------------
def remind_task(actor: Actor, task_id: str, comment: str | None = None) -> int:
    """Notify everyone a ready task waits on; anyone who may see the case may ask. Returns how many."""
    task, instance = _task_and_instance(actor, task_id)
    if task.status != "ready":
        raise ApiError(409, "task_not_ready")
    if instance.status != "running":
        raise ApiError(409, "instance_not_running")
    count = notify_task_offered(task, f"{actor.username} 催办：{task.title}（案件 {instance.id}）{comment or ''}",
                                kind="reminded")
    audit.record("task_reminded", actor_id=actor.user_id, instance_id=instance.id, task_id=task.id, task=task.name,
                 notified=count, comment=comment)
    return count


def copy_case(actor: Actor, instance_id: int, to: str, comment: str | None = None) -> CaseCopy:
    """抄送: let someone follow a case the caller takes part in."""
    instance = operations.get_instance_for(actor, instance_id)
    user = _target(to)
    if user.id == actor.user_id:
        raise _not_eligible("to", "不能抄送给自己 / not to yourself")
    found = db.session.get(CaseCopy, (instance.id, user.id))
    if found is None:
        found = CaseCopy(instance_id=instance.id, user_id=user.id, copied_by=actor.user_id, created_at=clock.now())
        db.session.add(found)
    notify([user.id], "copied", f"{actor.username} 抄送给您：案件 {instance.id} {instance.summary.get('title', '')}"
           f"{('：' + comment) if comment else ''}", instance_id=instance.id)
    audit.record("case_copied", actor_id=actor.user_id, instance_id=instance.id, to=user.username, comment=comment)
    db.session.flush()
    return found


# -- 代理 stand-in -------------------------------------------------------------------------------------------
def name_stand_in(actor: Actor, to: str, starts_on: date, ends_on: date, comment: str | None = None) -> StandIn:
    user = _target(to, "stand_in")
    if user.id == actor.user_id:
        raise _not_eligible("stand_in", "不能指定自己为代理人 / not yourself")
    if ends_on < starts_on:
        raise _not_eligible("ends_on", "结束日期早于开始日期 / the end is before the start")
    if (ends_on - starts_on).days > 366:
        raise _not_eligible("ends_on", "代理期限不超过一年 / at most a year")
    stand_in = StandIn(user_id=actor.user_id, stand_in_id=user.id, starts_on=starts_on, ends_on=ends_on,
                       created_at=clock.now())
    db.session.add(stand_in)
    db.session.flush()
    audit.record("stand_in_named", actor_id=actor.user_id, stand_in=user.username, starts_on=starts_on.isoformat(),
                 ends_on=ends_on.isoformat(), comment=comment)
    return stand_in


def stand_ins_of(actor: Actor) -> list[tuple[StandIn, str, str]]:
    """(row, absent user, stand-in) for the stand-ins the caller named or is named in; one query."""
    absent, standing = User.__table__.alias("absent"), User.__table__.alias("standing")
    rows = db.session.execute(
        select(StandIn, absent.c.username, standing.c.username)
        .join(absent, absent.c.id == StandIn.user_id).join(standing, standing.c.id == StandIn.stand_in_id)
        .where(or_(StandIn.user_id == actor.user_id, StandIn.stand_in_id == actor.user_id))
        .order_by(StandIn.starts_on.desc(), StandIn.id.desc())).all()
    return [(row, a, s) for row, a, s in rows]


def end_stand_in(actor: Actor, stand_in_id: int) -> None:
    found = db.session.get(StandIn, stand_in_id)
    if found is None or found.user_id != actor.user_id:
        raise not_found()
    db.session.delete(found)
    audit.record("stand_in_ended", actor_id=actor.user_id, stand_in_id=stand_in_id)
