"""Business rule tasks with DMN decision tables (cells are Python expressions, not FEEL)."""

from __future__ import annotations

import pytest

from service.engine import InvalidProcess, ScriptFailure

DMN = ["grading.dmn", "perks.dmn"]


def _decide(load_process, start_case, **data):
    loaded = load_process("business_rule.bpmn", dmn=DMN)
    case = start_case(loaded, data)
    (task,) = case.ready_human_tasks()
    assert task.name == "announce"
    return task.data


def test_compile_keeps_the_decision_files_it_uses(compile_fixture, fixture_bytes):
    compiled = compile_fixture("business_rule.bpmn", dmn=DMN)
    assert compiled.report.called_decisions == {"grade_decision", "perks_decision"}
    assert set(compiled.decisions) == {"grading.dmn", "perks.dmn"}
    assert compiled.decisions["grading.dmn"] == fixture_bytes("grading.dmn").decode()


@pytest.mark.parametrize(
    ("score", "member", "grade", "points"),
    [
        (95, True, "excellent", 15),  # output cell `score - 80` is an expression over the case data
        (95, False, "excellent", 5),
        (90, False, "excellent", 5),  # `>= 90` boundary
        (89, True, "pass", 1),  # `60 <= ? < 90`: the `?` stands for the input
        (60, False, "pass", 1),
        (59, True, "fail", 0),
    ],
)
def test_decision_table_rows(load_process, start_case, score, member, grade, points):
    data = _decide(load_process, start_case, score=score, is_member=member)
    assert data["grade"] == grade
    assert data["points"] == points
    assert data["score"] == score  # inputs are kept


def test_unique_hit_policy_behaves_like_first(load_process, start_case):
    # 95 + member matches rows 1 and 2; UNIQUE is not enforced, the first row wins
    data = _decide(load_process, start_case, score=95, is_member=True)
    assert data["points"] == 15


def test_collect_hit_policy_returns_a_list(load_process, start_case):
    assert _decide(load_process, start_case, score=100, is_member=False)["perks"] == ["certificate", "medal", "news item"]
    assert _decide(load_process, start_case, score=70, is_member=False)["perks"] == ["certificate"]


def test_collect_with_no_matching_row_sets_nothing(load_process, start_case):
    # no empty list: the output variable is simply absent
    assert "perks" not in _decide(load_process, start_case, score=10, is_member=False)


def test_a_cell_that_cannot_be_evaluated_is_a_script_failure_at_the_task(load_process, engine):
    loaded = load_process("business_rule.bpmn", dmn=DMN)
    case = engine.start(loaded, {"score": "ninety", "is_member": True})

    with pytest.raises(ScriptFailure) as info:
        case.run()
    assert info.value.element_id == "grade"
    assert "row 1" in info.value.message


def test_missing_decision_is_refused_at_compile(compile_fixture):
    with pytest.raises(InvalidProcess) as info:
        compile_fixture("business_rule.bpmn", dmn=["grading.dmn"])
    assert [(i.element_id, i.severity) for i in info.value.issues] == [("perks", "error")]
    assert "perks_decision" in info.value.issues[0].message


def test_a_dmn_file_with_two_decisions_is_refused_with_a_clear_message(compile_fixture):
    with pytest.raises(InvalidProcess) as info:
        compile_fixture("business_rule.bpmn", dmn=["two_decisions.dmn"])
    messages = " | ".join(i.message for i in info.value.issues)
    assert "two_decisions.dmn holds 2 decisions" in messages
    assert "AttributeError" not in messages
    assert {i.element_id for i in info.value.issues} >= {"grade", "perks"}
