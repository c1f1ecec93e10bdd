"""Dry run: play a process through entirely in memory, to see which path given answers take.

Nothing here touches a database. Each ready human task is completed with the answer given for its
element id (or {}); when only timers remain, the clock jumps to the earliest due time and they fire.
Message waits are not answered: the run stops there and reports where it waits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.util.task import TaskState

from service import clock

from .runtime import Case, Engine, LoadedSpec, ScriptFailure, TaskNotReady, TaskView
from .sandbox import SandboxEnvironment
from .serialization import spec_from_json

MAX_STEPS = 500


@dataclass
class DryRunResult:
    path: list[str] = field(default_factory=list)  # BPMN ids in the order they completed
    waiting_at: list[str] = field(default_factory=list)
    ended: bool = False
    outcome: Any = None
    data: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    steps: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "waiting_at": self.waiting_at, "ended": self.ended, "outcome": self.outcome,
                "data": self.data, "error": self.error}


def load_for_dry_run(spec_json: str, functions: Mapping[str, Callable[..., Any]], time_limit: float) -> LoadedSpec:
    """A parsed spec with its own script engine, outside the engine's cache (a draft is never reused)."""
    spec, subprocess_specs = spec_from_json(spec_json)
    environment = SandboxEnvironment(functions, time_limit)
    return LoadedSpec(spec, subprocess_specs, PythonScriptEngine(environment=environment))


class _Recorder:
    """Collects the BPMN ids of tasks as they complete (by completion time, then tree order)."""

    def __init__(self, case: Case):
        self.case = case
        self.seen: set[Any] = set()
        self.path: list[str] = []

    def collect(self) -> None:
        fresh = [t for t in self.case.workflow.get_tasks(state=TaskState.COMPLETED) if t.id not in self.seen]
        fresh.sort(key=lambda t: t.last_state_change)
        for task in fresh:
            self.seen.add(task.id)
            element = getattr(task.task_spec, "bpmn_id", None)
            if element and not _is_process(task):
                self.path.append(element)


def _is_process(task: Any) -> bool:
    return task.parent is None or task.task_spec.__class__.__name__ in {"BpmnStartTask", "BpmnProcessSpec"}


def _answer(answers: Mapping[str, Any], element: str, visits: dict[str, int]) -> dict[str, Any]:
    """answers[element] — a dict, or a list of dicts for successive visits (the last one repeats)."""
    given = answers.get(element)
    count = visits.get(element, 0)
    visits[element] = count + 1
    if isinstance(given, list):
        given = given[min(count, len(given) - 1)] if given else {}
    return dict(given) if isinstance(given, Mapping) else {}


def dry_run(engine: Engine, loaded: LoadedSpec, data: Mapping[str, Any], answers: Mapping[str, Any], *,
            prepare: Callable[[TaskView, dict[str, Any]], dict[str, Any]] | None = None,
            max_steps: int = MAX_STEPS, start: datetime | None = None) -> DryRunResult:
    """Run from the start until the process ends, waits for a message, fails or `max_steps` steps
    (a task completed or a timer fired) were taken. `prepare(task, answer)` may fill in form defaults."""
    now = start or clock.now()
    result = DryRunResult()
    visits: dict[str, int] = {}
    with clock.frozen_at(now):
        case = engine.start(loaded, data)
    recorder = _Recorder(case)
    try:
        with clock.frozen_at(now):
            case.run()
        recorder.collect()
        while not case.completed and result.steps < max_steps:
            ready = case.ready_human_tasks()
            if ready:
                task = ready[0]
                answer = _answer(answers, task.name, visits)
                if prepare is not None:
                    answer = prepare(task, answer)
                with clock.frozen_at(now):
                    case.complete(task.id, answer)
            else:
                due = case.next_timer_due()
                if due is None:
                    break  # a message or something else from outside
                now = max(now, due + timedelta(seconds=1))  # the engine fires a timer after its due time
                with clock.frozen_at(now):
                    case.fire_due_timers()
            result.steps += 1
            recorder.collect()
    except ScriptFailure as failure:
        recorder.collect()
        result.error = failure.as_dict()
    except TaskNotReady as exc:  # should not happen: the task was just listed as ready
        result.error = {"element_id": None, "message": f"task not ready: {exc}", "line": None, "timed_out": False}
    result.path = recorder.path
    result.ended = case.completed
    result.data = _json_safe(case.data)
    result.outcome = result.data.get("outcome")
    if not result.ended:
        result.waiting_at = list(dict.fromkeys(
            [t.name for t in case.ready_human_tasks()] + case.waiting_elements()))
    if not result.ended and result.error is None and result.steps >= max_steps:
        result.error = {"element_id": None, "line": None, "timed_out": False,
                        "message": f"stopped after {max_steps} steps (a loop?) / 已运行 {max_steps} 步仍未结束（可能存在循环）"}
    return result


def _json_safe(value: Any) -> Any:
    """Task data as plain JSON values (dates and other objects become strings)."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
