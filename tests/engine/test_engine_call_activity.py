"""Call activity: the parent calls a process from a second BPMN document passed as `library`."""

from __future__ import annotations

import json

import pytest

from service.engine import InvalidProcess, ScriptFailure


def _load(load_process):
    return load_process("call_parent.bpmn", library=["call_child.bpmn"])


def test_the_child_spec_is_compiled_into_the_parent(compile_fixture):
    compiled = compile_fixture("call_parent.bpmn", library=["call_child.bpmn"])

    assert compiled.process_id == "call_parent"
    assert compiled.report.called_elements == {"background_check"}
    assert list(json.loads(compiled.spec_json)["subprocess_specs"]) == ["background_check"]


def test_without_the_library_the_parent_is_refused(compile_fixture):
    with pytest.raises(InvalidProcess) as info:
        compile_fixture("call_parent.bpmn")
    assert [i.element_id for i in info.value.issues] == ["run_check"]
    assert "background_check" in info.value.issues[0].message


def test_data_in_only_declared_inputs_reach_the_child(load_process, start_case):
    loaded = _load(load_process)
    case = start_case(loaded, {"applicant": "zhang", "secret": "parent-only"})

    (task,) = case.ready_human_tasks()
    assert task.name == "investigate"
    assert task.lane == "investigator"  # the child's own lane
    assert task.data == {"applicant": "zhang"}  # dataInput `applicant` only; `secret` stays in the parent


def test_data_out_only_declared_outputs_return_to_the_parent(load_process, start_case, reload):
    loaded = _load(load_process)
    case = start_case(loaded, {"applicant": "zhang", "secret": "parent-only"})
    (investigate,) = case.ready_human_tasks()

    case.complete(investigate.id, {"finding": "late dues"})
    case = reload(loaded, case)

    (decide,) = case.ready_human_tasks()
    assert decide.name == "decide"
    assert decide.lane == "secretary"
    assert decide.data["verdict"] == "flagged: late dues"
    assert decide.data["secret"] == "parent-only"  # the parent's own data is kept
    assert "scratch" not in decide.data  # child-internal variables are not dataOutputs
    assert "finding" not in decide.data

    case.complete(decide.id, {"approved": True})
    assert case.completed
    assert case.data["verdict"] == "flagged: late dues"
    assert case.data["approved"] is True


def test_a_missing_data_input_fails_when_the_child_starts(load_process, engine):
    loaded = _load(load_process)
    case = engine.start(loaded, {"secret": "no applicant here"})

    with pytest.raises(ScriptFailure) as info:
        case.run()
    assert info.value.element_id == "run_check"
    assert "Data Input" in info.value.message
