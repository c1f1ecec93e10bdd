"""Process models over the API: list, read a version's XML, deploy new versions; running cases stay
on the version they started with."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from api_support import CANDIDATE, DATA, assert_error

APPROVAL = (DATA / "bpmn" / "approval.bpmn").read_text(encoding="utf-8")
# version 2 records a different outcome, so a case shows which version's script it ran
APPROVAL_V2 = APPROVAL.replace('outcome = "approved" if', 'outcome = "approved_v2" if')
VERSIONS_URL = "/api/v1/process-models/approval/versions"


def _deploy(world: Any, xml: str, status: int, user: str = "admin", key: str = "approval") -> Any:
    return world.post(user, f"/api/v1/process-models/{key}/versions", status, data=xml.encode("utf-8"),
                      content_type="application/xml")


def _version_count(raw_db: sa.Engine) -> int:
    with raw_db.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM process_version")).scalar_one()


def test_list_and_read_versions(world: Any) -> None:
    models = world.get("sec1", "/api/v1/process-models")
    assert models == [{"key": "approval", "name": "测试审批 Test approval", "subject_kind": "person",
                       "latest_version": 1}]
    response = world.get("zhangsan", "/api/v1/process-models/approval/versions/1/bpmn")
    assert response.mimetype == "application/xml"
    assert response.get_data(as_text=True) == APPROVAL
    assert_error(world.get("sec1", "/api/v1/process-models/approval/versions/2/bpmn", 404), "not_found")
    assert_error(world.get("sec1", "/api/v1/process-models/nothing/versions/1/bpmn", 404), "not_found")
    assert_error(world.get(None, "/api/v1/process-models", 401), "unauthorized")


def test_deploy_only_makes_a_version_when_the_content_changed(world: Any, raw_db: sa.Engine) -> None:
    same = _deploy(world, APPROVAL, 200)
    assert same == {"version": 1, "created": False, "warnings": []}
    assert _version_count(raw_db) == 1
    assert world.get("admin", "/api/v1/process-models")[0]["latest_version"] == 1

    new = _deploy(world, APPROVAL_V2, 201)
    assert (new["version"], new["created"]) == (2, True)
    assert _version_count(raw_db) == 2
    assert _deploy(world, APPROVAL_V2, 200) == {"version": 2, "created": False, "warnings": []}
    assert world.get("admin", "/api/v1/process-models")[0]["latest_version"] == 2
    assert world.get("admin", "/api/v1/process-models/approval/versions/2/bpmn").get_data(as_text=True) == APPROVAL_V2
    assert world.get("admin", "/api/v1/process-models/approval/versions/1/bpmn").get_data(as_text=True) == APPROVAL


def test_only_an_admin_deploys_and_the_key_must_match(world: Any, raw_db: sa.Engine) -> None:
    for user in ("sec1", "zhangsan"):
        assert_error(_deploy(world, APPROVAL_V2, 403, user=user), "forbidden")
    assert_error(world.post(None, VERSIONS_URL, 401, data=APPROVAL_V2, content_type="application/xml"))
    # a changed document posted under another key: refused, and the version it built is rolled back
    error = assert_error(_deploy(world, APPROVAL_V2, 422, key="recommendation"), "invalid_bpmn")
    assert error["details"][0]["element_id"] == "approval"
    assert_error(_deploy(world, "", 422), "invalid_bpmn")
    assert _version_count(raw_db) == 1
    assert world.get("admin", "/api/v1/process-models")[0]["latest_version"] == 1


def test_running_cases_finish_on_their_version(world: Any) -> None:
    old = world.submitted()
    assert old["version"] == 1
    assert _deploy(world, APPROVAL_V2, 201)["version"] == 2

    new = world.start()
    assert new["version"] == 2
    assert world.instance(old["id"])["version"] == 1

    review = world.ready(old["id"], "review")
    finished = world.complete("sec1", review["id"], {"decision": "approve"})
    assert (finished["version"], finished["status"], finished["outcome"]) == (1, "completed", "approved")

    submit = world.ready(new["id"], "submit")
    world.complete("zhangsan", submit["id"], {"reason": "第二版 version two"})
    review = world.ready(new["id"], "review")
    finished = world.complete("sec1b", review["id"], {"decision": "approve"})
    assert (finished["version"], finished["status"], finished["outcome"]) == (2, "completed", "approved_v2")
    by_version = {i["id"]: i["version"] for i in world.get("admin", "/api/v1/instances",
                                                            query_string={"subject": CANDIDATE})["items"]}
    assert by_version == {old["id"]: 1, new["id"]: 2}


def test_an_oversized_upload_is_413(world: Any) -> None:
    body = APPROVAL.replace("<bpmn:collaboration", "<!--" + "x" * (6 * 1024 * 1024) + "-->\n  <bpmn:collaboration")
    assert_error(_deploy(world, body, 413), "payload_too_large")
