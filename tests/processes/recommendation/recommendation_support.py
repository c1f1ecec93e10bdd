"""Support for the 推优入党 process tests: the real bpmn/ and forms/ files, driven like the service drives a case.

Each step validates the submitted data against the task's real form (defaults filled in, as the
service does), completes the task, then serializes and restores the case, as a request would.
Time is the service clock: `at=` freezes it for the step (scripts read it through service.pack.now
and timers through the engine).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from processes.recommendation import DEFINITION
from service import clock
from service.engine import Case, Engine, LoadedSpec
from tests.processes.process_harness import beijing, checked_submission

ROOT = Path(__file__).resolve().parents[3]
BPMN = ROOT / "bpmn"
FORMS = ROOT / "forms" / "recommendation"
CANDIDATE = "2023010101"




T0 = beijing(2026, 9, 1)  # a Tuesday: the case starts


def candidate_facts(**changes: Any) -> dict[str, Any]:
    """Subject facts as service/instances/subjects.py builds them for a person."""
    facts = {
        "id": CANDIDATE, "name": "张三", "gender": "男", "birth_date": "2005-03-01", "org_unit": "TZB-JX2301",
        "league_member": True, "league_joined": "2019-05-04", "league_post": "组织委员",
        "party_status": "applicant", "party_applied": "2024-10-10",
        "unit": {"code": "TZB-JX2301", "name": "机械2301团支部", "kind": "league_branch", "founded": "2023-09-15",
                 "last_reelection": None, "parent": "TZZ", "paired_with": "DZB-S1", "league_members": 30},
    }
    facts.update(changes)
    return facts


def _form(task_name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{task_name}.schema.json").read_text(encoding="utf-8"))




class Recommendation:
    """One case of the process, restored from its JSON state after every step."""

    def __init__(self, engine: Engine, loaded: LoadedSpec, case: Case):
        self.engine, self.loaded, self.case = engine, loaded, case
        self.now = T0

    # -- stepping -------------------------------------------------------------------------------
    def _step(self, at: datetime | None, action: Any) -> Recommendation:
        self.now = at or self.now
        with clock.frozen_at(self.now):
            action()
        self.case = self.engine.restore(self.loaded, self.case.state_json())
        return self

    def task(self, name: str) -> Any:
        ready = {t.name: t for t in self.case.ready_human_tasks()}
        assert name in ready, f"{name} is not ready; ready: {sorted(ready)}; outcome: {self.outcome}"
        return ready[name]

    def complete(self, name: str, data: Mapping[str, Any] | None = None, *, at: datetime | None = None) -> Recommendation:
        submitted = checked_submission(_form(name), data)
        task = self.task(name)
        return self._step(at, lambda: self.case.complete(task.id, submitted))

    def fire_timers(self, at: datetime) -> Recommendation:
        return self._step(at, self.case.fire_due_timers)

    def send(self, message: str, payload: Mapping[str, Any], *, at: datetime | None = None) -> Recommendation:
        return self._step(at, lambda: self.case.deliver_message(message, payload))

    # -- reading ---------------------------------------------------------------------------------
    @property
    def ready(self) -> list[str]:
        return sorted(t.name for t in self.case.ready_human_tasks())

    @property
    def data(self) -> dict[str, Any]:
        """The case data as the next step sees it: a ready task's data while one waits (Case.data
        reads the engine's last task, which after a boundary timer is an internal join task)."""
        ready = self.case.ready_human_tasks()
        return dict(ready[0].data) if ready and not self.completed else self.case.data

    @property
    def outcome(self) -> str | None:
        return self.data.get("outcome")

    @property
    def completed(self) -> bool:
        return self.case.completed

    def lane_of(self, name: str) -> str:
        """The role actually offered the task, after the pack's resolve_lane (as the service does)."""
        task = self.task(name)
        assert DEFINITION.resolve_lane is not None
        return DEFINITION.resolve_lane(task.lane, "league_branch", task.data)

    # -- the usual steps -----------------------------------------------------------------------------
    def apply(self, **data: Any) -> Recommendation:
        return self.complete("apply", {"statement": "我志愿加入中国共产党，请团组织推荐。", **data})

    def review(self, decision: str = "approve", **data: Any) -> Recommendation:
        return self.complete("committee_review", {"decision": decision, **data})

    def approve_meeting(self, meeting_date: str = "2026-09-10", **data: Any) -> Recommendation:
        return self.complete("meeting_approval", {"decision": "approve", "meeting_date": meeting_date,
                                                  "meeting_time": "14:30", "meeting_place": "一教 201", **data})

    def record(self, *, entitled: int = 20, present: int = 18, yes: int = 15, no: int = 2, abstain: int = 1,
               ballots_issued: int | None = None, ballots_collected: int | None = None,
               meeting_date: str = "2026-09-10", at: datetime | None = None) -> Recommendation:
        return self.complete("meeting_record", {
            "meeting_date": meeting_date, "entitled": entitled, "present": present, "yes": yes, "no": no,
            "abstain": abstain, "ballots_issued": present if ballots_issued is None else ballots_issued,
            "ballots_collected": (yes + no + abstain) if ballots_collected is None else ballots_collected,
        }, at=at)

    def opinion(self, *, at: datetime | None = None) -> Recommendation:
        return self.complete("committee_opinion", {"opinion": "该同志思想进步，学习成绩优良，同意推荐。"}, at=at)

    def to_publicity(self, *, at: datetime | None = None) -> Recommendation:
        """From a fresh case to the public notice, which starts at `at`."""
        return self.apply().review().approve_meeting().record().opinion(at=at)

    def general_review(self, decision: str = "approve", comment: str = "同意推荐", **kw: Any) -> Recommendation:
        return self.complete("general_branch_review", {"decision": decision, "comment": comment}, **kw)
