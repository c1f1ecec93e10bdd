"""Engine-level driver for the rule-book processes of issue #7 items 4–6 (party_branch_assessment,
coordination_meeting, contact_visit, responsibility_letter): the real bpmn/ and forms/ files, started
with the initial data the service builds (start defaults, start data, the subject's facts, policies),
every submission checked against the task's real form, the case serialized and restored after every
step, time moved with the service clock (the engine's timers read it)."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from service import clock
from service.engine import Case, Engine, LoadedSpec, TaskView, compile_process
from service.pack import ROLES, ProcessDefinition, discover
from tests.processes.process_harness import beijing, checked_submission

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
FORMS = ROOT / "forms"
_ENGINE = Engine(time_limit=2.0)

__all__ = ["Driven", "beijing", "start_case", "definition"]


@cache
def definition(key: str) -> ProcessDefinition:
    return discover("processes")[key]


@cache
def _spec(key: str) -> str:
    dmn = {p.name: p.read_bytes() for p in BPMN.glob("*.dmn")}
    compiled = compile_process((BPMN / f"{key}.bpmn").read_bytes(), filename=f"{key}.bpmn", dmn=dmn, known_roles=ROLES)
    assert not compiled.report.issues, [i.as_dict() for i in compiled.report.issues]
    return compiled.spec_json


def start_case(key: str, facts: Mapping[str, Any], data: Mapping[str, Any] | None = None, *, at: datetime,
               policies: Mapping[str, Any] | None = None) -> Driven:
    """A case of `key` about the unit described by `facts`, run to its first wait at `at`."""
    found = definition(key)
    loaded = _ENGINE.load((key, "coordination-harness"), _spec(key), found.functions)
    initial: dict[str, Any] = dict(copy.deepcopy(dict(found.start_defaults)))
    initial.update(copy.deepcopy(dict(data or {})))
    if found.initial_data:
        initial.update(found.initial_data(facts))
    initial.update({"subject": facts["code"], "subject_unit": facts["code"], "process": key,
                    "policies": {**copy.deepcopy(dict(found.policies)), **(policies or {})}})
    case = _ENGINE.start(loaded, initial)
    driven = Driven(found, loaded, case, facts, at)
    return driven.step(at, case.run)


class Driven:
    def __init__(self, found: ProcessDefinition, loaded: LoadedSpec, case: Case, facts: Mapping[str, Any],
                 now: datetime):
        self.definition, self.loaded, self.case, self.facts, self.now = found, loaded, case, facts, now

    # -- stepping ----------------------------------------------------------------------------------
    def step(self, at: datetime | None, action: Any) -> Driven:
        self.now = at or self.now
        with clock.frozen_at(self.now):
            action()
        self.case = _ENGINE.restore(self.loaded, self.case.state_json())
        return self

    def complete(self, name: str, data: Mapping[str, Any] | None = None, *, index: int = 0,
                 at: datetime | None = None) -> Driven:
        task = self.tasks(name)[index]
        assert task.form_schema == f"{name}.schema.json" and task.form_ui_schema == f"{name}.uischema.json"
        submitted = checked_submission(self.form(name), data)
        return self.step(at, lambda: self.case.complete(task.id, submitted))

    def fire_timers(self, at: datetime) -> Driven:
        return self.step(at, self.case.fire_due_timers)

    # -- reading -------------------------------------------------------------------------------------
    def form(self, name: str) -> dict[str, Any]:
        path = FORMS / self.definition.key / f"{name}.schema.json"
        return json.loads(path.read_text(encoding="utf-8"))

    def tasks(self, name: str) -> list[TaskView]:
        found = [t for t in self.case.ready_human_tasks() if t.name == name]
        assert found, f"{name} is not ready; ready: {self.ready}; completed: {self.completed}"
        return found

    def task(self, name: str) -> TaskView:
        found = self.tasks(name)
        assert len(found) == 1, [t.name for t in found]
        return found[0]

    @property
    def ready(self) -> list[str]:
        return sorted(t.name for t in self.case.ready_human_tasks())

    def role(self, name: str, index: int = 0) -> str:
        """The role the service offers the task to (the lane through the pack's resolve_lane)."""
        task = self.tasks(name)[index]
        assert task.lane is not None
        if self.definition.resolve_lane is None:
            return task.lane
        return self.definition.resolve_lane(task.lane, self.facts.get("kind"), task.data)

    def milestone(self) -> str | None:
        for view in self.case.ready_human_tasks():
            if view.name in self.definition.milestones:
                return self.definition.milestones[view.name]
        for element in self.case.waiting_elements():
            if element in self.definition.milestones:
                return self.definition.milestones[element]
        return None

    @property
    def data(self) -> dict[str, Any]:
        return self.case.data

    @property
    def completed(self) -> bool:
        return self.case.completed

    @property
    def outcome(self) -> str | None:
        return self.case.data.get("outcome") if self.case.completed else None

    def effects(self) -> list[dict[str, Any]]:
        assert self.completed and self.definition.on_complete is not None
        return self.definition.on_complete(self.outcome, self.data, self.facts)

    def next_timer(self) -> datetime | None:
        return self.case.next_timer_due()
