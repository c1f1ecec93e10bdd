"""An administrator's repairs of a case: retry a failed step, correct its data, move it to another version.

Suspend, resume and terminate are in operations.py; these complete the set the admin case page offers.
Each checks, changes, flushes and audits; none commits.
"""

from __future__ import annotations

import copy
from typing import Any

from service import audit, clock
from service.auth.actor import Actor
from service.engine.repair import current_data, retry_failed, update_data
from service.errors import ApiError, forbidden, not_found
from service.extensions import db

from . import operations
from .models import Instance

EDITABLE_STATUSES = ("running", "suspended", "error")


def _admin_instance(actor: Actor, instance_id: int) -> Instance:
    if not actor.is_admin:
        raise forbidden()
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        raise not_found()
    return instance


def retry_instance(actor: Actor | None, instance_id: int) -> Instance:
    """Run the failed step of a case in status `error` again (after its cause was fixed: the data, a
    policy, a new version). `actor` None: the system (a background job) retries. If the step fails
    again the case stays in error with the new error."""
    if actor is not None and not actor.is_admin:
        raise forbidden()
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        raise not_found()
    if instance.status != "error":
        raise ApiError(409, "conflict", "只有出错的案件可以重试 / only a case in error can be retried")
    case = operations.restore_case(instance)
    previous = copy.deepcopy(instance.error)
    audit.record("instance_retried", actor_id=actor.user_id if actor else None, instance_id=instance.id,
                 error=previous)

    def step() -> None:
        if not retry_failed(case):
            case.run()  # nothing failed inside the engine (e.g. a message delivery): just run on

    operations._advance(instance, case, actor, step)
    return instance


def case_data(instance: Instance) -> dict[str, Any]:
    """The data the case's next step starts from."""
    return current_data(operations.restore_case(instance))


def edit_data(actor: Actor, instance_id: int, changes: dict[str, Any], reason: str) -> Instance:
    """Correct a case's data: `changes` are set on the data its next steps start from. Audited with the
    old and new values and the reason. The engine does not run: the case continues when its next step
    does (or on retry)."""
    instance = _admin_instance(actor, instance_id)
    if instance.status not in EDITABLE_STATUSES:
        raise ApiError(409, "instance_not_running")
    if not changes:
        raise ApiError(422, "validation_failed", details=[{"field": "changes", "message": "没有要修改的数据 / nothing to change"}])
    if not reason.strip():
        raise ApiError(422, "validation_failed", details=[{"field": "reason", "message": "请填写修改原因 / a reason is required"}])
    operations._check_data_keys(changes, instance.process_key)
    case = operations.restore_case(instance)
    before = current_data(case)
    old = {key: copy.deepcopy(before.get(key)) for key in changes}
    if not update_data(case, changes):
        raise ApiError(409, "conflict", "案件当前没有可修改数据的环节 / the case is at no step whose data can change")
    instance.state = case.state_json()
    instance.updated_at = clock.now()
    audit.record("instance_data_changed", actor_id=actor.user_id, instance_id=instance.id, reason=reason.strip(),
                 fields=sorted(changes), data={"old": old, "new": copy.deepcopy(changes)})
    db.session.flush()
    return instance


def migrate_to(actor: Actor, instance_id: int, to_version: int) -> dict[str, Any]:
    """Move one case to version `to_version` of its process: {id, moved, reason}."""
    from service.modeler.migration import migrate_instance

    _admin_instance(actor, instance_id)
    return migrate_instance(actor, instance_id, to_version)
