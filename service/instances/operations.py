"""State changes of cases and tasks. Each checks, changes, flushes and audits; none commits."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.orm import lazyload

from service import audit, clock
from service.auth.actor import Actor
from service.engine import Case, MessageNotAccepted, ScriptFailure, TaskNotReady
from service.errors import ApiError, forbidden, not_found
from service.extensions import db
from service.modeler.models import ProcessModel
from service.modeler.operations import VersionRef, current_version
from service.notifications.operations import notify_task_offered
from service.ops.metrics import task_completed as task_completed_metric
from service.org.models import User
from service.pack import ROLES
from service.runtime import definition, engine, load_spec_of, version_forms

from .access import acting_for, can_view, may_act, org_graph
from .models import HumanTask, Instance, MessageWait, Policy
from .rows import insert_one, write_rows
from .subjects import Subject, resolve_subject
from .validation import apply_defaults, validate_task_data, without_read_only
from .views import ready_rows_known, remember_ready_rows

MAX_MESSAGE_HOPS = 5
RESERVED_KEYS = {"subject", "subject_unit", "policies", "process", "started_by"}


# -- reading helpers --------------------------------------------------------------------------------
def get_instance_for(actor: Actor, instance_id: int) -> Instance:
    instance = db.session.get(Instance, instance_id)
    if instance is None or not can_view(actor, instance):
        raise not_found()
    return instance


def restore_case(instance: Instance) -> Case:
    return engine().restore(load_spec_of(instance.version_id, instance.process_key), instance.state)


def policies_for(key: str) -> dict[str, Any]:
    found = definition(key)
    values = dict(found.policies) if found else {}
    for name, value in db.session.execute(_POLICIES, {"key": key}):
        values[name] = value.get("value")
    return values


# -- start ----------------------------------------------------------------------------------------
def _check_start_allowed(actor: Actor, key: str, subject: Subject, data: dict[str, Any]) -> None:
    if actor.is_admin:
        return
    found = definition(key)
    allowed_roles = set(found.start_roles) if found else set()
    graph = org_graph()
    held = frozenset(role for role, unit in actor.roles
                     if role in allowed_roles and unit and graph.scope_for_lane(subject.unit, role) == unit)
    if "member" in allowed_roles and subject.kind == "person" and subject.id == actor.person_id:
        held = held | {"member"}
    if not held:
        raise forbidden()
    refusal = found.start_check(held, subject.facts, data) if found and found.start_check else None
    if refusal:
        raise forbidden(refusal)


def _check_data_keys(data: dict[str, Any], key: str) -> None:
    problems = validate_task_data(None, data)
    found = definition(key)
    functions = set(found.functions) if found else set()
    for name in data:
        if name in RESERVED_KEYS or name in functions:
            problems.append({"field": name, "message": "该字段名为系统保留 / reserved field name",
                             "validator": "reserved"})
    if problems:
        raise ApiError(422, "validation_failed", details=problems)


def start_instance(actor: Actor | None, key: str, subject_id: str, data: dict[str, Any] | None = None,
                   *, extra: dict[str, Any] | None = None, version: VersionRef | None = None,
                   policies: dict[str, Any] | None = None, campaign_id: int | None = None,
                   subject: Subject | None = None) -> Instance:
    """Start a case of the latest version of `key` about `subject_id`. `actor` None: the system
    (a timer, a campaign or another case's effect) starts it. A caller starting many cases in one
    transaction (a campaign) passes the `version`, `policies` and `subject`s it read in bulk."""
    version = version or current_version(key)
    if version is None:
        raise ApiError(404, "not_found", f"流程 {key} 未部署 / process {key} is not deployed")
    data = dict(data or {})
    _check_data_keys(data, key)
    found = definition(key)
    if found and found.start_schema is not None:
        problems = validate_task_data(dict(found.start_schema), {**data, **(extra or {})})
        if problems:
            raise ApiError(422, "validation_failed", details=problems)
    if subject is None or subject.id != subject_id:
        subject = resolve_subject(version.subject_kind, subject_id)
    if actor is not None:
        _check_start_allowed(actor, key, subject, {**(found.start_defaults if found else {}), **data, **(extra or {})})
    initial: dict[str, Any] = dict(found.start_defaults) if found else {}
    initial.update(data)
    initial.update(extra or {})
    if found and found.initial_data:
        # the roster's facts win over start data: a candidate cannot send their own birth date
        initial.update(found.initial_data(subject.facts))
    initial.update({"subject": subject.id, "subject_unit": subject.unit, "process": key,
                    "policies": copy.deepcopy(policies) if policies is not None else policies_for(key)})
    now = clock.now()
    case = engine().start(load_spec_of(version.id, key), initial)
    instance = Instance(
        version_id=version.id, process_key=key, subject_kind=subject.kind, subject=subject.id,
        subject_unit=subject.unit, status="running", state="", started_by=actor.user_id if actor else None,
        started_at=now, updated_at=now, summary={"title": version.name}, campaign_id=campaign_id,
    )

    def inserted() -> None:  # after the engine has run: the write transaction starts as late as it can
        insert_one(instance)  # its id now, for the task rows and the audit trail
        audit.record("instance_started", actor_id=actor.user_id if actor else None, instance_id=instance.id,
                     process=key, version=version.number, subject=subject.id)

    _advance(instance, case, actor, case.run, fresh=True, before_writes=inserted)
    return instance


# -- tasks --------------------------------------------------------------------------------------------
def _task_and_instance(task_id: str) -> tuple[HumanTask, Instance] | None:
    """Both rows from ONE statement, so they come from the same snapshot: a change to the task
    committed after it bumps the instance revision (our write then fails with 409), and one
    committed before it is seen here; reading them one after the other could miss a claim."""
    found: tuple[HumanTask, Instance] | None = None
    ready: list[HumanTask] = []
    for task, instance in db.session.execute(_TASK_AND_INSTANCE, {"task_id": task_id}):
        if task.id == task_id:
            found = (task, instance)
        if task.status == "ready":
            ready.append(task)
    if found is not None:  # the case's other ready tasks came with it: the step's sync needs no query
        remember_ready_rows(found[1].id, sorted(ready, key=lambda row: row.created_at))
    return found


# the statements of every step, built once: a request does not build and key them again
_TASK_AND_INSTANCE = (
    select(HumanTask, Instance).join(Instance, Instance.id == HumanTask.instance_id)
    .where(HumanTask.instance_id == select(HumanTask.instance_id).where(HumanTask.id == bindparam("task_id"))
           .scalar_subquery(),
           or_(HumanTask.id == bindparam("task_id"), HumanTask.status == "ready"))
    # the case's version row is not needed: its spec, forms and number are cached by version id
    .options(lazyload(Instance.version))
    .execution_options(populate_existing=True))
_OPEN_TASKS = select(HumanTask).where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.status == "ready")
_USER_OF_PERSON = select(User.id).where(User.person_id == bindparam("person_id"))
_POLICIES = select(Policy.key, Policy.value).where(Policy.process_key == bindparam("key"))


def get_task_for(actor: Actor, task_id: str) -> HumanTask:
    return _visible_pair(actor, task_id)[0]


def _visible_pair(actor: Actor, task_id: str) -> tuple[HumanTask, Instance]:
    pair = _task_and_instance(task_id)
    if pair is None or not (may_act(actor, pair[0]) or can_view(actor, pair[1])):
        raise not_found()
    return pair


def _actionable(actor: Actor, task_id: str, pair: tuple[HumanTask, Instance] | None = None
                ) -> tuple[HumanTask, Instance]:
    """The task and its case if `actor` may act on it now; `pair`: what _visible_pair already returned."""
    task, instance = pair or _visible_pair(actor, task_id)
    if task.status != "ready":
        raise ApiError(409, "task_not_ready")
    if not may_act(actor, task):
        raise forbidden()
    if instance.status != "running":
        raise ApiError(409, "instance_not_running")
    if task.claimed_by is not None and task.claimed_by != actor.user_id:
        raise ApiError(409, "task_claimed")
    if task.delegated_to is not None:
        raise ApiError(409, "task_delegated")
    return task, instance


def form_schema(instance: Instance, task: HumanTask) -> dict[str, Any] | None:
    return version_forms(instance.version_id).get(task.form_schema) if task.form_schema else None


def form_ui_schema(instance: Instance, task: HumanTask) -> dict[str, Any] | None:
    return version_forms(instance.version_id).get(task.form_ui_schema) if task.form_ui_schema else None


def complete_task(actor: Actor, task_id: str, data: dict[str, Any], *,
                  pair: tuple[HumanTask, Instance] | None = None) -> Instance:
    task, instance = _actionable(actor, task_id, pair)
    schema = form_schema(instance, task)
    data = apply_defaults(schema, data)
    problems = validate_task_data(schema, data)
    if problems:
        raise ApiError(422, "validation_failed", details=problems)
    data = without_read_only(schema, data)
    _check_data_keys(data, instance.process_key)
    case = restore_case(instance)
    now = clock.now()
    task.status, task.completed_by, task.completed_at = "completed", actor.user_id, now
    if task.proposal is not None:
        task.proposal = None
    submitted = copy.deepcopy(data)  # as sent: a script may change the values during the step

    def recorded() -> None:
        audit.record("task_completed", actor_id=actor.user_id, instance_id=instance.id, task_id=task.id,
                     task=task.name, title=task.title, data=submitted, **acting_for(actor, task))

    def step() -> None:
        try:
            case.complete(task.engine_task_id, data)
        except TaskNotReady:
            raise ApiError(409, "task_not_ready") from None

    _advance(instance, case, actor, step, before_writes=recorded)
    task_completed_metric(instance.process_key)  # counted when the transaction commits
    return instance


def claim_task(actor: Actor, task_id: str) -> HumanTask:
    task, instance = _actionable(actor, task_id)
    task.claimed_by = actor.user_id
    instance.updated_at = clock.now()  # bumps the revision: a racing claim gets a 409
    audit.record("task_claimed", actor_id=actor.user_id, instance_id=instance.id, task_id=task.id, task=task.name,
                 **acting_for(actor, task))
    return task


def unclaim_task(actor: Actor, task_id: str) -> HumanTask:
    task, instance = _visible_pair(actor, task_id)
    if task.status != "ready":
        raise ApiError(409, "task_not_ready")
    if task.claimed_by is None:
        return task
    if task.claimed_by != actor.user_id and not actor.is_admin:
        raise ApiError(409, "task_claimed")
    task.claimed_by = None
    instance.updated_at = clock.now()
    audit.record("task_unclaimed", actor_id=actor.user_id, instance_id=instance.id, task_id=task.id, task=task.name)
    return task


# -- admin actions on cases ------------------------------------------------------------------------------
def _admin_instance(actor: Actor, instance_id: int) -> Instance:
    instance = get_instance_for(actor, instance_id)
    if not actor.is_admin:
        raise forbidden()
    return instance


def suspend_instance(actor: Actor, instance_id: int) -> Instance:
    instance = _admin_instance(actor, instance_id)
    if instance.status not in ("running", "error"):
        raise ApiError(409, "instance_not_running")
    instance.status = "suspended"
    instance.updated_at = clock.now()
    audit.record("instance_suspended", actor_id=actor.user_id, instance_id=instance.id)
    return instance


def resume_instance(actor: Actor, instance_id: int) -> Instance:
    instance = _admin_instance(actor, instance_id)
    if instance.status != "suspended":
        raise ApiError(409, "conflict", "只有已挂起的流程可以恢复 / only a suspended case can be resumed")
    instance.status = "error" if instance.error else "running"
    instance.updated_at = clock.now()
    audit.record("instance_resumed", actor_id=actor.user_id, instance_id=instance.id)
    return instance


def terminate_instance(actor: Actor, instance_id: int, reason: str | None = None) -> Instance:
    instance = _admin_instance(actor, instance_id)
    if instance.status in ("completed", "terminated"):
        raise ApiError(409, "instance_not_running")
    case = restore_case(instance)
    case.cancel()
    instance.state = case.state_json()
    now = clock.now()
    instance.status, instance.outcome, instance.completed_at, instance.updated_at = "terminated", "terminated", now, now
    instance.next_timer_at = None
    instance.milestone = "已终止 terminated"
    _close_open_tasks(instance, "cancelled")
    db.session.execute(delete(MessageWait).where(MessageWait.instance_id == instance.id))
    audit.record("instance_terminated", actor_id=actor.user_id, instance_id=instance.id, reason=reason)
    return instance


# -- messages and timers ---------------------------------------------------------------------------------------
def send_message(actor: Actor | None, instance_id: int, name: str, data: dict[str, Any] | None) -> Instance:
    instance = db.session.get(Instance, instance_id)
    if instance is None or (actor is not None and not _may_message(actor, instance)):
        raise not_found()
    if instance.status != "running":
        raise ApiError(409, "instance_not_running")
    payload = dict(data or {})
    if actor is not None:
        payload["sent_by"] = actor.username
    case = restore_case(instance)
    audit.record("message_received", actor_id=actor.user_id if actor else None, instance_id=instance.id,
                 message=name, data=copy.deepcopy(payload))

    def step() -> None:
        try:
            case.deliver_message(name, payload)
        except MessageNotAccepted:
            raise ApiError(409, "message_not_accepted") from None

    _advance(instance, case, actor, step)
    return instance


def _may_message(actor: Actor, instance: Instance) -> bool:
    """Anyone in the college may address a running case (e.g. raise an objection during a notice)."""
    return actor.is_admin or bool(actor.roles) or actor.person_id is not None or can_view(actor, instance)


def fire_timers(instance: Instance) -> bool:
    """Fire what is due for one instance (the caller holds it). True if anything changed."""
    if instance.status != "running":
        instance.next_timer_at = None
        return False
    case = restore_case(instance)
    before = instance.state
    now = clock.now()
    # a non-interrupting boundary timer (a reminder) that is due: its task is late, tell who it waits on
    late = {view.id for view in case.ready_human_tasks() if any(due <= now for due in view.reminders)}
    _advance(instance, case, None, case.fire_due_timers)
    if late:
        for row in db.session.scalars(select(HumanTask).where(
                HumanTask.instance_id == instance.id, HumanTask.status == "ready", HumanTask.engine_task_id.in_(late))):
            notify_task_offered(row, f"已到办理提醒时间，请尽快办理：{row.title}（案件 {instance.id}）", kind="overdue")
    return instance.state != before


# -- the common tail of every step -------------------------------------------------------------------------------
def _advance(instance: Instance, case: Case, actor: Actor | None, step: Callable[[], None], hops: int = 0,
             *, fresh: bool = False, before_writes: Callable[[], None] | None = None) -> None:
    """Run an engine step and project its result: state, tasks, timers, message waits, status, audit.
    `fresh`: the instance is new in this transaction and has no task rows yet. `before_writes`: the
    caller's own first writes (its audit entry, a new case's row), run after the engine step, whether it
    failed or not, so that on SQLite the write lock is taken after the step's computing, not before it."""
    failure: ScriptFailure | None = None
    try:
        step()
    except ScriptFailure as exc:
        failure = exc
    if before_writes is not None:
        before_writes()
    if failure is not None:
        instance.status = "error"
        instance.error = failure.as_dict()
        audit.record("instance_error", actor_id=actor.user_id if actor else None, instance_id=instance.id,
                     **failure.as_dict())
    elif instance.status == "error":
        instance.status, instance.error = "running", None
    _persist(instance, case, hops, fresh=fresh)


def _persist(instance: Instance, case: Case, hops: int, *, fresh: bool = False) -> None:
    now = clock.now()
    views = case.ready_human_tasks() if instance.status in ("running", "error") else []
    with db.session.no_autoflush:  # one write for the whole step (write_rows below), not one per query
        _sync_tasks(instance, views, now, fresh=fresh)
        _sync_message_waits(instance, case.waiting_messages() if instance.status == "running" else set())
    outgoing = case.outgoing_messages()  # read (and drained) before saving, or they would be sent again
    instance.state = case.state_json()
    instance.updated_at = now
    if case.completed and instance.status == "running":
        data = case.data
        instance.status = "completed"
        # cut to the column: an over-long value would fail every completion on PostgreSQL, leaving the case stuck
        instance.outcome = str(data["outcome"])[:64] if data.get("outcome") is not None else None
        instance.completed_at = now
        instance.next_timer_at = None
        instance.milestone = _completed_milestone(instance)
        audit.record("instance_completed", actor_id=None, instance_id=instance.id, outcome=instance.outcome)
        _apply_effects(instance, data)
    else:
        instance.next_timer_at = case.next_timer_due() if instance.status == "running" else None
        instance.milestone = _milestone(instance, views, case)
    write_rows(HumanTask, Instance)  # the step's own rows, in plain statements
    db.session.flush()  # anything else the step changed (effects), before a message is routed
    if hops < MAX_MESSAGE_HOPS:
        for message in outgoing:
            _route_message(instance, message.name, message.payload, message.correlations, hops + 1)


def _sync_tasks(instance: Instance, views: list, now: Any, *, fresh: bool = False) -> None:
    rows = [] if fresh else ready_rows_known(instance.id)  # read with the task, or left by an earlier step
    if rows is None:
        rows = db.session.scalars(_OPEN_TASKS, {"instance_id": instance.id}).all()
    open_rows = {row.engine_task_id: row for row in rows}
    current = {view.id for view in views}
    for engine_id, row in open_rows.items():
        if engine_id not in current and row.status == "ready":
            row.status = "cancelled"
            row.completed_at = now
    ready = sorted((row for row in open_rows.values() if row.status == "ready" and row.engine_task_id in current),
                   key=lambda row: row.created_at)
    found = definition(instance.process_key)
    graph = None
    member_user: int | None | bool = False
    for view in views:
        row = open_rows.get(view.id)
        if row is not None and row.status == "ready":
            row.due_at = view.due_at
            continue
        graph = graph or org_graph()
        lane = view.lane if view.lane in ROLES else None
        if lane and found and found.resolve_lane:
            unit = graph.nodes.get(instance.subject_unit or "")
            lane = found.resolve_lane(lane, unit.kind if unit else None, view.data)
        scope_kind = found.lane_scopes.get(lane) if (found and lane) else None
        assigned = None
        assignee_variable = view.properties.get("assigneeVariable")
        if assignee_variable and view.data.get(assignee_variable):
            assigned = db.session.scalar(select(User.id).where(User.username == str(view.data[assignee_variable])))
        elif lane == "member" and instance.subject_kind == "person":
            if member_user is False:
                member_user = db.session.scalar(_USER_OF_PERSON, {"person_id": instance.subject})
            assigned = member_user or None
        row = HumanTask(
            id=str(uuid.uuid4()), engine_task_id=view.id, instance_id=instance.id, process_key=instance.process_key,
            name=view.name, title=view.title, lane_role=lane,
            scope_unit=None if assigned else graph.scope_for_lane(instance.subject_unit, lane, scope_kind),
            subject=instance.subject, assigned_user_id=assigned, status="ready", form_schema=view.form_schema,
            form_ui_schema=view.form_ui_schema, instructions=view.instructions, due_at=view.due_at, created_at=now,
        )
        db.session.add(row)
        ready.append(row)
        notify_task_offered(row, f"新待办：{row.title}（案件 {instance.id}）")
    remember_ready_rows(instance.id, ready)


def _close_open_tasks(instance: Instance, status: str) -> None:
    now = clock.now()
    for row in db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.status == "ready")):
        row.status = status
        row.completed_at = now


def _sync_message_waits(instance: Instance, names: set[str]) -> None:
    had_waits = bool(instance.summary.get("waits"))
    if not names and not had_waits:
        return  # the common case costs no query
    instance.summary = {**instance.summary, "waits": sorted(names)}
    existing = set(db.session.scalars(select(MessageWait.name).where(MessageWait.instance_id == instance.id)))
    for name in existing - names:
        db.session.execute(delete(MessageWait).where(MessageWait.instance_id == instance.id, MessageWait.name == name))
    for name in names - existing:
        db.session.add(MessageWait(instance_id=instance.id, name=name))


def _route_message(source: Instance, name: str, payload: Any, correlations: dict, hops: int) -> None:
    """Deliver a message thrown by `source` to the first other running case that accepts it."""
    candidates = db.session.scalars(
        select(Instance).join(MessageWait, MessageWait.instance_id == Instance.id)
        .where(MessageWait.name == name, Instance.status == "running", Instance.id != source.id)
        .order_by(Instance.id))
    for target in candidates:
        case = restore_case(target)
        try:
            case.deliver_message(name, payload if isinstance(payload, dict) else {"payload": payload}, correlations)
        except MessageNotAccepted:
            continue
        except ScriptFailure as failure:
            target.status, target.error = "error", failure.as_dict()
        audit.record("message_delivered", actor_id=None, instance_id=target.id, message=name, source=source.id)
        _persist(target, case, hops)
        return
    audit.record("message_undelivered", actor_id=None, instance_id=source.id, message=name)


def _milestone(instance: Instance, views: list, case: Case) -> str | None:
    if instance.status == "error":
        return "出错，待管理员处理 error"
    found = definition(instance.process_key)
    for view in views:
        if found and view.name in found.milestones:
            return found.milestones[view.name]
    for element in case.waiting_elements() if not views else []:
        if found and element in found.milestones:
            return found.milestones[element]
    if views:
        return "、".join(dict.fromkeys(v.title for v in views))[:200]  # parallel steps: fit the column
    return "等待中 waiting"


def _completed_milestone(instance: Instance) -> str:
    return f"已结束 completed: {instance.outcome}" if instance.outcome else "已结束 completed"


def _apply_effects(instance: Instance, data: dict[str, Any]) -> None:
    """Declarative effects a process asks for when it ends (see ProcessDefinition.on_complete)."""
    found = definition(instance.process_key)
    if not found or not found.on_complete:
        return
    subject = resolve_subject(instance.subject_kind, instance.subject)
    for effect in found.on_complete(instance.outcome, data, subject.facts):
        apply_effect(instance, effect)


def apply_effect(instance: Instance, effect: dict[str, Any]) -> None:
    kind = effect.get("kind")
    if kind == "start_process":
        if current_version(effect["process"]) is None:
            # a pack may ask for a process nobody has deployed (yet): record that, do not fail the step
            audit.record("effect_skipped", actor_id=None, instance_id=instance.id, kind=kind,
                         process=effect["process"], subject=effect.get("subject"), reason="not_deployed")
            return
        try:
            with db.session.begin_nested():  # a refused start must not undo the step that asked for it
                started = start_instance(None, effect["process"], effect["subject"], extra=effect.get("data") or {})
        except ApiError as exc:
            audit.record("effect_failed", actor_id=None, instance_id=instance.id, kind=kind,
                         process=effect["process"], subject=effect.get("subject"), error=exc.code, details=exc.details)
            return
        audit.record("effect_start_process", actor_id=None, instance_id=instance.id, started=started.id)
    elif kind == "set_person":
        from service.org.models import Person

        person = db.session.get(Person, effect["person"])
        if person is not None:
            for field_name, value in (effect.get("values") or {}).items():
                if field_name in {"party_status", "league_post"}:
                    setattr(person, field_name, value)
            audit.record("effect_set_person", actor_id=None, instance_id=instance.id, person=person.id,
                         values=effect.get("values"))
    elif kind == "set_unit":
        from service.org.models import OrgUnit

        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == (effect.get("unit") or instance.subject)))
        if unit is not None:
            for field_name, value in (effect.get("values") or {}).items():
                if field_name == "last_reelection":
                    unit.last_reelection = date.fromisoformat(value) if value else None
            audit.record("effect_set_unit", actor_id=None, instance_id=instance.id, unit=unit.code,
                         values=effect.get("values"))
    elif kind == "record":
        from service.records.operations import add_record

        add_record(subject_kind=effect.get("subject_kind") or instance.subject_kind,
                   subject=effect.get("subject") or instance.subject, kind=effect["record"],
                   year=effect.get("year"), data=effect.get("data") or {}, instance_id=instance.id)
    else:
        raise ValueError(f"unknown effect kind {kind!r}")


def processes_by_key() -> dict[str, ProcessModel]:
    return {m.key: m for m in db.session.scalars(select(ProcessModel))}

