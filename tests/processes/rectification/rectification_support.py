"""Support for the 整改 tests: the real bpmn/ and forms/ files, driven the way the service drives a case.

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

from processes.rectification import DEFINITION
from service import clock
from service.engine import Case, Engine, LoadedSpec, TaskView
from tests.processes.process_harness import beijing, checked_submission

ROOT = Path(__file__).resolve().parents[3]
BPMN = ROOT / "bpmn"
FORMS = ROOT / "forms" / "rectification"
BRANCH = "TZB-JX2301"
DAY = timedelta(days=1)




T0 = beijing(2026, 12, 1)  # the order is issued
DEADLINE = "2027-03-31"  # to be done by the end of this day, Beijing time
DUE = beijing(2027, 3, 31, 23, 59, 59)
REMINDER = DUE - 7 * DAY
PROBLEMS = ["组织生活不规范，三会一课记录缺失", {"title": "团员教育管理薄弱", "detail": "团员证注册率不足 80%"},
            "推优程序不完整"]
MEASURES = [
    {"problem": 0, "measure": "补齐会议记录，每月召开支委会", "deadline": "2027-01-31", "owner": "李四"},
    {"problem": 1, "measure": "逐一督促团员完成注册", "deadline": "2027-02-28", "owner": "王五"},
    {"problem": 2, "measure": "按制度重新梳理推优流程", "deadline": "2027-03-15", "owner": "李四"},
]


def unit_facts(kind: str = "league_branch", code: str = BRANCH, name: str = "机械2301团支部") -> dict[str, Any]:
    """Subject facts as service/instances/subjects.py builds them for an org unit."""
    return {"code": code, "name": name, "kind": kind, "founded": "2023-09-15", "last_reelection": None,
            "parent": "TZZ", "paired_with": "DZB-S1", "league_members": 30}


def form(task_name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{task_name}.schema.json").read_text(encoding="utf-8"))




class Rectification:
    """One case of the process, restored from its JSON state after every step."""

    def __init__(self, engine: Engine, loaded: LoadedSpec, case: Case, unit_kind: str, now: datetime):
        self.engine, self.loaded, self.case = engine, loaded, case
        self.unit_kind = unit_kind
        self.now = now
        #: serialize and restore after every step, as the service does (off only to walk very long cases fast)
        self.restore_each_step = True

    # -- stepping -------------------------------------------------------------------------------------
    def _step(self, at: datetime | None, action: Any) -> Rectification:
        self.now = at or self.now
        with clock.frozen_at(self.now):
            action()
        if self.restore_each_step:
            self.restore()
        return self

    def restore(self) -> Rectification:
        self.case = self.engine.restore(self.loaded, self.case.state_json())
        return self

    def complete(self, name: str, data: Mapping[str, Any] | None = None, *, at: datetime | None = None) -> Rectification:
        task = self.task(name)
        assert task.form_schema == f"{name}.schema.json" and task.form_ui_schema == f"{name}.uischema.json"
        submitted = checked_submission(form(name), data)
        return self._step(at, lambda: self.case.complete(task.id, submitted))

    def fire_timers(self, at: datetime) -> Rectification:
        return self._step(at, self.case.fire_due_timers)

    # -- the usual steps ---------------------------------------------------------------------------------
    def acknowledge(self) -> Rectification:
        return self.complete("acknowledge", {"acknowledged": True, "note": "已收到"})

    def submit_plan(self, measures: list[dict[str, Any]] | None = None) -> Rectification:
        return self.complete("plan", {"measures": measures or MEASURES})

    def review_plan(self, decision: str = "approve", comment: str = "", set_deadline: str | None = None) -> Rectification:
        return self.complete("plan_review", {"decision": decision, "comment": comment, "set_deadline": set_deadline})

    def to_execution(self) -> Rectification:
        return self.acknowledge().submit_plan().review_plan()

    def report(self, done: list[int], text: str = "本月按方案推进", *, at: datetime | None = None) -> Rectification:
        return self.complete("progress_report", {"done": done, "report": text, "evidence": "会议记录扫描件"}, at=at)

    def finish(self, report: str = "三个问题均已整改到位") -> Rectification:
        return self.complete("completion_report", {"report": report, "evidence": "整改台账"})

    def accept(self, accepted: list[int], decision: str = "close", new_deadline: str | None = None,
               comment: str = "") -> Rectification:
        return self.complete("acceptance", {"accepted": accepted, "decision": decision,
                                            "new_deadline": new_deadline, "comment": comment})

    # -- reading -------------------------------------------------------------------------------------
    def tasks(self, name: str) -> list[TaskView]:
        return [t for t in self.case.ready_human_tasks() if t.name == name]

    def task(self, name: str) -> TaskView:
        ready = self.tasks(name)
        assert len(ready) == 1, f"{name} is not ready exactly once; ready: {self.ready}; outcome: {self.outcome}"
        return ready[0]

    @property
    def ready(self) -> list[str]:
        return sorted(t.name for t in self.case.ready_human_tasks())

    def role(self, name: str) -> str:
        """The role the service offers the task to (the lane, through the pack's resolve_lane)."""
        task = self.task(name)
        assert DEFINITION.resolve_lane is not None and task.lane is not None
        return DEFINITION.resolve_lane(task.lane, self.unit_kind, task.data)

    def milestone(self) -> str | None:
        """The milestone the service would show (service/instances/operations.py _milestone)."""
        views = self.case.ready_human_tasks()
        for view in views:
            if view.name in DEFINITION.milestones:
                return DEFINITION.milestones[view.name]
        return "、".join(dict.fromkeys(v.title for v in views)) if views else None

    @property
    def data(self) -> dict[str, Any]:
        return self.case.data

    @property
    def outcome(self) -> str | None:
        return self.case.data.get("outcome") if self.case.completed else None

    @property
    def completed(self) -> bool:
        return self.case.completed
