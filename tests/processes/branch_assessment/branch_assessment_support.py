"""Support for the 团支部年度考核 tests: the real bpmn/ and forms/ files, driven like the service drives a case.

Each step validates the submitted data against the task's real form (defaults filled in, as the
service does), completes the task, then serializes and restores the case, as a request would.
Time is the service clock: `at=` freezes it for the step (the engine's timers read it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from processes.branch_assessment import INDICATORS
from service import clock
from service.engine import Case, Engine, LoadedSpec
from tests.processes.process_harness import beijing, checked_submission

ROOT = Path(__file__).resolve().parents[3]
BPMN = ROOT / "bpmn"
FORMS = ROOT / "forms" / "branch_assessment"
BRANCH = "TZB-JX2301"
REVIEWERS = ["rev_wang", "rev_li"]




T0 = beijing(2026, 11, 2)  # the campaign starts the case
DEADLINE = "2026-11-30"  # the self-assessment is due by the end of this day, Beijing time
DUE = beijing(2026, 11, 30, 23, 59, 59)
REMINDER = DUE - timedelta(days=3)


def sheet(total: float) -> dict[str, float]:
    """A score sheet adding up to `total`: full marks, minus points taken from the indicators in order."""
    missing = round(100 - total, 6)
    scores: dict[str, float] = {}
    for indicator in INDICATORS:
        taken = min(indicator["max"], missing)
        missing = round(missing - taken, 6)
        scores[indicator["key"]] = round(indicator["max"] - taken, 6)
    return scores


def branch_facts(**changes: Any) -> dict[str, Any]:
    """Subject facts as service/instances/subjects.py builds them for an org unit."""
    facts = {"code": BRANCH, "name": "机械2301团支部", "kind": "league_branch", "founded": "2023-09-15",
             "last_reelection": None, "parent": "TZZ", "paired_with": "DZB-S1", "league_members": 30}
    facts.update(changes)
    return facts


def _form(task_name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{task_name}.schema.json").read_text(encoding="utf-8"))




class Assessment:
    """One case of the process, restored from its JSON state after every step."""

    def __init__(self, engine: Engine, loaded: LoadedSpec, case: Case):
        self.engine, self.loaded, self.case = engine, loaded, case
        self.now = T0

    # -- stepping -------------------------------------------------------------------------------
    def _step(self, at: datetime | None, action: Any) -> Assessment:
        self.now = at or self.now
        with clock.frozen_at(self.now):
            action()
        self.case = self.engine.restore(self.loaded, self.case.state_json())
        return self

    def task(self, name: str, reviewer: str | None = None) -> Any:
        ready = [t for t in self.case.ready_human_tasks()
                 if t.name == name and (reviewer is None or t.data.get("reviewer") == reviewer)]
        assert ready, f"{name} ({reviewer}) is not ready; ready: {self.ready}; outcome: {self.outcome}"
        return ready[0]

    def complete(self, name: str, data: Mapping[str, Any] | None = None, *, reviewer: str | None = None,
                 at: datetime | None = None) -> Assessment:
        submitted = checked_submission(_form(name), data)
        task = self.task(name, reviewer)
        return self._step(at, lambda: self.case.complete(task.id, submitted))

    def fire_timers(self, at: datetime) -> Assessment:
        return self._step(at, self.case.fire_due_timers)

    # -- the usual steps ---------------------------------------------------------------------------
    def self_assess(self, total: float = 92, **changes: Any) -> Assessment:
        data = {"scores": sheet(total), "evidence": "支委会会议记录12份\n主题团日活动照片", "representative": "李四"}
        data.update(changes)
        return self.complete("self_assessment", data)

    def review(self, totals: Mapping[str, float], vetoes: Mapping[str, str] | None = None) -> Assessment:
        """Each reviewer (in the mapping's order, i.e. completion order) scores the given total."""
        for reviewer, total in totals.items():
            veto_reason = (vetoes or {}).get(reviewer)
            data: dict[str, Any] = {"scores": sheet(total), "veto": veto_reason is not None,
                                    "comment": veto_reason or ""}
            self.complete("review", data, reviewer=reviewer)
        return self

    def confirm(self, decision: str = "confirm", comment: str = "") -> Assessment:
        return self.complete("confirm", {"decision": decision, "comment": comment})

    def accept(self, decision: str = "accept", comment: str = "") -> Assessment:
        return self.complete("party_acceptance", {"decision": decision, "comment": comment})

    # -- reading ---------------------------------------------------------------------------------
    @property
    def ready(self) -> list[str]:
        return sorted(t.name for t in self.case.ready_human_tasks())

    @property
    def data(self) -> dict[str, Any]:
        return self.case.data

    @property
    def outcome(self) -> str | None:
        return self.case.data.get("outcome") if self.case.completed else None

    @property
    def completed(self) -> bool:
        return self.case.completed
