"""Journeys through cases and tasks: start, read, list, the inbox, visibility, claims, completion,
invalid data, admin actions and messages."""

from __future__ import annotations

from typing import Any

from api_support import API_BPMN, CANDIDATE, OTHER_BRANCH_PERSON, assert_error

INSTANCE_KEYS = {"id", "process", "version", "subject", "status", "outcome", "milestone", "ready_tasks"}
TASK_KEYS = {"id", "name", "title", "instance_id", "lane", "due_at", "claimed_by"}


def _inbox(world: Any, user: str, **query: Any) -> list[dict[str, Any]]:
    body = world.get(user, "/api/v1/tasks", query_string=query)
    assert body["total"] == len(body["items"])
    return body["items"]


# -- start, get, list ---------------------------------------------------------------------------------------
def test_start_get_and_list_instances(world: Any) -> None:
    started = world.start()
    assert set(started) >= INSTANCE_KEYS
    assert started["process"] == "approval" and started["version"] == 1 and started["subject"] == CANDIDATE
    assert started["status"] == "running" and started["outcome"] is None
    assert started["milestone"] == "提交申请 Submit"
    [task] = started["ready_tasks"]
    assert set(task) >= TASK_KEYS
    assert (task["name"], task["lane"], task["instance_id"], task["claimed_by"]) == ("submit", "member", started["id"], None)

    fetched = world.instance(started["id"])
    assert fetched["id"] == started["id"] and fetched["ready_tasks"] == started["ready_tasks"]
    assert [h["action"] for h in fetched["history"]] == ["instance_started"]
    assert fetched["history"][0]["actor"] == "admin"

    other = world.start(OTHER_BRANCH_PERSON)
    listed = world.get("admin", "/api/v1/instances")
    assert listed["total"] == 2 and [i["id"] for i in listed["items"]] == [other["id"], started["id"]]
    assert set(listed["items"][0]) >= INSTANCE_KEYS
    by_subject = world.get("admin", "/api/v1/instances", query_string={"subject": OTHER_BRANCH_PERSON})
    assert [i["id"] for i in by_subject["items"]] == [other["id"]]
    assert world.get("admin", "/api/v1/instances", query_string={"process": "nothing"})["total"] == 0
    assert world.get("admin", "/api/v1/instances", query_string={"status": "completed"})["total"] == 0
    page = world.get("admin", "/api/v1/instances", query_string={"limit": 1, "offset": 1})
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [started["id"]]
    # a League secretary lists only the cases of their branch
    assert [i["id"] for i in world.get("sec1", "/api/v1/instances")["items"]] == [started["id"]]
    assert [i["id"] for i in world.get("sec2", "/api/v1/instances")["items"]] == [other["id"]]
    assert [i["id"] for i in world.get("zhangsan", "/api/v1/instances")["items"]] == [started["id"]]


def test_start_refusals(world: Any) -> None:
    # approval declares no start roles: only an admin may start it
    body = world.post("sec1", "/api/v1/instances", 403, json={"process": "approval", "subject": CANDIDATE})
    assert_error(body, "forbidden")
    assert_error(world.post("admin", "/api/v1/instances", 404, json={"process": "nope", "subject": CANDIDATE}),
                 "not_found")
    error = assert_error(world.post("admin", "/api/v1/instances", 422,
                                    json={"process": "approval", "subject": "no-such-person"}), "validation_failed")
    assert [d["field"] for d in error["details"]] == ["subject"]
    error = assert_error(world.post("admin", "/api/v1/instances", 422, json={
        "process": "approval", "subject": CANDIDATE, "data": {"subject": "2023020101", "__class__": 1}}))
    assert {d["field"] for d in error["details"]} == {"subject", "__class__"}
    error = assert_error(world.post("admin", "/api/v1/instances", 422, json={"process": "approval"}))
    assert error["details"] == [{"field": "subject", "message": "Missing data for required field."}]
    assert world.get("admin", "/api/v1/instances")["total"] == 0


def test_unknown_routes_and_methods_keep_the_error_shape(world: Any) -> None:
    assert_error(world.get("admin", "/api/v1/no-such-thing", 404), "not_found")
    assert_error(world.get("admin", "/api/v1/instances/999999", 404), "not_found")
    assert_error(world.call("admin", "DELETE", "/api/v1/instances", 405), "method_not_allowed")
    body = world.get("admin", "/api/v1/instances", 422, query_string={"status": "sleeping", "limit": 0})
    assert {d["field"] for d in assert_error(body, "validation_failed")["details"]} == {"status", "limit"}


# -- the inbox and who sees what ------------------------------------------------------------------------------
def test_inbox_lists_only_the_callers_tasks(world: Any) -> None:
    instance = world.start()
    submit = world.ready(instance["id"], "submit")
    assert [t["id"] for t in _inbox(world, "zhangsan")] == [submit["id"]]
    for user in ("sec1", "sec1b", "committee1", "sec2", "wangwu", "admin"):
        assert _inbox(world, user) == [], user

    after = world.complete("zhangsan", submit["id"], {"reason": "我申请 I apply"})
    review = world.ready(after["id"], "review")
    assert review["lane"] == "league_branch_secretary"
    assert _inbox(world, "zhangsan") == []
    for user in ("sec1", "sec1b"):
        assert [t["id"] for t in _inbox(world, user)] == [review["id"]]
    assert _inbox(world, "sec1", process="approval", subject=CANDIDATE)[0]["id"] == review["id"]
    assert _inbox(world, "sec1", process="other") == []
    assert _inbox(world, "sec1", overdue="true") == []
    assert len(_inbox(world, "sec1", overdue="false")) == 1
    for user in ("committee1", "sec2", "wangwu"):
        assert _inbox(world, user) == [], user

    detail = world.get("sec1", f"/api/v1/tasks/{review['id']}")
    assert detail["form"]["schema"]["required"] == ["decision"] and detail["form"]["uiSchema"] is None
    submit_detail = world.get("zhangsan", f"/api/v1/tasks/{submit['id']}")
    assert submit_detail["status"] == "completed" and submit_detail["completed_by"] == "zhangsan"


def test_a_secretary_of_another_branch_sees_nothing(world: Any) -> None:
    instance = world.submitted()
    review = world.ready(instance["id"], "review")
    assert _inbox(world, "sec2") == []
    assert_error(world.get("sec2", f"/api/v1/tasks/{review['id']}", 404), "not_found")
    assert_error(world.get("sec2", f"/api/v1/instances/{instance['id']}", 404), "not_found")
    assert world.get("sec2", "/api/v1/instances")["total"] == 0
    # acting on it looks exactly like acting on a task that does not exist
    for action in ("complete", "claim", "unclaim"):
        assert_error(world.post("sec2", f"/api/v1/tasks/{review['id']}/{action}", 404, json={"data": {}}), "not_found")
    assert world.ready(instance["id"], "review")["claimed_by"] is None


def test_seeing_a_case_is_not_being_in_its_lane(world: Any, db_state: Any) -> None:
    instance = world.submitted()
    review = world.ready(instance["id"], "review")
    assert world.get("committee1", f"/api/v1/instances/{instance['id']}")["id"] == instance["id"]
    assert world.get("committee1", f"/api/v1/tasks/{review['id']}")["id"] == review["id"]
    before = db_state(instance["id"])
    assert_error(world.complete("committee1", review["id"], {"decision": "approve"}, 403), "forbidden")
    assert_error(world.post("committee1", f"/api/v1/tasks/{review['id']}/claim", 403), "forbidden")
    # the admin sees every case but is not in the secretary's lane either
    assert_error(world.complete("admin", review["id"], {"decision": "approve"}, 403), "forbidden")
    assert db_state(instance["id"]) == before


def test_nobody_reviews_their_own_case(world: Any) -> None:
    """sec1 is 李四: a case about 李四 is reviewed by the other secretary of the branch."""
    instance = world.start("2023010102")
    submit = world.ready(instance["id"], "submit")
    assert submit["lane"] == "member"
    # the member lane of 李四's case is assigned to 李四's account, i.e. sec1
    world.complete("sec1", submit["id"], {"reason": "我自己申请"})
    review = world.ready(instance["id"], "review")
    assert _inbox(world, "sec1") == []
    assert [t["id"] for t in _inbox(world, "sec1b")] == [review["id"]]
    assert_error(world.complete("sec1", review["id"], {"decision": "approve"}, 403), "forbidden")
    assert world.complete("sec1b", review["id"], {"decision": "approve"})["outcome"] == "approved"


# -- claims ---------------------------------------------------------------------------------------------------------
def test_claim_and_unclaim(world: Any) -> None:
    instance = world.submitted()
    review = world.ready(instance["id"], "review")
    claimed = world.post("sec1", f"/api/v1/tasks/{review['id']}/claim")
    assert claimed["claimed_by"] == "sec1"
    assert world.ready(instance["id"], "review")["claimed_by"] == "sec1"
    assert [t["id"] for t in _inbox(world, "sec1")] == [review["id"]]
    assert _inbox(world, "sec1b") == []  # taken by a colleague

    assert_error(world.complete("sec1b", review["id"], {"decision": "reject"}, 409), "task_claimed")
    assert_error(world.post("sec1b", f"/api/v1/tasks/{review['id']}/claim", 409), "task_claimed")
    assert_error(world.post("sec1b", f"/api/v1/tasks/{review['id']}/unclaim", 409), "task_claimed")
    assert world.ready(instance["id"], "review")["claimed_by"] == "sec1"

    assert world.post("sec1", f"/api/v1/tasks/{review['id']}/unclaim")["claimed_by"] is None
    assert world.post("sec1", f"/api/v1/tasks/{review['id']}/unclaim")["claimed_by"] is None  # idempotent
    assert [t["id"] for t in _inbox(world, "sec1b")] == [review["id"]]
    world.post("sec1b", f"/api/v1/tasks/{review['id']}/claim")
    # an admin may release anyone's claim
    assert world.post("admin", f"/api/v1/tasks/{review['id']}/unclaim")["claimed_by"] is None
    done = world.complete("sec1", review["id"], {"decision": "reject", "comment": "再等等"})
    assert (done["status"], done["outcome"]) == ("completed", "rejected")
    actions = [h["action"] for h in world.instance(instance["id"])["history"]]
    assert actions.count("task_claimed") == 2 and actions.count("task_unclaimed") == 2
    assert_error(world.post("sec1", f"/api/v1/tasks/{review['id']}/claim", 409), "task_not_ready")
    assert_error(world.post("sec1", f"/api/v1/tasks/{review['id']}/unclaim", 409), "task_not_ready")


# -- completion ------------------------------------------------------------------------------------------------------
def test_complete_through_to_the_end(world: Any) -> None:
    instance = world.start()
    submit = world.ready(instance["id"], "submit")
    after_submit = world.complete("zhangsan", submit["id"], {"reason": "加急申请", "urgent": True})
    assert [t["name"] for t in after_submit["ready_tasks"]] == ["review_urgent"]
    assert after_submit["milestone"] == "加急审核 Urgent review"
    review = after_submit["ready_tasks"][0]
    done = world.complete("sec1", review["id"], {"decision": "approve"})
    assert (done["status"], done["outcome"], done["ready_tasks"]) == ("completed", "approved", [])
    history = world.instance(instance["id"])["history"]
    assert [h["action"] for h in history] == [
        "instance_started", "task_completed", "task_completed", "instance_completed"]
    assert [h["actor"] for h in history[1:3]] == ["zhangsan", "sec1"]
    assert all("data" not in h["details"] for h in history)  # submitted values stay out of the history
    assert world.get("admin", "/api/v1/instances", query_string={"status": "completed"})["total"] == 1
    assert_error(world.complete("sec1", review["id"], {"decision": "approve"}, 409), "task_not_ready")
    assert_error(world.complete("sec1", "not-a-task-id", {}, 404), "not_found")


def test_invalid_data_is_422_per_field_and_changes_nothing(world: Any, db_state: Any) -> None:
    instance = world.start()
    submit = world.ready(instance["id"], "submit")
    before = db_state(instance["id"])
    cases = [
        ({}, {("reason", "required")}),
        ({"reason": "x"}, {("reason", "minLength")}),
        ({"reason": 42, "urgent": "yes"}, {("reason", "type"), ("urgent", "type")}),
        ({"reason": "fine reason", "extra": 1}, {("", "additionalProperties")}),
        ({"reason": "fine reason", "subject": OTHER_BRANCH_PERSON}, {("", "additionalProperties")}),
    ]
    for data, expected in cases:
        error = assert_error(world.complete("zhangsan", submit["id"], data, 422), "validation_failed")
        assert {(d["field"], d["validator"]) for d in error["details"]} == expected, data
        assert all(d["message"] for d in error["details"])
    for data in ([1, 2], "text", None):
        body = world.post("zhangsan", f"/api/v1/tasks/{submit['id']}/complete", 422, json={"data": data})
        assert assert_error(body)["details"][0]["field"] == "data"
    after = db_state(instance["id"])
    assert after == before
    assert after["instance"]["revision"] == before["instance"]["revision"]
    assert [t["status"] for t in after["tasks"]] == ["ready"]
    assert world.ready(instance["id"], "submit")["id"] == submit["id"]
    assert world.complete("zhangsan", submit["id"], {"reason": "now it is right"})["ready_tasks"][0]["name"] == "review"


# -- admin actions ------------------------------------------------------------------------------------------------------
def test_suspend_resume_terminate_are_admin_only(world: Any, db_state: Any) -> None:
    instance = world.submitted()
    iid = instance["id"]
    review = world.ready(iid, "review")
    before = db_state(iid)
    for user in ("sec1", "committee1", "zhangsan"):
        for action in ("suspend", "resume", "terminate"):
            assert_error(world.post(user, f"/api/v1/instances/{iid}/{action}", 403, json={}), "forbidden")
    # sec2 cannot even see the case
    assert_error(world.post("sec2", f"/api/v1/instances/{iid}/suspend", 404), "not_found")
    assert db_state(iid) == before

    assert_error(world.post("admin", f"/api/v1/instances/{iid}/resume", 409))
    suspended = world.post("admin", f"/api/v1/instances/{iid}/suspend")
    assert suspended["status"] == "suspended"
    assert_error(world.post("admin", f"/api/v1/instances/{iid}/suspend", 409), "instance_not_running")
    assert_error(world.complete("sec1", review["id"], {"decision": "approve"}, 409), "instance_not_running")
    assert_error(world.post("sec1", f"/api/v1/tasks/{review['id']}/claim", 409), "instance_not_running")
    assert world.instance(iid)["status"] == "suspended"
    assert _inbox(world, "sec1") == []  # nobody can act on it, so it is in nobody's inbox

    assert world.post("admin", f"/api/v1/instances/{iid}/resume")["status"] == "running"
    assert [t["id"] for t in _inbox(world, "sec1")] == [review["id"]]
    world.post("sec1", f"/api/v1/tasks/{review['id']}/claim")

    terminated = world.post("admin", f"/api/v1/instances/{iid}/terminate", json={"reason": "重复申请 duplicate"})
    assert (terminated["status"], terminated["outcome"], terminated["ready_tasks"]) == ("terminated", "terminated", [])
    last = world.instance(iid)["history"][-1]
    assert last["action"] == "instance_terminated" and last["details"]["reason"] == "重复申请 duplicate"
    assert world.get("sec1", f"/api/v1/tasks/{review['id']}")["status"] == "cancelled"
    assert _inbox(world, "sec1") == []
    assert_error(world.complete("sec1", review["id"], {"decision": "approve"}, 409), "task_not_ready")
    for action in ("terminate", "suspend", "resume"):
        assert_error(world.post("admin", f"/api/v1/instances/{iid}/{action}", 409, json={}))


# -- messages -------------------------------------------------------------------------------------------------------------
def test_a_message_nothing_waits_for_is_409_and_changes_nothing(world: Any, db_state: Any) -> None:
    instance = world.submitted()
    before = db_state(instance["id"])
    body = world.post("sec1", f"/api/v1/instances/{instance['id']}/messages", 409,
                      json={"name": "objection", "data": {"text": "有异议"}})
    assert_error(body, "message_not_accepted")
    assert db_state(instance["id"]) == before
    assert_error(world.post("sec1", "/api/v1/instances/424242/messages", 404, json={"name": "objection"}))
    assert_error(world.post("sec1", f"/api/v1/instances/{instance['id']}/messages", 422, json={"name": ""}))


def test_a_waiting_case_takes_its_message(world: Any, deploy: Any, db_state: Any) -> None:
    deploy((API_BPMN / "unit_notice.bpmn").read_text(encoding="utf-8"))
    instance = world.start("TZB-JX2301", "unit_notice")
    assert instance["ready_tasks"] == [] and instance["milestone"] == "等待中 waiting"
    assert db_state(instance["id"])["waits"] == [("objection",)]
    assert_error(world.post("sec1", f"/api/v1/instances/{instance['id']}/messages", 409, json={"name": "other"}),
                 "message_not_accepted")
    # any member of the college may raise an objection
    after = world.post("wangwu", f"/api/v1/instances/{instance['id']}/messages",
                       json={"name": "objection", "data": {"text": "材料不实"}})
    assert [t["name"] for t in after["ready_tasks"]] == ["handle"]
    assert world.instance(instance["id"])["history"][-1]["action"] == "message_received"
    assert db_state(instance["id"])["waits"] == []
    assert_error(world.post("wangwu", f"/api/v1/instances/{instance['id']}/messages", 409, json={"name": "objection"}),
                 "message_not_accepted")
    handle = world.ready(instance["id"], "handle")
    assert world.get("sec1", f"/api/v1/tasks/{handle['id']}")["instance_id"] == instance["id"]
    assert world.complete("sec1", handle["id"], {})["status"] == "completed"


# -- lists per person and per org unit ------------------------------------------------------------------------------------
def test_cases_per_person_and_per_org_unit(world: Any, deploy: Any) -> None:
    deploy((API_BPMN / "unit_notice.bpmn").read_text(encoding="utf-8"))
    mine = world.start()
    other = world.start(OTHER_BRANCH_PERSON)
    unit_case = world.start("TZB-JX2301", "unit_notice")
    world.start("TZB-JX2302", "unit_notice")

    listed = world.get("admin", f"/api/v1/people/{CANDIDATE}/instances")
    assert [i["id"] for i in listed["items"]] == [mine["id"]] and listed["total"] == 1
    assert listed["items"][0]["ready_tasks"][0]["name"] == "submit"  # the current step
    assert [i["id"] for i in world.get("sec1", f"/api/v1/people/{CANDIDATE}/instances")["items"]] == [mine["id"]]
    assert [i["id"] for i in world.get("zhangsan", f"/api/v1/people/{CANDIDATE}/instances")["items"]] == [mine["id"]]
    assert world.get("sec2", f"/api/v1/people/{CANDIDATE}/instances")["total"] == 0
    assert world.get("wangwu", f"/api/v1/people/{CANDIDATE}/instances")["total"] == 0
    assert world.get("zhangsan", f"/api/v1/people/{OTHER_BRANCH_PERSON}/instances")["total"] == 0
    assert [i["id"] for i in world.get("sec2", f"/api/v1/people/{OTHER_BRANCH_PERSON}/instances")["items"]] == [other["id"]]
    assert world.get("admin", "/api/v1/people/nobody/instances")["total"] == 0

    units = world.get("admin", "/api/v1/org-units/TZB-JX2301/instances")
    assert [i["id"] for i in units["items"]] == [unit_case["id"]]
    assert units["items"][0]["subject_kind"] == "org_unit"
    assert [i["id"] for i in world.get("sec1", "/api/v1/org-units/TZB-JX2301/instances")["items"]] == [unit_case["id"]]
    assert world.get("sec2", "/api/v1/org-units/TZB-JX2301/instances")["total"] == 0
    assert world.get("zhangsan", "/api/v1/org-units/TZB-JX2301/instances")["total"] == 0
    assert_error(world.get("admin", "/api/v1/org-units/NO-SUCH-UNIT/instances", 404), "not_found")
    # the general branch above sees both branches' cases
    assert world.get("admin", "/api/v1/org-units/TZZ/instances")["total"] == 0
