"""Moving a running case to another version of its process.

The serialized state names each task's spec by name (the BPMN id for diagram elements). A case can
move when every element it is at now (ready or started tasks, waiting events, a task in error)
exists in the new version with the same kind. Moving then rewrites the state against the new spec:
  - predicted tasks (future, likely, maybe) are dropped and predicted again from the new spec, so
    the case continues along the new version's flows;
  - completed or cancelled tasks whose element no longer exists are cut out of the tree (their
    children hang on their parent), so the history keeps what still exists.
The task data stays as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.util.task import TaskState

from .runtime import Case, LoadedSpec
from .serialization import state_from_json

_PREDICTED = TaskState.FUTURE | TaskState.LIKELY | TaskState.MAYBE
_CURRENT = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass
class Blocker:
    element_id: str
    name: str
    reason: str  # "missing" | "changed_type"
    old_type: str
    new_type: str | None


def _bpmn_type(spec: Any) -> str:
    return type(spec).__name__


def current_elements(case: Case) -> list[tuple[str, str, str]]:
    """(spec name, BPMN id, spec type) of the tasks the case is at now (top-level process)."""
    found: dict[str, tuple[str, str, str]] = {}
    for task in case.workflow.get_tasks(state=_CURRENT):
        if task.workflow is not case.workflow:
            continue
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        if bpmn_id:
            found[spec.name] = (spec.name, bpmn_id, _bpmn_type(spec))
    return list(found.values())


def blockers(case: Case, target: LoadedSpec) -> list[Blocker]:
    """What keeps `case` from moving to `target`: current elements missing there or of another kind."""
    specs = target.spec.task_specs
    found = []
    for name, bpmn_id, kind in current_elements(case):
        new = specs.get(name)
        if new is None:
            found.append(Blocker(bpmn_id, _title(case, name), "missing", kind, None))
        elif _bpmn_type(new) != kind:
            found.append(Blocker(bpmn_id, _title(case, name), "changed_type", kind, _bpmn_type(new)))
    return found


def _title(case: Case, name: str) -> str:
    spec = case.workflow.spec.task_specs.get(name)
    return (getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or name) if spec else name


def _prune(tasks: dict[str, Any], root: str, known: set[str]) -> str:
    """Drop predicted tasks and splice out finished tasks whose spec is unknown; returns the root id."""
    for task_id in [t for t, d in tasks.items() if d["state"] & _PREDICTED]:
        tasks.pop(task_id, None)
    for data in tasks.values():
        data["children"] = [c for c in data["children"] if c in tasks]
    for task_id in [t for t, d in tasks.items() if d["task_spec"] not in known]:
        data = tasks.pop(task_id)
        parent = tasks.get(data["parent"]) if data["parent"] else None
        for child in data["children"]:
            tasks[child]["parent"] = data["parent"]
        if parent is not None:
            at = parent["children"].index(task_id)
            parent["children"][at:at + 1] = data["children"]
        elif task_id == root:
            if len(data["children"]) != 1:
                raise ValueError("the root task cannot be replaced")
            root = data["children"][0]
    return root


def _keep_last_task(state: dict[str, Any]) -> None:
    """The last task changed (whose data the case shows) may have been cut out: take a current one."""
    if state.get("last_task") in state["tasks"]:
        return
    current = [t for t, d in state["tasks"].items() if d["state"] & _CURRENT]
    state["last_task"] = current[0] if current else None


def move_case(case: Case, target: LoadedSpec) -> Case:
    """The case re-attached to `target`'s spec (raises ValueError when blockers() is not empty)."""
    if blockers(case, target):
        raise ValueError("the case is at elements the target version does not have")
    state = json.loads(case.state_json())
    if state.get("subprocesses"):
        for sub in state["subprocesses"].values():
            spec_name = sub.get("spec")
            sub_spec = target.subprocess_specs.get(spec_name)
            if sub_spec is None:
                raise ValueError(f"the called process {spec_name} is not part of the target version")
            sub["root"] = _prune(sub["tasks"], sub["root"], set(sub_spec.task_specs))
            _keep_last_task(sub)
    state["root"] = _prune(state["tasks"], state["root"], set(target.spec.task_specs))
    _keep_last_task(state)
    workflow = state_from_json(json.dumps(state), target.spec, target.subprocess_specs)
    workflow.script_engine = target.script_engine
    moved = Case(workflow)
    _predict_again(moved)
    return moved


def _predict_again(case: Case) -> None:
    for task in list(case.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)):
        task.task_spec._predict_hook(task)
        for child in task.children:
            if child.has_state(_PREDICTED):
                child.task_spec._predict(child, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
