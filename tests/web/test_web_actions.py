"""The task page's other buttons (转办, 委派, 撤回, 退回, 催办, 抄送), the notification bell and page, and
the 代理 stand-in page: each does its work, and a user without the right is refused with nothing changed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from web_support import MEMBER, csrf_from, data_attr, sign_in

from service import clock


@pytest.fixture
def review(start_case: Any, ready_task: Any, complete_as: Any, make_user: Any) -> Any:
    """张三's approval case, submitted, waiting for 机械2301's League branch secretaries (sec1, sec1b)."""
    make_user("sec1b", [("league_branch_secretary", "TZB-JX2301")])
    iid = start_case("approval", MEMBER)
    complete_as("zhangsan", ready_task(iid).id, {"reason": "积极向党组织靠拢"})
    return ready_task(iid)


def act(client: Any, task_id: str, action: str, **fields: str) -> Any:
    token = csrf_from(client.get("/notifications").get_data(as_text=True))
    return client.post(f"/inbox/tasks/{task_id}/{action}", data={"csrf_token": token, **fields})


def logout(client: Any) -> None:
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/notifications").get_data(as_text=True))})


def flashes(client: Any, task_id: str) -> str:
    return client.get(f"/inbox/tasks/{task_id}").get_data(as_text=True)


def row(task_id: str) -> Any:
    from service.extensions import db
    from service.instances.models import HumanTask

    db.session.expire_all()
    return db.session.get(HumanTask, task_id)


def audit_actions(instance_id: int) -> list[tuple[str, dict[str, Any]]]:
    from service.audit import AuditEvent
    from service.extensions import db

    return [(e.action, e.details) for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id))]


def bell(page: str) -> int:
    found = re.search(r'data-unread="(\d+)"', page)
    return int(found.group(1)) if found else 0


def test_the_task_page_offers_the_actions_to_whoever_may_use_them(client: Any, review: Any) -> None:
    sign_in(client, "sec1")
    page = client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    for action in ("transfer", "delegate", "return", "remind", "copy"):
        assert f'data-action="{action}"' in page
    assert 'data-action="withdraw"' not in page
    assert "转办" in page and "委派" in page and "退回" in page and "催办" in page and "抄送" in page
    english = client.get(f"/inbox/tasks/{review.id}?lang=en").get_data(as_text=True)
    assert "Transfer" in english and "Delegate" in english and "Remind" in english


def test_transfer_from_the_page_and_refused_to_another_branch(client: Any, review: Any) -> None:
    sign_in(client, "sec2")
    assert act(client, review.id, "transfer", to="sec1b").status_code == 404
    assert row(review.id).assigned_user_id is None
    logout(client)
    sign_in(client, "sec1")
    assert act(client, review.id, "transfer", to="zhaoliu").status_code == 302  # not eligible: explained
    assert "无权办理" in flashes(client, review.id) and row(review.id).assigned_user_id is None
    assert act(client, review.id, "transfer", to="sec1b", comment="出差").status_code == 302
    assert "已转办" in flashes(client, review.id)
    task = row(review.id)
    assert task.assigned_user_id == task.claimed_by and task.assigned_user_id is not None
    assert ("task_transferred", {"task": "review", "to": "sec1b", "previous_assignee": None, "comment": "出差"}) \
        in audit_actions(review.instance_id)


def test_delegate_then_confirm_the_proposal(client: Any, review: Any) -> None:
    sign_in(client, "sec1")
    act(client, review.id, "delegate", to="zhaoliu", comment="请代拟")
    assert "已委派" in flashes(client, review.id)
    logout(client)
    sign_in(client, "zhaoliu")
    assert review.id in client.get("/inbox").get_data(as_text=True)
    page = client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    response = client.post(f"/inbox/tasks/{review.id}", data={
        "csrf_token": csrf_from(page), "data": '{"decision": "approve", "comment": "代拟同意"}', "intent": "complete"})
    assert response.status_code == 302
    assert row(review.id).status == "ready" and row(review.id).proposal == {"decision": "approve", "comment": "代拟同意"}
    logout(client)
    sign_in(client, "sec1")
    page = client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    assert data_attr(page, "form-data") == {"decision": "approve", "comment": "代拟同意"}
    assert bell(page) >= 1


def test_withdraw_from_the_page_and_refused_once_the_next_step_is_claimed(client: Any, start_case: Any,
                                                                          ready_task: Any) -> None:
    iid = start_case("approval", MEMBER)
    submit = ready_task(iid)
    sign_in(client, "zhangsan")
    page = client.get(f"/inbox/tasks/{submit.id}").get_data(as_text=True)
    client.post(f"/inbox/tasks/{submit.id}", data={"csrf_token": csrf_from(page), "data": '{"reason": "积极向党组织靠拢"}',
                                                    "intent": "complete"})
    assert 'data-action="withdraw"' in client.get(f"/inbox/tasks/{submit.id}").get_data(as_text=True)
    assert act(client, submit.id, "withdraw", comment="再改改").status_code == 302
    again = ready_task(iid)
    assert again.name == "submit" and again.id != submit.id
    assert "已撤回" in flashes(client, submit.id)

    page = client.get(f"/inbox/tasks/{again.id}").get_data(as_text=True)
    client.post(f"/inbox/tasks/{again.id}", data={"csrf_token": csrf_from(page), "data": '{"reason": "积极向党组织靠拢"}',
                                                   "intent": "complete"})
    review = ready_task(iid)
    logout(client)
    sign_in(client, "sec1")
    act(client, review.id, "claim")
    logout(client)
    sign_in(client, "zhangsan")
    act(client, again.id, "withdraw")
    assert "不能撤回" in flashes(client, again.id)
    assert ready_task(iid).id == review.id and row(again.id).status == "completed"


def test_return_remind_and_copy_from_the_page(client: Any, review: Any, ready_task: Any) -> None:
    sign_in(client, "zhaoliu")
    assert client.get(f"/inbox/tasks/{review.id}").status_code == 404
    assert act(client, review.id, "remind").status_code == 404  # cannot see the case: nothing happens
    logout(client)

    sign_in(client, "zhangsan")
    act(client, review.id, "remind", comment="请尽快审核")
    assert "已催办" in flashes(client, review.id)
    logout(client)

    sign_in(client, "sec1")
    notes = client.get("/notifications").get_data(as_text=True)
    assert "请尽快审核" in notes and bell(notes) == 2  # the new task and the reminder
    act(client, review.id, "copy", to="zhaoliu", comment="供参考")
    page = client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    assert "已抄送" in page
    submit_step = re.search(r'<option value="([0-9a-f-]{36})">提交申请', page)
    assert submit_step
    act(client, review.id, "return", step=submit_step.group(1), comment="请补充材料")
    assert ready_task(review.instance_id).name == "submit"
    token = csrf_from(client.get("/notifications").get_data(as_text=True))
    client.post("/notifications/read-all", data={"csrf_token": token})
    assert bell(client.get("/notifications").get_data(as_text=True)) == 0
    logout(client)

    sign_in(client, "zhaoliu")  # copied: may now see the case
    assert client.get(f"/inbox/tasks/{review.id}").status_code == 200
    actions = [a for a, _ in audit_actions(review.instance_id)]
    assert {"task_reminded", "case_copied", "task_returned"} <= set(actions)


def test_a_stand_in_named_on_the_page_completes_the_task(client: Any, review: Any) -> None:
    sign_in(client, "sec1")
    today = clock.now().date()
    page = client.get("/inbox/stand-ins").get_data(as_text=True)
    client.post("/inbox/stand-ins", data={"csrf_token": csrf_from(page), "stand_in": "zhaoliu",
                                          "starts_on": today.isoformat(),
                                          "ends_on": (today + timedelta(days=1)).isoformat(), "comment": "出差"})
    assert "zhaoliu" in client.get("/inbox/stand-ins").get_data(as_text=True)
    logout(client)
    sign_in(client, "zhaoliu")
    assert review.id in client.get("/inbox").get_data(as_text=True)
    page = client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    client.post(f"/inbox/tasks/{review.id}", data={"csrf_token": csrf_from(page), "data": '{"decision": "approve"}',
                                                   "intent": "complete"})
    assert row(review.id).status == "completed"
    completed = [d for a, d in audit_actions(review.instance_id) if a == "task_completed"]
    assert completed[-1]["on_behalf_of"] == "sec1"
