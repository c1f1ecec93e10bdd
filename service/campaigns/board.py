"""Read-only queries behind the campaign page: a campaign's cases with their open tasks and the values of
their data, in a fixed number of statements however many branches take part.

A case's data lives in its serialized state. Restoring it costs a few milliseconds per case, so the values
are cached per (instance id, revision): the revision changes with every step, so a cached value is never
stale, and a board of 200 branches restores only the cases that moved since it was last shown.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import defer, raiseload

from service.auth.actor import Actor
from service.extensions import db
from service.instances.access import visible_instances_condition, visible_units
from service.instances.models import HumanTask, Instance
from service.org.models import OrgUnit
from service.runtime import engine, load_spec

from .models import Campaign

VALUES_CACHE_ITEMS = 5_000


@dataclass
class BoardCase:
    """One case of a campaign with what the board shows about it."""

    instance: Instance
    unit_name: str | None
    ready: list[HumanTask] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


class _ValuesCache:
    """(instance id, revision) -> data, least recently used out first; one per app and process."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[tuple[int, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> dict[str, Any] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[int, int], data: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _values_cache() -> _ValuesCache:
    cache: _ValuesCache = current_app.extensions.setdefault("case_values_cache", _ValuesCache(VALUES_CACHE_ITEMS))
    return cache


def case_data(instances: Sequence[Instance]) -> dict[int, dict[str, Any]]:
    """instance id -> the case's current data (as Case.data gives it), for cases loaded with their
    `state` deferred: only the states of cases not cached at their revision are read, in one statement."""
    cache = _values_cache()
    found: dict[int, dict[str, Any]] = {}
    missing: list[Instance] = []
    for instance in instances:
        hit = cache.get((instance.id, instance.revision))
        if hit is None:
            missing.append(instance)
        else:
            found[instance.id] = hit
    if missing:
        states = dict(db.session.execute(select(Instance.id, Instance.state).where(
            Instance.id.in_([i.id for i in missing]))).all())
        for instance in missing:
            data = _restored_data(instance, states.get(instance.id))
            cache.put((instance.id, instance.revision), data)
            found[instance.id] = data
    return found


def _restored_data(instance: Instance, state: str | None) -> dict[str, Any]:
    if not state or state == "{}":
        return {}
    try:
        data = dict(engine().restore(load_spec(instance.version), state).data)
        data.pop("policies", None)  # the process's policy snapshot: large, and never a value of a row
        return data
    except Exception:  # a state the engine cannot read must not break a list: the case shows no values
        current_app.logger.warning("case %s: state could not be restored for its values", instance.id)
        return {}


def visible_subset(actor: Actor, instances: list[Instance]) -> list[Instance]:
    """The instances the actor may see (visible_instances_condition): the cases of their units and their own are
    decided here; only the others are asked of the database, by id."""
    if actor.is_admin:
        return instances
    units = visible_units(actor)
    decided = {i.id for i in instances if i.subject_unit in units
               or (i.subject_kind == "person" and actor.person_id is not None and i.subject == actor.person_id)}
    rest = [i.id for i in instances if i.id not in decided]
    if rest:
        decided |= set(db.session.scalars(select(Instance.id).where(Instance.id.in_(rest), visible_instances_condition(actor, correlated=True))))
    return [i for i in instances if i.id in decided]


def campaign_cases(campaign: Campaign, actor: Actor | None = None) -> list[BoardCase]:
    """The campaign's cases the actor may see (all when `actor` is None), with unit names, open tasks and data."""
    # ordered here, not in SQL: an ORDER BY subject tempts SQLite to walk the subject index over every case
    instances = sorted(db.session.scalars(
        select(Instance).where(Instance.campaign_id == campaign.id).options(defer(Instance.state), defer(Instance.error))),
        key=lambda i: (i.subject, i.id))
    if actor is not None:
        instances = visible_subset(actor, instances)
    if not instances:
        return []
    ids = [i.id for i in instances]
    names = dict(db.session.execute(select(OrgUnit.code, OrgUnit.name).where(
        OrgUnit.code.in_(sorted({i.subject for i in instances})))).all())
    cases = {i.id: BoardCase(i, names.get(i.subject)) for i in instances}
    for task in db.session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids), HumanTask.status == "ready")
                                   .options(raiseload("*")).order_by(HumanTask.created_at, HumanTask.id)):
        cases[task.instance_id].ready.append(task)
    for instance_id, data in case_data(instances).items():
        cases[instance_id].data = data
    return list(cases.values())


def reviewer_totals(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The reviewers' totals of the current round (scores only: comments and vetoes stay out)."""
    reviews = data.get("reviews")
    if not isinstance(reviews, list):
        return []
    return [{"reviewer": r.get("reviewer"), "total": r.get("total")} for r in reviews
            if isinstance(r, dict) and isinstance(r.get("total"), int | float) and not isinstance(r.get("total"), bool)]

