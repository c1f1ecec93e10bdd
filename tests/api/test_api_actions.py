"""Task actions besides completing — 转办 transfer, 委派 delegate, 撤回 withdraw, 退回 return, 催办 remind,
抄送 copy, 代理 stand-in — and the notifications (and e-mails) they make. For each: the happy path, and
a caller without the right refused with nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import sqlalchemy as sa
from api_support import CANDIDATE, assert_error

from service import clock


def _review(world: Any) -> tuple[int, dict[str, Any]]:
    case = world.submitted()
    return case["id"], world.ready(case["id"], "review")


def _audit(raw_db: sa.Engine, action: str) -> list[tuple[Any, ...]]:
    with raw_db.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT u.username, a.details FROM audit_event a LEFT JOIN app_user u ON u.id = a.actor_id "
            "WHERE a.action = :a ORDER BY a.id"), {"a": action})]


def _details(value: Any) -> dict[str, Any]:
    import json

    return json.loads(value) if isinstance(value, str) else value


def _notifications(world: Any, user: str, **query: Any) -> dict[str, Any]:
    return world.get(user, "/api/v1/notifications", query_string=query)


# -- 转办 transfer --------------------------------------------------------------------------------------------
def test_transfer_hands_the_task_to_an_eligible_colleague(world: Any, raw_db: sa.Engine) -> None:
    instance_id, task = _review(world)
    moved = world.post("sec1", f"/api/v1/tasks/{task['id']}/transfer", json={"to": "sec1b", "comment": "出差 away"})
    assert moved["claimed_by"] == "sec1b"
    assert_error(world.complete("sec1", task["id"], {"decision": "approve"}, 409), "task_claimed")
    assert world.complete("sec1b", task["id"], {"decision": "approve"})["status"] == "completed"
    [(actor, details)] = _audit(raw_db, "task_transferred")
    assert actor == "sec1" and _details(details)["to"] == "sec1b" and _details(details)["comment"] == "出差 away"
    kinds = [n["kind"] for n in _notifications(world, "sec1b")["items"]]
    assert "new_task" in kinds


def test_transfer_refused_without_the_right_or_to_someone_ineligible(world: Any, db_state: Any) -> None:
    instance_id, task = _review(world)
    before = db_state(instance_id)
    path = f"/api/v1/tasks/{task['id']}/transfer"
    assert_error(world.post("committee1", path, 403, json={"to": "sec1b"}), "forbidden")  # sees it, may not act
    assert_error(world.post("sec2", path, 404, json={"to": "sec1b"}), "not_found")  # another branch
    error = assert_error(world.post("sec1", path, 422, json={"to": "committee1"}), "validation_failed")
    assert error["details"][0]["field"] == "to"
    assert_error(world.post("sec1", path, 422, json={"to": "nobody-such"}), "validation_failed")
    assert db_state(instance_id) == before


# -- 委派 delegate ----------------------------------------------------------------------------------------------
def test_delegate_proposes_and_the_delegator_confirms(world: Any, raw_db: sa.Engine) -> None:
    instance_id, task = _review(world)
    world.post("sec1", f"/api/v1/tasks/{task['id']}/delegate", json={"to": "committee1", "comment": "请代拟意见"})
    inbox = world.get("committee1", "/api/v1/tasks")["items"]
    assert [t["id"] for t in inbox] == [task["id"]] and inbox[0]["delegated_to"] == "committee1"
    assert_error(world.complete("sec1", task["id"], {"decision": "approve"}, 409), "task_delegated")
    assert_error(world.complete("sec1b", task["id"], {"decision": "approve"}, 409), "task_delegated")

    after = world.complete("committee1", task["id"], {"decision": "reject", "comment": "材料不全"})
    assert after["status"] == "running" and after["ready_tasks"][0]["id"] == task["id"]
    assert after["ready_tasks"][0]["delegated_to"] is None
    assert world.get("committee1", "/api/v1/tasks")["items"] == []
    detail = world.get("sec1", f"/api/v1/tasks/{task['id']}")
    assert detail["data"] == {"decision": "reject", "comment": "材料不全"}  # pre-filled with the proposal
    assert [n["kind"] for n in _notifications(world, "sec1", unread="true")["items"]][0] == "returned"

    done = world.complete("sec1", task["id"], {"decision": "approve", "comment": "补齐后同意"})
    assert done["status"] == "completed" and done["outcome"] == "approved"
    assert [a for a, _ in _audit(raw_db, "task_delegated")] == ["sec1"]
    assert [a for a, _ in _audit(raw_db, "delegation_returned")] == ["committee1"]


def test_delegate_refused_without_the_right(world: Any, db_state: Any) -> None:
    instance_id, task = _review(world)
    before = db_state(instance_id)
    path = f"/api/v1/tasks/{task['id']}/delegate"
    assert_error(world.post("committee1", path, 403, json={"to": "sec2"}), "forbidden")
    assert_error(world.post("wangwu", path, 404, json={"to": "sec2"}), "not_found")
    assert_error(world.post("sec1", path, 422, json={"to": "zhangsan"}), "validation_failed")  # the candidate
    assert db_state(instance_id) == before


# -- 撤回 withdraw ------------------------------------------------------------------------------------------------
def test_withdraw_takes_a_step_back_while_the_next_is_untouched(world: Any, raw_db: sa.Engine) -> None:
    case = world.start()
    submit = world.ready(case["id"], "submit")
    world.complete("zhangsan", submit["id"], {"reason": "申请入党 I wish to apply"})
    review = world.ready(case["id"], "review")
    back = world.post("zhangsan", f"/api/v1/tasks/{submit['id']}/withdraw", json={"comment": "写错了 typo"})
    [again] = back["ready_tasks"]
    assert again["name"] == "submit" and again["claimed_by"] == "zhangsan"
    assert world.get("sec1", f"/api/v1/tasks/{review['id']}")["status"] == "cancelled"
    [(actor, details)] = _audit(raw_db, "task_withdrawn")
    assert actor == "zhangsan" and _details(details)["comment"] == "写错了 typo"
    done = world.complete("zhangsan", again["id"], {"reason": "申请入党，重新填写"})
    assert world.ready(done["id"], "review")


def test_withdraw_refused_once_the_next_step_was_taken_up(world: Any, db_state: Any) -> None:
    case = world.start()
    submit = world.ready(case["id"], "submit")
    world.complete("zhangsan", submit["id"], {"reason": "申请入党 I wish to apply"})
    review = world.ready(case["id"], "review")
    world.post("sec1", f"/api/v1/tasks/{review['id']}/claim")
    before = db_state(case["id"])
    error = assert_error(world.post("zhangsan", f"/api/v1/tasks/{submit['id']}/withdraw", 409, json={}),
                         "next_step_started")
    assert "不能撤回" in error["message"] and "can no longer be withdrawn" in error["message"]
    assert_error(world.post("sec1", f"/api/v1/tasks/{submit['id']}/withdraw", 403, json={}), "forbidden")
    assert db_state(case["id"]) == before


# -- 退回 return -------------------------------------------------------------------------------------------------
def test_return_sends_the_case_back_to_an_earlier_step(world: Any, raw_db: sa.Engine) -> None:
    instance_id, review = _review(world)
    [submit] = [t for t in world.get("admin", f"/api/v1/instances/{instance_id}")["history"]
                if t["action"] == "task_completed"]
    submit_id = _completed_task_id(raw_db, instance_id, "submit")
    back = world.post("sec1", f"/api/v1/tasks/{review['id']}/return",
                      json={"step": submit_id, "comment": "请补充理由 add detail"})
    assert [t["name"] for t in back["ready_tasks"]] == ["submit"]
    returned = [n for n in _notifications(world, "zhangsan")["items"] if n["kind"] == "returned"]
    assert len(returned) == 1 and "请补充理由" in returned[0]["text"]
    [(actor, details)] = _audit(raw_db, "task_returned")
    assert actor == "sec1" and _details(details)["to_step"] == "submit"
    assert submit["task"] == "submit"


def _completed_task_id(raw_db: sa.Engine, instance_id: int, name: str) -> str:
    with raw_db.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM human_task WHERE instance_id = :i AND name = :n AND "
                                    "status = 'completed'"), {"i": instance_id, "n": name}).scalar_one()


def test_return_refused_without_the_right_or_to_a_step_not_passed(world: Any, raw_db: sa.Engine,
                                                                  db_state: Any) -> None:
    instance_id, review = _review(world)
    submit_id = _completed_task_id(raw_db, instance_id, "submit")
    before = db_state(instance_id)
    path = f"/api/v1/tasks/{review['id']}/return"
    assert_error(world.post("committee1", path, 403, json={"step": submit_id}), "forbidden")
    assert_error(world.post("sec2", path, 404, json={"step": submit_id}), "not_found")
    assert_error(world.post("sec1", path, 422, json={"step": review["id"]}), "validation_failed")
    assert db_state(instance_id) == before


# -- 催办 remind and 抄送 copy -------------------------------------------------------------------------------------
def test_remind_notifies_everyone_the_task_waits_on(world: Any, raw_db: sa.Engine) -> None:
    instance_id, review = _review(world)
    assert world.post("zhangsan", f"/api/v1/tasks/{review['id']}/remind", json={"comment": "请尽快"}) == {"notified": 2}
    for user in ("sec1", "sec1b"):
        reminders = [n for n in _notifications(world, user)["items"] if n["kind"] == "reminded"]
        assert len(reminders) == 1 and reminders[0]["task_id"] == review["id"]
    world.post("sec1", f"/api/v1/tasks/{review['id']}/claim")
    assert world.post("admin", f"/api/v1/tasks/{review['id']}/remind", json={}) == {"notified": 1}  # the claimer
    assert [a for a, _ in _audit(raw_db, "task_reminded")] == ["zhangsan", "admin"]


def test_remind_and_copy_refused_to_someone_who_cannot_see_the_case(world: Any, db_state: Any) -> None:
    instance_id, review = _review(world)
    before = db_state(instance_id)
    assert_error(world.post("wangwu", f"/api/v1/tasks/{review['id']}/remind", 404, json={}), "not_found")
    assert_error(world.post("wangwu", f"/api/v1/instances/{instance_id}/copies", 404, json={"to": "wangwu2"}),
                 "not_found")
    assert db_state(instance_id) == before
    assert _notifications(world, "wangwu")["total"] == 0


def test_copy_lets_the_recipient_see_the_case(world: Any, raw_db: sa.Engine) -> None:
    instance_id, _review_task = _review(world)
    world.get("wangwu", f"/api/v1/instances/{instance_id}", 404)
    world.post("sec1", f"/api/v1/instances/{instance_id}/copies", 201, json={"to": "wangwu", "comment": "供参考"})
    assert world.get("wangwu", f"/api/v1/instances/{instance_id}")["id"] == instance_id
    assert instance_id in [i["id"] for i in world.get("wangwu", "/api/v1/instances")["items"]]
    [copied] = _notifications(world, "wangwu")["items"]
    assert copied["kind"] == "copied" and copied["instance_id"] == instance_id
    [(actor, details)] = _audit(raw_db, "case_copied")
    assert actor == "sec1" and _details(details) == {"to": "wangwu", "comment": "供参考"}


# -- notifications -------------------------------------------------------------------------------------------------
def test_new_tasks_notify_the_people_they_are_offered_to_and_can_be_marked_read(world: Any) -> None:
    case = world.start()
    mine = _notifications(world, "zhangsan")
    assert mine["unread"] == 1 and mine["items"][0]["kind"] == "new_task"  # the member lane: assigned to them
    world.complete("zhangsan", world.ready(case["id"], "submit")["id"], {"reason": "申请入党 I wish to apply"})
    for user in ("sec1", "sec1b"):  # the role at the branch
        assert _notifications(world, user)["unread"] == 1
    assert _notifications(world, "sec2")["total"] == 0 and _notifications(world, "committee1")["total"] == 0

    [note] = _notifications(world, "sec1")["items"]
    assert_error(world.post("sec1b", f"/api/v1/notifications/{note['id']}/read", 404), "not_found")
    assert world.post("sec1", f"/api/v1/notifications/{note['id']}/read") == {"marked": 1}
    assert _notifications(world, "sec1")["unread"] == 0 and _notifications(world, "sec1b")["unread"] == 1
    assert world.post("sec1b", "/api/v1/notifications/read-all") == {"marked": 1}
    assert _notifications(world, "sec1b", unread="true")["total"] == 0


def _with_email(app: Any, **emails: str) -> None:
    from service.extensions import db
    from service.org.models import User

    app.config["MAIL_ENABLED"] = True
    for username, address in emails.items():
        db.session.scalar(sa.select(User).where(User.username == username)).email = address
    db.session.commit()


def test_email_is_sent_only_after_the_commit(app: Any, world: Any, raw_db: sa.Engine) -> None:
    _with_email(app, sec1="sec1@example.edu")
    seen_committed: list[int] = []

    def check_committed(message: Any) -> None:
        with raw_db.connect() as conn:  # the notification is already committed when the mail goes out
            seen_committed.append(conn.execute(sa.text("SELECT count(*) FROM notification")).scalar_one())

    with mock.patch("service.notifications.mail.smtplib.SMTP") as smtp:
        smtp.return_value.__enter__.return_value.send_message.side_effect = check_committed
        world.submitted()
    sent = [c.args[0] for c in smtp.return_value.__enter__.return_value.send_message.call_args_list]
    assert [m["To"] for m in sent] == ["sec1@example.edu"] and "新待办" in sent[0].get_content()
    assert seen_committed and seen_committed[0] > 0


def test_no_email_when_the_transaction_fails(app: Any, world: Any, db_state: Any) -> None:
    instance_id, review = _review(world)
    _with_email(app, sec1="sec1@example.edu")
    before = db_state(instance_id)
    with mock.patch("service.notifications.mail.smtplib.SMTP") as smtp, \
            mock.patch("service.inbox.actions.audit.record", side_effect=RuntimeError("disk full")):
        response = world.client.post(f"/api/v1/tasks/{review['id']}/remind", json={}, headers=world.auth["zhangsan"])
    assert response.status_code == 500
    smtp.assert_not_called()
    assert db_state(instance_id) == before
    assert _notifications(world, "sec1")["total"] == 1  # only the new-task one from before


def test_email_off_by_default(app: Any, world: Any) -> None:
    assert app.config["MAIL_ENABLED"] is False
    with mock.patch("service.notifications.mail.smtplib.SMTP") as smtp:
        world.submitted()
    smtp.assert_not_called()


# -- 代理 stand-in ------------------------------------------------------------------------------------------------------
def test_a_stand_in_sees_and_completes_the_task_and_the_audit_names_both(world: Any, raw_db: sa.Engine) -> None:
    instance_id, review = _review(world)
    assert world.get("wangwu", "/api/v1/tasks")["total"] == 0
    world.complete("wangwu", review["id"], {"decision": "approve"}, 404)
    today = clock.now().date()
    named = world.post("sec1", "/api/v1/stand-ins", 201, json={
        "stand_in": "wangwu", "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=3)).isoformat(),
        "comment": "外出培训"})
    assert (named["user"], named["stand_in"]) == ("sec1", "wangwu")
    assert [t["id"] for t in world.get("wangwu", "/api/v1/tasks")["items"]] == [review["id"]]
    assert world.complete("wangwu", review["id"], {"decision": "approve"})["status"] == "completed"
    completions = [(a, _details(d)) for a, d in _audit(raw_db, "task_completed")]
    assert completions[-1][0] == "wangwu" and completions[-1][1]["on_behalf_of"] == "sec1"
    assert "on_behalf_of" not in completions[0][1]
    assert [s["id"] for s in world.get("wangwu", "/api/v1/stand-ins")["items"]] == [named["id"]]


def test_stand_in_outside_its_dates_or_ended_gives_no_right(world: Any) -> None:
    instance_id, review = _review(world)
    later = clock.now().date() + timedelta(days=10)
    world.post("sec1", "/api/v1/stand-ins", 201, json={
        "stand_in": "wangwu", "starts_on": later.isoformat(), "ends_on": later.isoformat()})
    assert world.get("wangwu", "/api/v1/tasks")["total"] == 0
    today = clock.now().date().isoformat()
    named = world.post("sec1", "/api/v1/stand-ins", 201, json={"stand_in": "wangwu", "starts_on": today,
                                                               "ends_on": today})
    assert world.get("wangwu", "/api/v1/tasks")["total"] == 1
    world.call("wangwu", "DELETE", f"/api/v1/stand-ins/{named['id']}", 404)  # only the one who named it
    world.call("sec1", "DELETE", f"/api/v1/stand-ins/{named['id']}", 204)
    assert world.get("wangwu", "/api/v1/tasks")["total"] == 0
    assert_error(world.post("sec1", "/api/v1/stand-ins", 422, json={
        "stand_in": "wangwu", "starts_on": today, "ends_on": "2000-01-01"}), "validation_failed")
    assert_error(world.post("sec1", "/api/v1/stand-ins", 422, json={
        "stand_in": "sec1", "starts_on": today, "ends_on": today}), "validation_failed")
    assert CANDIDATE


def test_a_due_reminder_timer_notifies_that_the_task_is_overdue(world: Any, deploy: Any) -> None:
    from service.extensions import db
    from service.instances.operations import start_instance
    from service.timers.operations import run_due

    deploy("deadline")
    start_instance(None, "deadline", "TZB-JX2301")
    db.session.commit()
    assert [n["kind"] for n in _notifications(world, "sec1")["items"]] == ["new_task"]
    assert run_due(clock.now() + timedelta(hours=2)).fired == 1
    kinds = [n["kind"] for n in _notifications(world, "sec1")["items"]]
    assert kinds == ["overdue", "new_task"] and _notifications(world, "sec2")["total"] == 0
