"""Deploy-time lint (compile_process): every problem names the element and, where it can, the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.engine import InvalidProcess


def _refused(compile_fixture, name, **kwargs):
    with pytest.raises(InvalidProcess) as info:
        compile_fixture(name, **kwargs)
    return info.value.issues


def test_unquoted_timer_is_an_error_naming_the_event(compile_fixture):
    issues = _refused(compile_fixture, "lint_timer_unquoted.bpmn")
    by_element = {i.element_id: i for i in issues}

    unquoted = by_element["wait_five_days"]  # the event, not its timerEventDefinition
    assert unquoted.severity == "error"
    assert unquoted.line == 9
    assert '"P5D"' in unquoted.message  # tells the modeler how to write it

    bad_literal = by_element["wait_bad_literal"]  # quoted, but not ISO 8601
    assert bad_literal.line == 15
    assert "ISO 8601" in bad_literal.message
    assert set(by_element) == {"wait_five_days", "wait_bad_literal"}


def test_syntax_errors_report_element_and_file_line(compile_fixture):
    issues = _refused(compile_fixture, "lint_condition_syntax.bpmn")
    by_element = {i.element_id: i for i in issues}

    assert set(by_element) == {"f_high", "compute"}
    condition = by_element["f_high"]
    assert condition.line == 23
    assert condition.message.startswith("condition: syntax error")
    script = by_element["compute"]
    assert script.message.startswith("script: syntax error")
    assert 12 <= script.line <= 14  # inside the <bpmn:script> that starts on line 12
    assert all(i.severity == "error" for i in issues)


def test_lane_with_unknown_role_is_an_error_when_roles_are_known(compile_fixture):
    issues = _refused(compile_fixture, "gateway_exclusive.bpmn", known_roles={"manager", "secretary"})

    assert [(i.element_id, i.line, i.severity) for i in issues] == [("Lane_director", 6, "error")]
    assert "'director'" in issues[0].message

    compile_fixture("gateway_exclusive.bpmn", known_roles={"manager", "director"})  # all known: fine
    compile_fixture("gateway_exclusive.bpmn", known_roles=None)  # not checked


def test_missing_call_activity_target_is_an_error(compile_fixture):
    issues = _refused(compile_fixture, "call_parent.bpmn")
    assert [(i.element_id, i.line) for i in issues] == [("run_check", 14)]
    assert "background_check" in issues[0].message


def test_missing_decision_is_an_error(compile_fixture):
    issues = _refused(compile_fixture, "business_rule.bpmn")
    assert [(i.element_id, i.line) for i in issues] == [("grade", 18), ("perks", 24)]
    assert "grade_decision" in issues[0].message
    assert "perks_decision" in issues[1].message


def test_flow_to_a_missing_target_gets_a_clear_message(compile_fixture):
    issues = _refused(compile_fixture, "lint_missing_target.bpmn")

    assert [(i.element_id, i.line) for i in issues] == [("f_lost", 11)]
    message = issues[0].message
    assert "end_typo" in message and "targetRef" in message
    assert "form" not in message  # not SpiffWorkflow's "perhaps a form has the same ID?"


def test_flow_from_a_missing_source_is_an_error(compile_fixture):
    # SpiffWorkflow itself accepts this; the case would stall forever after `work`
    issues = _refused(compile_fixture, "lint_missing_source.bpmn")
    assert [(i.element_id, i.line) for i in issues] == [("f_lost", 11)]
    assert "wrok" in issues[0].message


def test_unreachable_element_is_a_warning_only(compile_fixture):
    compiled = compile_fixture("lint_unreachable.bpmn")

    assert [(w.element_id, w.line) for w in compiled.warnings] == [("island", 17)]
    assert compiled.report.errors == []
    assert "unreachable" in compiled.warnings[0].message


def _passwd_lines() -> list[str]:
    path = Path("/etc/passwd")
    lines = [line for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    return lines or ["root:x:0:0"]


@pytest.mark.parametrize("name", ["lint_xxe.bpmn", "lint_xxe_text.bpmn"])
def test_doctype_and_external_entities_are_refused_without_leaking(compile_fixture, name):
    with pytest.raises(InvalidProcess) as info:
        compile_fixture(name)

    issues = info.value.issues
    assert len(issues) == 1
    assert issues[0].severity == "error"
    texts = [str(info.value), *(i.message for i in issues)]
    for text in texts:
        assert "root:" not in text
        for line in _passwd_lines():
            assert line not in text
    assert "DOCTYPE" in issues[0].message or "entity" in issues[0].message


def test_clean_fixture_has_no_issues(compile_fixture):
    compiled = compile_fixture("gateway_parallel.bpmn", known_roles={"finance", "legal"})
    assert compiled.report.issues == []
    assert [u.element_id for u in compiled.report.user_tasks] == ["check_budget", "check_contract", "sign_off"]
    assert {u.element_id: u.lane for u in compiled.report.user_tasks}["sign_off"] == "legal"
