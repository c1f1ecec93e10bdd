"""Workflow state without its spec: the spec is stored once per process version."""

from __future__ import annotations

import copy
import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
registry = _serializer.registry
FORMAT_VERSION = _serializer.VERSION
# the registered converter instance (registry entries are partials over its bound to_dict)
_converter: BpmnWorkflowConverter = registry.convert_to_dict[registry.typenames[BpmnWorkflow]].args[1].__self__
_Encoder = create_encoder(registry)


def spec_from_json(spec_json: str) -> tuple[Any, dict[str, Any]]:
    data = json.loads(spec_json)
    spec = registry.restore(data["spec"])
    subprocess_specs = {name: registry.restore(s) for name, s in data["subprocess_specs"].items()}
    return spec, subprocess_specs


#: levels of history kept above each unfinished task, finished tasks kept however they sit in the
#: tree (the most recent ones: returns and withdrawals reset to them), and the least number of
#: tasks worth removing at once
KEEP_LEVELS = 8
KEEP_RECENT = 12
COMPACT_MIN = 20


def compact_history(workflow: BpmnWorkflow) -> int:
    """Drop the old finished history of a long case; returns how many tasks went.

    SpiffWorkflow never forgets: every round of a loop (a rectification's reporting periods) adds
    tasks to the tree, and each finished embedded subprocess stays in `subprocesses`, so the state —
    and the cost of every step — grows with the case's age, and the task iterator stops at depth
    1000. A running case needs its unfinished tasks with all that hangs under them (joins, boundary
    events, waiting timers), their ancestors for KEEP_LEVELS levels and the KEEP_RECENT most
    recently finished tasks. Everything else in the top-level tree, and the subprocesses those tasks
    ran, is removed; a kept task whose parent went hangs from its nearest kept ancestor. The ids of
    the elements the removed tasks completed are kept (`history`), so diagrams still mark the path."""
    tasks = workflow.tasks
    if len(tasks) < KEEP_LEVELS + KEEP_RECENT + COMPACT_MIN:
        return 0
    root = workflow.task_tree
    keep: set[UUID] = {root.id}
    finished = []
    for task in tasks.values():
        if task.has_state(TaskState.FINISHED_MASK):
            finished.append(task)
            continue
        node, levels = task.parent, 1
        while node is not None and levels <= KEEP_LEVELS:
            keep.add(node.id)
            node, levels = node.parent, levels + 1
        stack = [task]  # and all that hangs under it (a boundary split's fired reminder, predictions)
        while stack:
            node = stack.pop()
            if node.id not in keep:
                keep.add(node.id)
                stack.extend(node.children)
    if len(keep) == 1:
        return 0  # nothing unfinished: a completed case stays as it is
    finished.sort(key=lambda t: t.last_state_change, reverse=True)
    keep.update(t.id for t in finished[:KEEP_RECENT])
    removed = [t for t in tasks.values() if t.id not in keep]
    if len(removed) < COMPACT_MIN:
        return 0
    parents: dict[UUID, UUID] = {}
    for task in tasks.values():
        if task.id in keep and task is not root and task._parent not in keep:
            node = task.parent
            while node.id not in keep:
                node = node.parent
            parents[task.id] = node.id
    history = getattr(workflow, "pruned_history", [])
    seen = set(history)
    for task in removed:
        element = getattr(task.task_spec, "bpmn_id", None)
        if element and task.has_state(TaskState.COMPLETED) and element not in seen:
            seen.add(element)
            history.append(element)
    workflow.pruned_history = history
    for task in removed:
        del tasks[task.id]
    for task in tasks.values():
        task._children = [child for child in task._children if child in tasks]
    for task_id, parent_id in sorted(parents.items(), key=lambda item: tasks[item[0]].last_state_change):
        tasks[task_id]._parent = parent_id
        tasks[parent_id]._children.append(task_id)
    if workflow.last_task is not None and workflow.last_task.id not in tasks:
        workflow.last_task = tasks[finished[0].id] if finished and finished[0].id in tasks else None
    # a task's data is stored as its difference from its parent's: give the root (finished long ago,
    # never run again) the newest data, so the tasks now hanging from it do not each store a full copy
    newest = workflow.last_task or (tasks[finished[0].id] if finished and finished[0].id in tasks else None)
    if newest is not None and newest is not root:
        root.set_data(**copy.deepcopy(newest.data))
    _drop_orphan_subprocesses(workflow)
    return len(removed)


def _drop_orphan_subprocesses(workflow: BpmnWorkflow) -> None:
    """Subprocesses whose task was removed (repeatedly: a subprocess may run inside another)."""
    while True:
        known = set(workflow.tasks).union(*(sp.tasks for sp in workflow.subprocesses.values()))
        orphans = [sp_id for sp_id in workflow.subprocesses if sp_id not in known]
        if not orphans:
            return
        for sp_id in orphans:
            del workflow.subprocesses[sp_id]


def _slim_finished_subprocesses(workflow: BpmnWorkflow) -> None:
    """In a case that ran an embedded subprocess many times (a loop of periods), every finished run
    keeps copies of the case data on its tasks, though it handed its result back when it ended.
    Finished runs but the most recent keep their tasks (the path taken) without the data."""
    finished = [sp for sp in workflow.subprocesses.values() if sp.completed]
    if len(finished) < 3:
        return
    finished.sort(key=lambda sp: sp.last_task.last_state_change if sp.last_task else 0)
    for sp in finished[:-1]:
        for task in sp.tasks.values():
            if task.data:
                task.data = {}


def state_to_json(workflow: BpmnWorkflow) -> str:
    compact_history(workflow)
    _slim_finished_subprocesses(workflow)
    registry._encoder_mode = True
    try:
        dct = WorkflowConverter.to_dict(_converter, workflow)
        dct["subprocesses"] = _converter.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
        if getattr(workflow, "pruned_history", None):
            dct["history"] = workflow.pruned_history
        dct["serializer_version"] = FORMAT_VERSION
        return json.dumps(dct, cls=_Encoder, ensure_ascii=False, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def state_from_json(state_json: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    dct = json.loads(state_json)
    version = dct.pop("serializer_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        # an older engine wrote this: let SpiffWorkflow migrate it with the spec put back
        dct["spec"] = registry.convert(spec)
        dct["subprocess_specs"] = {n: registry.convert(s) for n, s in subprocess_specs.items()}
        dct[_serializer.VERSION_KEY] = version
        _serializer.migrate(dct)
        return _serializer.from_dict(dct)
    workflow = BpmnWorkflow(spec, subprocess_specs, deserializing=True)
    workflow.tasks = _converter.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    _converter.set_default_attributes(workflow, dct)
    _converter.subprocesses_from_dict(dct["subprocesses"], workflow)
    workflow.bpmn_events = registry.restore(dct.pop("bpmn_events", []))
    workflow.pruned_history = list(dct.get("history", []))
    return workflow
