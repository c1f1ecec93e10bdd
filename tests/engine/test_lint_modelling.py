"""Modelling problems the lint reports with element id and line: elements that cannot reach an end,
loops nothing leaves, conditional gateways without a default flow, user tasks without lane or form."""

from __future__ import annotations

from pathlib import Path

from service.engine.lint import UserTaskRef, form_issues, lint_tree
from service.engine.xmlsafe import parse_xml

ROOT = Path(__file__).resolve().parents[2]

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
<bpmn:process id="p" isExecutable="true">
<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="clerk">{refs}</bpmn:lane></bpmn:laneSet>
"""
TAIL = "</bpmn:process>\n</bpmn:definitions>\n"


def _doc(body: str, lane: tuple[str, ...] = ("a", "b", "c", "d", "gw")) -> str:
    refs = "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in lane)
    return HEAD.format(refs=refs) + body + TAIL


def _issues(xml: str) -> list[tuple[str | None, str, str, int | None]]:
    report = lint_tree(parse_xml(xml), known_roles=None)
    return [(i.element_id, i.code, i.severity, i.line) for i in report.issues]


def _flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}" />\n'
    return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
            f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>\n")


def test_a_loop_nothing_leaves_is_an_error_on_its_first_element() -> None:
    xml = _doc('<bpmn:startEvent id="s" />\n<bpmn:userTask id="a" />\n<bpmn:userTask id="b" />\n'
               '<bpmn:endEvent id="e" />\n' + _flow("f1", "s", "a") + _flow("f2", "a", "b") + _flow("f3", "b", "a"))
    assert [i for i in _issues(xml) if i[0] != "e"] == [("a", "loop_without_exit", "error", 6),
                                                        ("s", "cannot_reach_end", "warning", 5)]
    assert ("e", "unreachable", "warning", 8) in _issues(xml)  # the end no path reaches


def test_a_loop_with_a_gateway_exit_or_a_boundary_event_is_fine() -> None:
    gateway = _doc('<bpmn:startEvent id="s" />\n<bpmn:userTask id="a" />\n'
                   '<bpmn:exclusiveGateway id="gw" default="back" />\n<bpmn:endEvent id="e" />\n'
                   + _flow("f1", "s", "a") + _flow("f2", "a", "gw") + _flow("back", "gw", "a")
                   + _flow("out", "gw", "e", "done"))
    assert _issues(gateway) == []
    boundary = _doc('<bpmn:startEvent id="s" />\n<bpmn:userTask id="a" />\n<bpmn:userTask id="b" />\n'
                    '<bpmn:boundaryEvent id="t" attachedToRef="b"><bpmn:timerEventDefinition><bpmn:timeDuration>'
                    '"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n'
                    '<bpmn:endEvent id="e" />\n' + _flow("f1", "s", "a") + _flow("f2", "a", "b")
                    + _flow("f3", "b", "a") + _flow("f4", "t", "e"), lane=("a", "b"))
    assert _issues(boundary) == []


def test_elements_that_only_lead_into_a_closed_loop_cannot_reach_an_end() -> None:
    xml = _doc('<bpmn:startEvent id="s" />\n<bpmn:userTask id="c" />\n<bpmn:userTask id="a" />\n'
               '<bpmn:userTask id="b" />\n' + _flow("f0", "s", "c") + _flow("f1", "c", "a") + _flow("f2", "a", "b")
               + _flow("f3", "b", "a"))
    assert _issues(xml) == [("a", "loop_without_exit", "error", 7), ("s", "cannot_reach_end", "warning", 5),
                            ("c", "cannot_reach_end", "warning", 6)]


def test_a_conditional_gateway_needs_a_default_flow() -> None:
    body = ('<bpmn:startEvent id="s" />\n<bpmn:exclusiveGateway id="gw" />\n<bpmn:userTask id="a" />\n'
            '<bpmn:userTask id="b" />\n<bpmn:endEvent id="e" />\n' + _flow("f1", "s", "gw")
            + _flow("fa", "gw", "a", "x &gt; 1") + _flow("fb", "gw", "b", "x &lt;= 1") + _flow("f2", "a", "e")
            + _flow("f3", "b", "e"))
    assert _issues(_doc(body)) == [("gw", "gateway_without_default", "warning", 6)]
    with_default = body.replace('<bpmn:exclusiveGateway id="gw" />', '<bpmn:exclusiveGateway id="gw" default="fb" />')
    assert _issues(_doc(with_default)) == []
    parallel = body.replace("exclusiveGateway", "parallelGateway")  # conditions do not apply there
    assert _issues(_doc(parallel)) == []


def test_user_tasks_without_lane_and_forms_by_reference() -> None:
    xml = _doc('<bpmn:startEvent id="s" />\n<bpmn:userTask id="loose" />\n<bpmn:endEvent id="e" />\n'
               + _flow("f1", "s", "loose") + _flow("f2", "loose", "e"), lane=("s",))
    assert _issues(xml) == [("loose", "user_task_without_lane", "warning", 6)]
    tasks = [UserTaskRef("a", "A", "clerk", None, None, 3), UserTaskRef("b", "B", "clerk", "b.schema.json", None, 4)]
    issues = form_issues_for(tasks, {"b.schema.json": None})
    assert [(i.element_id, i.code, i.severity, i.line) for i in issues] == [
        ("a", "user_task_without_form", "warning", 3), ("b", "form_missing", "error", 4)]


def form_issues_for(tasks: list[UserTaskRef], files: dict[str, object]) -> list:
    from service.engine.lint import LintReport

    report = LintReport(user_tasks=tasks)
    return form_issues(report, lambda name: (files.get(name), None if files.get(name) else "missing / 缺少"))


def test_the_real_processes_have_no_modelling_problems() -> None:
    for path in sorted((ROOT / "bpmn").glob("*.bpmn")):
        report = lint_tree(parse_xml(path.read_bytes()), known_roles=None)
        assert report.issues == [], (path.name, [i.as_dict() for i in report.issues])
