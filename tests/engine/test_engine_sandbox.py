"""The script sandbox seen through the engine: refused at deploy (lint) and, should a spec get past
the lint, refused again at run time; endless scripts are stopped by the time limit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from service.engine import Engine, InvalidProcess, ScriptFailure

ATTACKS = {
    # element id -> (line in sandbox_attacks.bpmn, words expected in the message)
    "use_import": (16, ["Line 2", "import"]),
    "use_open": (21, ["open"]),
    "use_subclasses": (25, ["__class__"]),
}
CANARY = Path("/tmp/engine-sandbox-canary")


def _issues(compile_fixture, name):
    with pytest.raises(InvalidProcess) as info:
        compile_fixture(name)
    return info.value.issues


def test_compile_refuses_each_attack_with_element_and_line(compile_fixture):
    issues = _issues(compile_fixture, "sandbox_attacks.bpmn")

    assert {i.element_id for i in issues} == set(ATTACKS)  # the harmless script is not reported
    assert all(i.severity == "error" for i in issues)
    for element_id, (line, words) in ATTACKS.items():
        mine = [i for i in issues if i.element_id == element_id]
        assert mine, element_id
        assert {i.line for i in mine} == {line}, element_id  # the offending line in the file
        text = " ".join(i.message for i in mine)
        for word in words:
            assert word in text, (element_id, word, text)


def test_a_condition_that_imports_is_refused_at_compile(compile_fixture):
    issues = _issues(compile_fixture, "sandbox_condition.bpmn")

    assert {i.element_id for i in issues} == {"f_yes"}  # the sequence flow holding the condition
    assert {i.line for i in issues} == {25}
    assert any("__import__" in i.message for i in issues)


@pytest.mark.parametrize("attack", ["import", "open", "subclasses"])
def test_past_the_lint_the_sandbox_refuses_at_run_time(load_unchecked, engine, attack):
    loaded = load_unchecked("sandbox_attacks.bpmn")
    case = engine.start(loaded, {"attack": attack})

    with pytest.raises(ScriptFailure) as info:
        case.run()

    failure = info.value
    assert failure.element_id == f"use_{attack}"
    assert failure.timed_out is False
    assert "sandbox" in failure.message
    assert not case.completed
    assert "listing" not in case.data and "secret" not in case.data and "classes" not in case.data


def test_past_the_lint_a_condition_cannot_import(load_unchecked, engine):
    CANARY.unlink(missing_ok=True)
    loaded = load_unchecked("sandbox_condition.bpmn")
    case = engine.start(loaded, {})

    with pytest.raises(ScriptFailure) as info:
        case.run()
    assert info.value.element_id == "route"
    assert "sandbox" in info.value.message
    assert not CANARY.exists()  # the condition would `touch` it


def test_past_the_lint_a_decision_table_cell_cannot_import(load_unchecked, engine):
    loaded = load_unchecked("sandbox_dmn.bpmn", dmn=["sandbox_dmn.dmn"])
    case = engine.start(loaded, {"anything": "x"})

    with pytest.raises(ScriptFailure) as info:
        case.run()
    assert info.value.element_id == "decide"
    assert "cwd" not in case.data


def test_harmless_script_runs_in_the_unchecked_spec(load_unchecked, engine):
    loaded = load_unchecked("sandbox_attacks.bpmn")
    case = engine.start(loaded, {"attack": "none", "words": ["pear", "apple"]})
    case.run()  # the default branch's script (it calls print) runs under the sandbox

    assert case.completed
    assert case.data["result"] == "APPLE"


def test_endless_loop_is_stopped_by_the_time_limit(load_process, start_case):
    fast = Engine(time_limit=0.3)
    loaded = load_process("sandbox_loop.bpmn", engine=fast)
    case = fast.start(loaded, {})

    began = time.monotonic()
    with pytest.raises(ScriptFailure) as info:
        case.run()
    elapsed = time.monotonic() - began

    assert info.value.timed_out is True
    assert info.value.element_id == "spin"
    assert 0.25 <= elapsed < 1.5
    assert not case.completed


def test_endless_post_script_on_completion_is_a_script_failure(load_process):
    fast = Engine(time_limit=0.3)
    loaded = load_process("sandbox_post_script.bpmn", engine=fast)
    case = fast.start(loaded, {})
    case.run()
    (task,) = case.ready_human_tasks()

    began = time.monotonic()
    with pytest.raises(ScriptFailure) as info:  # not the sandbox's BaseException escaping
        case.complete(task.id, {"answer": 1})
    assert time.monotonic() - began < 1.5
    assert info.value.timed_out is True
    assert info.value.element_id == "ask"
    assert info.value.line is not None


def test_runtime_script_errors_report_the_script_line(load_unchecked, engine):
    loaded = load_unchecked("sandbox_attacks.bpmn")
    case = engine.start(loaded, {"attack": "none"})  # `words` is missing: NameError on line 2

    with pytest.raises(ScriptFailure) as info:
        case.run()
    assert info.value.element_id == "harmless"
    assert info.value.line == 2
    assert "words" in info.value.message
