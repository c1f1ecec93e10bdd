"""An administrator's repairs of a case: retry a failed step, correct the case data."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.util.task import TaskState

from .runtime import Case

_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def failed_elements(case: Case) -> list[str]:
    return [t.task_spec.bpmn_id or t.task_spec.name for t in case.workflow.get_tasks(state=TaskState.ERROR)]


def retry_failed(case: Case) -> bool:
    """Put the tasks in error back to READY and run the engine again (which may raise ScriptFailure).
    False when no task had failed (nothing to retry)."""
    failed = list(case.workflow.get_tasks(state=TaskState.ERROR))
    for task in failed:
        task._set_state(TaskState.READY)
    for task in failed:
        if task.task_spec.manual:
            # a user task whose post-script failed: run it again with the data it was submitted with
            # (not offered again: the person did their part)
            case.complete(str(task.id), {})
    if failed:
        case.run()
    return bool(failed)


def current_data(case: Case) -> dict[str, Any]:
    """The data the next step sees: a current task's (a failed one first), else the case's."""
    tasks = list(case.workflow.get_tasks(state=TaskState.ERROR)) or list(case.workflow.get_tasks(state=_OPEN))
    tasks = [t for t in tasks if t.workflow is case.workflow]
    return dict(tasks[0].data) if tasks and not case.completed else dict(case.data)


def update_data(case: Case, changes: Mapping[str, Any]) -> int:
    """Apply `changes` to the data of every open task (the ones the next steps start from). Returns how
    many tasks were changed."""
    tasks = [t for t in case.workflow.get_tasks(state=_OPEN) if t.workflow is case.workflow]
    for task in tasks:
        for key, value in changes.items():
            task.data[key] = copy.deepcopy(value)
    return len(tasks)
