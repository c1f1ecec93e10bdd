"""Input that used to reach the database or the recursion limit and come back as a 500 (mostly on
PostgreSQL only): NUL characters, deep JSON, huge ids, values longer than their columns."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import API_BPMN, CANDIDATE, DATA, assert_error

from service.extensions import db

PARALLEL = (API_BPMN / "parallel_titles.bpmn").read_text(encoding="utf-8")
APPROVAL = (DATA / "bpmn" / "approval.bpmn").read_text(encoding="utf-8")


def _deploy(world: Any, key: str, xml: str, status: int, query: str = "") -> Any:
    return world.post("admin", f"/api/v1/process-models/{key}/versions{query}", status, data=xml.encode("utf-8"),
                      content_type="application/xml")


NUL_REQUESTS = [
    ("POST", "/api/v1/auth/token", {"json": {"username": "sec1\x00", "password": "x"}}),
    ("POST", "/api/v1/instances", {"json": {"process": "approval\x00", "subject": CANDIDATE}}),
    ("POST", "/api/v1/instances", {"json": {"process": "approval", "subject": CANDIDATE, "data": {"k": ["\x00"]}}}),
    ("GET", "/api/v1/people/%00", {}),
    ("GET", "/api/v1/people/20230%0010101/instances", {}),
    ("GET", "/api/v1/org-units/%00/instances", {}),
    ("GET", "/api/v1/tasks/%00", {}),
    ("GET", "/api/v1/instances?subject=%00", {}),
    ("GET", "/api/v1/tasks?process=a%00b", {}),
    ("GET", "/api/v1/process-models/%00/versions/1/bpmn", {}),
    ("POST", "/api/v1/instances/1/messages", {"json": {"name": "objection\x00"}}),
    ("POST", "/api/v1/instances/1/terminate", {"json": {"reason": "\x00"}}),
]


@pytest.mark.parametrize("method,path,kwargs", NUL_REQUESTS, ids=[f"{m} {p}" for m, p, _ in NUL_REQUESTS])
def test_nul_characters_are_400(world: Any, method: str, path: str, kwargs: dict[str, Any]) -> None:
    instance = world.submitted()
    assert instance["id"] == 1
    assert_error(world.call("admin", method, path, 400, **kwargs), "bad_request")
    db.session.remove()
    review = world.ready(1, "review")
    body = world.complete("sec1", review["id"], {"decision": "approve", "comment": "a\x00b"}, status=400)
    assert_error(body, "bad_request")
    assert world.complete("sec1", review["id"], {"decision": "approve"})["status"] == "completed"


@pytest.mark.parametrize("depth", [40, 500, 5000, 100_000])
def test_deeply_nested_json_is_400(world: Any, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    prefix = '{"process": "approval", "subject": "' + CANDIDATE + '", "data": {"a": '
    for body in (nested, prefix + nested + "}}"):
        response = world.post("admin", "/api/v1/instances", 400, data=body, content_type="application/json")
        assert_error(response, "bad_request")
    assert world.get("admin", "/api/v1/instances")["total"] == 0
    # ordinary nesting is fine
    ok = {"process": "approval", "subject": CANDIDATE, "data": {"a": [[[[{"b": [1, 2]}]]]]}}
    assert world.post("admin", "/api/v1/instances", 201, json=ok)["status"] == "running"


def test_ids_beyond_the_integer_range_are_404(world: Any) -> None:
    for path in ("/api/v1/instances/99999999999999999999", "/api/v1/instances/2147483648/suspend",
                 "/api/v1/process-models/approval/versions/99999999999999999999/bpmn"):
        response = world.call("admin", "GET" if "suspend" not in path else "POST", path, 404)
        assert_error(response, "not_found")
    assert_error(world.get("admin", "/api/v1/instances/2147483647", 404), "not_found")


def test_values_longer_than_their_columns(world: Any) -> None:
    error = assert_error(_deploy(world, "approval", APPROVAL.replace("测试审批", "第二版"), 422, "?comment=" + "c" * 501))
    assert error["details"][0]["field"] == "comment"
    assert _deploy(world, "approval", APPROVAL.replace("测试审批", "第二版"), 201, "?comment=" + "c" * 500)["version"] == 2

    # a task name longer than its column: refused at deploy, with the element and line
    long_name = PARALLEL.replace("TITLEA", "甲" * 201).replace("TITLEB", "b").replace("TITLEC", "c")
    error = assert_error(_deploy(world, "parallel_titles", long_name, 422), "invalid_bpmn")
    assert [(d["element_id"], d["line"]) for d in error["details"]] == [
        ("a", next(n for n, t in enumerate(long_name.splitlines(), 1) if 'id="a"' in t))]
    long_id = APPROVAL.replace('"approval"', '"' + "p" * 101 + '"')
    assert_error(_deploy(world, "p" * 101, long_id, 422), "invalid_bpmn")

    # three parallel steps whose titles together are longer than the milestone column
    titles = PARALLEL.replace("TITLEA", "甲" * 90).replace("TITLEB", "乙" * 90).replace("TITLEC", "丙" * 90)
    _deploy(world, "parallel_titles", titles, 201)
    started = world.start(process="parallel_titles")
    assert len(started["ready_tasks"]) == 3
    assert started["milestone"].startswith("甲" * 90) and len(started["milestone"]) == 200

    # a script's outcome longer than its column
    long_outcome = APPROVAL.replace('outcome = "approved" if decision == "approve" else "rejected"', 'outcome = "长" * 100')
    _deploy(world, "approval", long_outcome, 201)
    instance = world.submitted()
    done = world.complete("sec1", world.ready(instance["id"], "review")["id"], {"decision": "approve"})
    assert done["status"] == "completed" and done["outcome"] == "长" * 64


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "9" * 5000])
def test_numbers_json_cannot_carry_are_400(world: Any, value: str) -> None:
    """NaN and infinities are not JSON (PostgreSQL's json type refuses them); 1e400 parses as infinity;
    a 5000-digit integer is past Python's limit. All used to be stored or crash: now a 400."""
    world.post("admin", "/api/v1/process-models/unit_notice/versions", 201,
               data=(API_BPMN / "unit_notice.bpmn").read_bytes(), content_type="application/xml")
    instance = world.start("TZB-JX2301", "unit_notice")
    world.post("sec1", f"/api/v1/instances/{instance['id']}/messages", json={"name": "objection"})
    handle = world.ready(instance["id"], "handle")
    bodies = [
        ("/api/v1/instances", '{"process": "unit_notice", "subject": "TZB-JX2302", "data": {"x": %s}}'),
        (f"/api/v1/instances/{instance['id']}/messages", '{"name": "objection", "data": {"x": %s}}'),
        (f"/api/v1/tasks/{handle['id']}/complete", '{"data": {"x": [1, %s]}}'),
    ]
    for path, template in bodies:
        body = world.post("sec1", path, 400, data=template.replace("%s", value), content_type="application/json")
        assert_error(body, "bad_request")
    assert world.complete("sec1", handle["id"], {"x": 1.5})["status"] == "completed"
