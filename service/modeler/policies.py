"""Policies: the numbers that differ between colleges (quorum, publicity days, quotas ...).

A process module declares each policy with its default; an admin may override the value. Each
case copies the values in force into its data at start, so it keeps the rules it ran under.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service import audit, clock
from service.auth.actor import Actor
from service.errors import ApiError, not_found
from service.extensions import db
from service.instances.models import Policy
from service.runtime import definition


def list_policies(key: str) -> list[dict[str, Any]]:
    found = definition(key)
    if found is None:
        raise not_found()
    overrides = {p.key: p.value.get("value") for p in db.session.scalars(select(Policy).where(Policy.process_key == key))}
    return [{"key": name, "default": default, "value": overrides.get(name, default), "overridden": name in overrides}
            for name, default in found.policies.items()]


def _same_shape(default: Any, value: Any) -> bool:
    if default is None or value is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))


def set_policy(actor: Actor, key: str, policy_key: str, value: Any) -> dict[str, Any]:
    found = definition(key)
    if found is None or policy_key not in found.policies:
        raise not_found()
    default = found.policies[policy_key]
    if not _same_shape(default, value):
        raise ApiError(422, "validation_failed", details=[{
            "field": "value", "message": f"类型应与默认值相同 / must have the type of the default ({type(default).__name__})"}])
    row = db.session.get(Policy, (key, policy_key))
    previous = row.value.get("value") if row else default
    if row is None:
        row = Policy(process_key=key, key=policy_key, value={"value": value}, updated_by=actor.user_id,
                     updated_at=clock.now())
        db.session.add(row)
    else:
        row.value, row.updated_by, row.updated_at = {"value": value}, actor.user_id, clock.now()
    audit.record("policy_changed", actor_id=actor.user_id, process=key, policy=policy_key, old=previous, new=value)
    return {"key": policy_key, "default": default, "value": value, "overridden": True}
