"""The modeler's back end over the API: version list and detail, deploy as JSON (with edited forms),
one lint for the lint endpoint and both deploy forms, version diff, and the role catalogue."""

from __future__ import annotations

import copy
import json
from typing import Any

import sqlalchemy as sa
from api_support import DATA, assert_error

APPROVAL = (DATA / "bpmn" / "approval.bpmn").read_text(encoding="utf-8")
REVIEW_FORM = json.loads((DATA / "forms" / "approval" / "review.schema.json").read_text(encoding="utf-8"))
BASE = "/api/v1/process-models/approval"
# two errors (a script syntax error, an unquoted timer) and two warnings (a lane-less task without a form)
BROKEN = APPROVAL.replace('<bpmn:script>outcome = "approved" if', '<bpmn:script>outcome = = "approved" if').replace(
    '<bpmn:endEvent id="end">',
    '<bpmn:userTask id="stray" name="Stray" />\n    <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration>P5D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>\n'
    '    <bpmn:endEvent id="end">')


def _versions(raw_db: sa.Engine) -> int:
    with raw_db.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM process_version")).scalar_one()


def test_versions_list_and_detail(world: Any) -> None:
    world.submitted()  # a case on version 1
    review = copy.deepcopy(REVIEW_FORM)
    review["title"] = "审核（修订）"
    created = world.post("admin", f"{BASE}/versions", 201, json={
        "bpmn": APPROVAL.replace("审核 Review", "审核 Review v2"), "comment": "改名", "forms": {"review.schema.json": review}})
    assert created == {"version": 2, "created": True, "warnings": []}
    listed = world.get("sec1", f"{BASE}/versions")
    assert [(v["number"], v["comment"], v["created_by"], v["running"]) for v in listed] == [
        (1, None, None, 1), (2, "改名", "admin", 0)]
    assert all(len(v["checksum"]) == 64 and v["created_at"] for v in listed)
    detail = world.get("zhangsan", f"{BASE}/versions/2")
    assert set(detail) == {"number", "bpmn", "dmn", "forms", "comment", "created_by", "created_at"}
    assert "审核 Review v2" in detail["bpmn"] and detail["dmn"] == {} and detail["created_by"] == "admin"
    assert detail["forms"]["review.schema.json"]["title"] == "审核（修订）"  # the edited form replaced the file's
    assert detail["forms"]["submit.schema.json"]["title"]  # the others come from forms/approval/
    assert world.get("admin", f"{BASE}/versions/1")["forms"]["review.schema.json"] == REVIEW_FORM
    assert_error(world.get("admin", f"{BASE}/versions/3", 404), "not_found")
    assert_error(world.get("admin", "/api/v1/process-models/none/versions", 404), "not_found")
    # forms not sent with a deploy come from forms/<key>/ (then from the previous version): the XML alone
    # deployed again takes the file's form back, as a new version (export-models writes edits to files)
    again = world.post("admin", f"{BASE}/versions", 201, data=APPROVAL.replace("审核 Review", "审核 Review v2"),
                       content_type="application/xml")
    assert again["version"] == 3
    assert world.get("admin", f"{BASE}/versions/3")["forms"]["review.schema.json"] == REVIEW_FORM


def _problems_from_details(details: list[dict[str, Any]]) -> set[tuple]:
    return {(d["element_id"], d["line"], d["message"]) for d in details}


def test_lint_and_both_deploy_paths_report_the_same_problems_and_store_nothing(world: Any, raw_db: sa.Engine) -> None:
    problems = world.post("admin", f"{BASE}/lint", json={"bpmn": BROKEN})["problems"]
    errors = [p for p in problems if p["severity"] == "error"]
    assert {(p["element_id"], p["code"]) for p in errors} == {("decide", "syntax_error"), ("wait", "timer_invalid")}
    assert all(set(p) == {"element_id", "line", "severity", "code", "message"} and p["line"] for p in problems)
    before = _versions(raw_db)
    xml_error = assert_error(world.post("admin", f"{BASE}/versions", 422, data=BROKEN, content_type="application/xml"),
                             "invalid_bpmn")
    json_error = assert_error(world.post("admin", f"{BASE}/versions", 422, json={"bpmn": BROKEN}), "invalid_bpmn")
    expected = {(p["element_id"], p["line"], p["message"]) for p in errors}
    assert _problems_from_details(xml_error["details"]) == expected
    assert _problems_from_details(json_error["details"]) == expected
    assert _versions(raw_db) == before  # a version that fails lint is never stored

    # warnings alone do not block a deploy: the same warnings from lint and deploy
    warned = BROKEN.replace("outcome = = ", "outcome = ").replace("<bpmn:timeDuration>P5D", '<bpmn:timeDuration>"P5D"')
    lint_warnings = world.post("admin", f"{BASE}/lint", json={"bpmn": warned})["problems"]
    assert {(p["element_id"], p["code"]) for p in lint_warnings} >= {
        ("stray", "user_task_without_lane"), ("stray", "user_task_without_form"), ("stray", "unreachable")}
    assert all(p["severity"] == "warning" for p in lint_warnings)
    deployed = world.post("admin", f"{BASE}/versions", 201, json={"bpmn": warned, "comment": "with warnings"})
    assert {(w["element_id"], w["message"]) for w in deployed["warnings"]} == {
        (p["element_id"], p["message"]) for p in lint_warnings}
    assert _versions(raw_db) == before + 1


def test_lint_checks_forms_decisions_and_the_key(world: Any) -> None:
    missing = APPROVAL.replace('value="review.schema.json"', 'value="nothing.schema.json"', 1)
    problems = world.post("admin", f"{BASE}/lint", json={"bpmn": missing})["problems"]
    assert [(p["element_id"], p["code"], p["severity"]) for p in problems] == [("review", "form_missing", "error")]
    given = world.post("admin", f"{BASE}/lint", json={"bpmn": missing, "forms": {"nothing.schema.json": REVIEW_FORM}})
    assert given["problems"] == []
    bad_schema = {"type": "object", "properties": {"x": {"type": "no-such-type"}}}
    bad = world.post("admin", f"{BASE}/lint", json={"bpmn": APPROVAL, "forms": {"review.schema.json": bad_schema}})
    assert [(p["element_id"], p["code"]) for p in bad["problems"]] == [("review", "form_missing"),
                                                                       ("review_urgent", "form_missing")]
    assert "JSON Schema" in bad["problems"][0]["message"]
    assert_error(world.post("admin", f"{BASE}/versions", 422, json={
        "bpmn": APPROVAL, "forms": {"review.schema.json": bad_schema}}), "invalid_bpmn")
    other = world.post("admin", "/api/v1/process-models/other/lint", json={"bpmn": APPROVAL})["problems"]
    assert [(p["element_id"], p["code"]) for p in other] == [("approval", "process_id_mismatch")]
    assert_error(world.post("admin", f"{BASE}/lint", 422, json={"bpmn": APPROVAL, "forms": {"../x.json": {}}}),
                 "validation_failed")
    assert_error(world.post("admin", f"{BASE}/lint", 422, json={}), "validation_failed")
    assert_error(world.post("sec1", f"{BASE}/lint", 403, json={"bpmn": APPROVAL}), "forbidden")
    assert_error(world.post("admin", f"{BASE}/versions", 400, data="[1]", content_type="application/json"))


def test_diff_between_versions(world: Any) -> None:
    v2 = APPROVAL.replace('name="审核 Review"', 'name="初审 First review"').replace(
        '<bpmn:endEvent id="end">', '<bpmn:manualTask id="archive" name="归档" />\n    <bpmn:endEvent id="end">')
    v2 = v2.replace('<bpmn:script>outcome = "approved" if', '<bpmn:script>outcome = "ok" if')
    world.post("admin", f"{BASE}/versions", 201, json={"bpmn": v2})
    diff = world.get("sec1", f"{BASE}/diff?a=1&b=2")
    assert diff["added"] == [{"id": "archive", "type": "manualTask", "name": "归档"}]
    assert diff["removed"] == []
    assert {c["id"]: [(x["property"], x["old"], x["new"]) for x in c["changes"]] for c in diff["changed"]} == {
        "review": [("name", "审核 Review", "初审 First review")],
        "decide": [("script", 'outcome = "approved" if decision == "approve" else "rejected"',
                    'outcome = "ok" if decision == "approve" else "rejected"')]}
    back = world.get("sec1", f"{BASE}/diff?a=2&b=1")
    assert back["removed"] == [{"id": "archive", "type": "manualTask", "name": "归档"}] and back["added"] == []
    assert_error(world.get("sec1", f"{BASE}/diff?a=1&b=7", 404), "not_found")
    assert_error(world.get("sec1", f"{BASE}/diff?a=1", 422), "validation_failed")


def test_roles_catalogue(world: Any) -> None:
    roles = world.get("zhangsan", "/api/v1/roles")
    assert {"key": "league_branch_secretary", "zh": "团支部书记", "en": "League branch secretary"} in roles
    assert len(roles) == len({r["key"] for r in roles}) >= 10
    assert_error(world.get(None, "/api/v1/roles", 401), "unauthorized")
