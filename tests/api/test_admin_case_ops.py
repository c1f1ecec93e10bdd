"""An administrator's repairs of a case over the API: retry a failed step, correct the data (audited with
old and new values and the reason); only admins may do either."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from api_support import CANDIDATE, assert_error

DIVIDE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_divide" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="divide" name="除法 Divide" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="subjectKind" value="person" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_member" name="member">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>compute</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>confirm</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="compute" name="计算 Compute">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>ratio = total / count</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="confirm" name="确认 Confirm"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute" />
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="confirm" />
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def failed_case(world: Any, deploy: Callable[..., Any]) -> dict[str, Any]:
    deploy(DIVIDE)
    case = world.start(process="divide", data={"total": 10, "count": 0})
    assert case["status"] == "error" and case["error"]["element_id"] == "compute"
    return case


def _audit(raw_db: sa.Engine, action: str) -> list[dict[str, Any]]:
    with raw_db.connect() as conn:
        rows = conn.execute(sa.text("SELECT details FROM audit_event WHERE action = :a ORDER BY id"), {"a": action})
        return [r[0] if isinstance(r[0], dict) else __import__("json").loads(r[0]) for r in rows]


def _case_data(instance_id: int) -> dict[str, Any]:
    from service.extensions import db
    from service.instances.admin import case_data
    from service.instances.models import Instance

    db.session.expire_all()
    return case_data(db.session.get(Instance, instance_id))


def test_fix_the_data_then_retry_the_failed_step(world: Any, failed_case: dict[str, Any], raw_db: sa.Engine) -> None:
    case_id = failed_case["id"]
    again = world.post("admin", f"/api/v1/instances/{case_id}/retry")  # the cause is still there
    assert again["status"] == "error" and "division by zero" in again["error"]["message"]
    assert len(_audit(raw_db, "instance_retried")) == 1

    changed = world.call("admin", "PATCH", f"/api/v1/instances/{case_id}/data", 200,
                         json={"changes": {"count": 4}, "reason": "人数录入错误 wrong head count"})
    assert changed["status"] == "error"  # the engine does not run on an edit
    (entry,) = _audit(raw_db, "instance_data_changed")
    assert entry["data"] == {"old": {"count": 0}, "new": {"count": 4}}
    assert entry["reason"] == "人数录入错误 wrong head count" and entry["fields"] == ["count"]
    shown = [h for h in changed["history"] if h["action"] == "instance_data_changed"][0]
    assert shown["details"]["fields"] == ["count"] and "data" not in shown["details"]  # values stay out of the view

    fixed = world.post("admin", f"/api/v1/instances/{case_id}/retry")
    assert fixed["status"] == "running" and fixed["error"] is None
    assert [t["name"] for t in fixed["ready_tasks"]] == ["confirm"]
    assert _case_data(case_id)["ratio"] == 2.5
    assert_error(world.post("admin", f"/api/v1/instances/{case_id}/retry", 409), "conflict")  # nothing failed now


def test_editing_a_waiting_case_changes_what_its_next_step_sees(world: Any) -> None:
    case = world.submitted(reason="原因 A")
    world.call("admin", "PATCH", f"/api/v1/instances/{case['id']}/data", 200,
               json={"changes": {"reason": "原因 B", "note": {"by": "admin"}}, "reason": "按申请人要求更正"})
    review = world.ready(case["id"], "review")
    assert _case_data(case["id"])["note"] == {"by": "admin"}
    world.complete("sec1", review["id"], {"decision": "approve"})
    assert _case_data(case["id"])["reason"] == "原因 B"  # carried on past the step


def test_only_admins_repair_and_bad_edits_are_refused(world: Any, failed_case: dict[str, Any]) -> None:
    case_id = failed_case["id"]
    url = f"/api/v1/instances/{case_id}/data"
    assert_error(world.post("zhangsan", f"/api/v1/instances/{case_id}/retry", 403), "forbidden")
    assert_error(world.call("sec1", "PATCH", url, 403, json={"changes": {"count": 1}, "reason": "x"}), "forbidden")
    assert_error(world.call("admin", "PATCH", url, 422, json={"changes": {"count": 1}}), "validation_failed")
    assert_error(world.call("admin", "PATCH", url, 422, json={"changes": {"count": 1}, "reason": "  "}),
                 "validation_failed")
    assert_error(world.call("admin", "PATCH", url, 422, json={"changes": {}, "reason": "x"}), "validation_failed")
    reserved = assert_error(world.call("admin", "PATCH", url, 422, json={"changes": {"subject": "x"}, "reason": "x"}))
    assert reserved["details"][0]["field"] == "subject"
    assert_error(world.post("admin", "/api/v1/instances/999999/retry", 404), "not_found")
    world.post("admin", f"/api/v1/instances/{case_id}/terminate", json={"reason": "测试"})
    assert_error(world.call("admin", "PATCH", url, 409, json={"changes": {"count": 1}, "reason": "x"}),
                 "instance_not_running")
    assert_error(world.post("admin", f"/api/v1/instances/{case_id}/retry", 409), "conflict")
    assert CANDIDATE  # the subject of the cases above
