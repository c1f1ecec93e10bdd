"""Bulk approval (批量审批): one form for several tasks of the same step, each task validated and
completed on its own and reported on its own."""

from __future__ import annotations

from typing import Any

import pytest
from web_support import MEMBER, MEMBER_2, csrf_from, data_attr, sign_in, task_ids


@pytest.fixture
def approvals(start_case: Any, ready_task: Any, complete_as: Any) -> list[str]:
    """Two party_review cases recommended by 机械2301, waiting for 学生第一党支部's secretary."""
    found = []
    for subject in (MEMBER, MEMBER_2):
        iid = start_case("party_review", subject)
        complete_as("sec1", ready_task(iid).id, {"recommended": "yes", "votes_for": 20})
        found.append(ready_task(iid).id)
    return found


def bulk_post(client: Any, ids: list[str], data: str) -> Any:
    page = client.get("/inbox/bulk?" + "&".join(f"task={i}" for i in ids))
    assert page.status_code == 200, page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/inbox/bulk", data={"csrf_token": token, "data": data, "task": ids})


def test_bulk_approval_of_two_tasks(client: Any, approvals: list[str]) -> None:
    sign_in(client, "psec1")
    assert task_ids(client.get("/inbox").get_data(as_text=True)) == approvals
    form = client.get(f"/inbox/bulk?task={approvals[0]}&task={approvals[1]}").get_data(as_text=True)
    assert "批量审批：党支部审批 Party branch approval" in form and "张三" in form and "赵六" in form
    assert data_attr(form, "schema")["required"] == ["decision"]
    assert task_ids(form) == approvals  # carried in the hidden form
    result = bulk_post(client, approvals, '{"decision": "approve", "comment": "同意"}')
    page = result.get_data(as_text=True)
    assert result.status_code == 200 and "成功 2 项，失败 0 项" in page
    assert page.count("已结束 completed: approved") == 2
    assert task_ids(client.get("/inbox").get_data(as_text=True)) == []


def test_each_task_is_reported_on_its_own(client: Any, approvals: list[str], complete_as: Any) -> None:
    sign_in(client, "psec1")
    page = client.get(f"/inbox/bulk?task={approvals[0]}&task={approvals[1]}")
    token = csrf_from(page.get_data(as_text=True))
    complete_as("psec1", approvals[0], {"decision": "reject"})  # done elsewhere meanwhile
    result = client.post("/inbox/bulk", data={"csrf_token": token, "data": '{"decision": "approve"}',
                                              "task": approvals})
    text = result.get_data(as_text=True)
    assert "成功 1 项，失败 1 项" in text and "已不在待办状态" in text


def test_invalid_data_comes_back_to_the_form_with_the_input(client: Any, approvals: list[str]) -> None:
    sign_in(client, "psec1")
    result = bulk_post(client, approvals, '{"decision": "perhaps", "comment": "再议"}')
    page = result.get_data(as_text=True)
    assert result.status_code == 422
    assert data_attr(page, "form-data") == {"decision": "perhaps", "comment": "再议"}
    assert data_attr(page, "errors")[0]["field"] == "decision"
    assert task_ids(page) == approvals


def test_only_the_same_step_and_only_my_tasks(client: Any, approvals: list[str], start_case: Any,
                                              ready_task: Any) -> None:
    recommend = ready_task(start_case("party_review", "2023010102"))
    sign_in(client, "sec1")
    mixed = client.get(f"/inbox/bulk?task={recommend.id}&task={approvals[0]}")
    assert mixed.status_code == 400 and "不由您处理" in mixed.get_data(as_text=True)
    other = ready_task(start_case("approval", MEMBER))
    assert other.lane_role == "member"
    sign_in(client, "psec1")
    assert client.get("/inbox/bulk").status_code == 400
    assert "同一步骤" not in client.get(f"/inbox/bulk?task={approvals[0]}").get_data(as_text=True)


def test_different_steps_are_refused(client: Any, approvals: list[str], start_case: Any, ready_task: Any,
                                     make_user: Any) -> None:
    make_user("both", [("league_branch_secretary", "TZB-JX2301"), ("party_branch_secretary", "DZB-S1")])
    recommend = ready_task(start_case("party_review", "2023010102"))
    sign_in(client, "both")
    mixed = client.get(f"/inbox/bulk?task={recommend.id}&task={approvals[0]}")
    assert mixed.status_code == 400 and "同一流程、同一步骤" in mixed.get_data(as_text=True)
