"""Spec-less state: state_json holds the case, never the spec; restore resumes exactly; and
complete() refuses a task that is not READY (SpiffWorkflow's task.run() would happily run it)."""

from __future__ import annotations

import json

import pytest
from SpiffWorkflow.util.task import TaskState

from service.engine import TaskNotReady

DATA = {"member_no": 2023001, "note": "团员编号核对"}


def _views(case):
    return [(t.id, t.name, t.title, t.lane, t.data, t.due_at, t.reminders) for t in case.ready_human_tasks()]


def _future_task_id(case, element_id):
    (task,) = case.workflow.get_tasks(spec_name=element_id)
    assert task.state == TaskState.FUTURE
    return str(task.id)


def test_state_json_has_no_spec_and_is_much_smaller(compile_fixture, engine, start_case):
    compiled = compile_fixture("serialization.bpmn")
    loaded = engine.load("serialization", compiled.spec_json, {})
    case = start_case(loaded, DATA)

    state = case.state_json()
    document = json.loads(state)
    assert "spec" not in document
    assert "subprocess_specs" not in document
    assert len(state) * 3 < len(compiled.spec_json)
    # the long texts that live in the spec (instructions, scripts) are not copied into the state
    assert "Check item 7 carefully" in compiled.spec_json
    assert "Check item 7" not in state
    assert "handbook section 7" not in state
    assert "团员编号核对" in state  # case data is stored as readable UTF-8, not \\u escapes


def test_restore_gives_the_same_ready_tasks(load_process, engine, start_case):
    loaded = load_process("serialization.bpmn")
    case = start_case(loaded, DATA)

    restored = engine.restore(loaded, case.state_json())
    assert _views(restored) == _views(case)
    assert restored.state_json() == case.state_json()  # a stable round trip

    # and both copies continue identically
    (fill,) = case.ready_human_tasks()
    for copy in (case, restored):
        copy.complete(fill.id, {"ok": True})
    assert _views(restored) == _views(case)
    assert [t.name for t in restored.ready_human_tasks()] == ["check"]
    assert restored.ready_human_tasks()[0].data["stamp"] == "CHECKED-2023001"


def test_a_restored_case_runs_to_the_end_inside_a_subprocess(load_process, engine, reload, start_case):
    loaded = load_process("serialization.bpmn")
    case = start_case(loaded, DATA)
    for _ in range(2):
        (task,) = case.ready_human_tasks()
        case.complete(task.id, {})
        case = reload(loaded, case)

    assert case.completed
    assert case.data["index_key"] == "checked-2023001"
    assert case.ready_human_tasks() == []


def test_start_data_is_copied(load_process, engine):
    loaded = load_process("serialization.bpmn")
    data = {"member_no": 1, "tags": ["a"]}
    case = engine.start(loaded, data)
    case.run()
    data["tags"].append("changed later by the caller")

    assert case.ready_human_tasks()[0].data["tags"] == ["a"]


def test_completing_a_future_task_raises_task_not_ready(load_process, start_case, reload):
    loaded = load_process("serialization.bpmn")
    case = start_case(loaded, DATA)
    check_id = _future_task_id(case, "check")
    before = case.state_json()

    with pytest.raises(TaskNotReady):
        case.complete(check_id, {"ok": True})

    # nothing moved: the task is still FUTURE, the ready task is still the first one, the script did not run
    assert case.state_json() == before
    assert [t.name for t in case.ready_human_tasks()] == ["fill"]
    case = reload(loaded, case)
    assert _future_task_id(case, "check") == check_id
    assert "stamp" not in case.ready_human_tasks()[0].data


@pytest.mark.parametrize("task_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", ""])
def test_completing_an_unknown_task_raises_task_not_ready(load_process, start_case, task_id):
    case = start_case(load_process("serialization.bpmn"), DATA)
    with pytest.raises(TaskNotReady):
        case.complete(task_id, {})


def test_an_engine_task_cannot_be_completed_by_a_person(load_process, start_case):
    case = start_case(load_process("serialization.bpmn"), DATA)
    (fill,) = case.ready_human_tasks()
    case.complete(fill.id, {})
    (stamp,) = case.workflow.get_tasks(spec_name="stamp")
    assert stamp.state == TaskState.COMPLETED

    with pytest.raises(TaskNotReady):  # a script task (not manual), already done
        case.complete(str(stamp.id), {})
    with pytest.raises(TaskNotReady):  # a completed human task
        case.complete(fill.id, {})
