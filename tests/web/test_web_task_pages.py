"""The task page: instructions, the case and its history, the form's data for the browser island; a
rejected submission comes back with per-field errors in Chinese and everything typed kept."""

from __future__ import annotations

import re
from typing import Any

import pytest
from web_support import MEMBER, csrf_from, data_attr, sign_in


@pytest.fixture
def review(start_case: Any, ready_task: Any, complete_as: Any) -> Any:
    """张三's approval case, submitted, waiting for 机械2301's League branch secretary."""
    iid = start_case("approval", MEMBER)
    complete_as("zhangsan", ready_task(iid).id, {"reason": "积极向党组织靠拢"})
    return ready_task(iid)


def post_form(client: Any, task_id: str, data: str) -> Any:
    token = csrf_from(client.get(f"/inbox/tasks/{task_id}").get_data(as_text=True))
    return client.post(f"/inbox/tasks/{task_id}", data={"csrf_token": token, "data": data, "intent": "complete"})


def test_task_page_shows_the_step_the_case_and_its_history(client: Any, start_case: Any, ready_task: Any) -> None:
    task = ready_task(start_case("approval", MEMBER))
    sign_in(client, "zhangsan")
    page = client.get(f"/inbox/tasks/{task.id}").get_data(as_text=True)
    assert "请填写申请理由" in page  # the BPMN's instructions
    assert "张三" in page and "机械2301团支部" in page and "测试审批 Test approval" in page
    assert "发起流程" in page  # history
    assert data_attr(page, "schema")["required"] == ["reason"]
    assert data_attr(page, "ui-schema") == {"reason": {"ui:widget": "textarea"}}
    assert data_attr(page, "form-data") == {}
    assert "dist/task-form.js" in page


def test_a_rejected_submission_keeps_the_input_and_marks_the_fields(client: Any, review: Any) -> None:
    sign_in(client, "sec1")
    typed = '{"decision": "maybe", "comment": "我写了很长的意见"}'
    response = post_form(client, review.id, typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert data_attr(page, "form-data") == {"decision": "maybe", "comment": "我写了很长的意见"}
    errors = data_attr(page, "errors")
    assert errors == [{"field": "decision", "message": "取值不在允许范围内"}]
    assert "提交的数据有误" in page and "<li>决定 Decision：取值不在允许范围内</li>" in page  # the summary
    missing = post_form(client, review.id, '{"comment": "忘了选"}')
    assert missing.status_code == 422
    assert data_attr(missing.get_data(as_text=True), "errors") == [{"field": "decision", "message": "此项为必填项"}]
    garbage = post_form(client, review.id, "{not json")
    assert garbage.status_code == 400 and "格式有误" in garbage.get_data(as_text=True)


def test_a_correct_submission_moves_the_case_on(client: Any, review: Any, ready_task: Any) -> None:
    sign_in(client, "sec1")
    response = post_form(client, review.id, '{"decision": "approve", "comment": "同意推荐"}')
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "已提交。案件当前进度：已结束 completed: approved" in inbox
    assert review.id not in inbox
    done = client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    assert "此任务已由 sec1" in done and "同意推荐" in done  # the comment in the history
    assert "data-task-form" not in done
    again = post_form(client, review.id, '{"decision": "reject"}')
    assert again.status_code == 409 and "已不在待办状态" in again.get_data(as_text=True)
    assert "您刚才填写的内容" in again.get_data(as_text=True)


def test_comments_are_for_approvers_not_for_the_person_the_case_is_about(client: Any, review: Any,
                                                                          complete_as: Any) -> None:
    complete_as("sec1", review.id, {"decision": "reject", "comment": "材料不全"})
    sign_in(client, "psec1")  # the paired Party branch sees the case
    assert "材料不全" in client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    member = client.application.test_client()
    sign_in(member, "zhangsan")
    own = member.get(f"/inbox/tasks/{review.id}")
    assert own.status_code == 200 and "材料不全" not in own.get_data(as_text=True)


def test_who_may_see_and_act(client: Any, review: Any) -> None:
    sign_in(client, "sec2")  # another branch's secretary
    assert client.get(f"/inbox/tasks/{review.id}").status_code == 404
    assert client.get("/inbox/tasks/no-such-task").status_code == 404
    refused = post_form_as_other_branch(client, review.id)
    assert refused.status_code == 404
    viewer = client.application.test_client()
    sign_in(viewer, "psec1")  # may see the case, but the step is the League secretary's
    page = viewer.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    assert "此步骤不由您办理" in page and "data-task-form" not in page
    token = csrf_from(page)
    forbidden = viewer.post(f"/inbox/tasks/{review.id}", data={"csrf_token": token, "data": '{"decision": "approve"}'})
    assert forbidden.status_code == 403


def post_form_as_other_branch(client: Any, task_id: str) -> Any:
    token = csrf_from(client.get("/inbox").get_data(as_text=True))
    return client.post(f"/inbox/tasks/{task_id}", data={"csrf_token": token, "data": '{"decision": "approve"}'})


def test_a_task_claimed_by_a_colleague_is_read_only(client: Any, review: Any, make_user: Any,
                                                    login: Any) -> None:
    make_user("sec1b", [("league_branch_secretary", "TZB-JX2301")])
    assert client.post(f"/api/v1/tasks/{review.id}/claim", headers=login("sec1b")).status_code == 200
    sign_in(client, "sec1")
    page = client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    assert "此任务已由 sec1b 认领" in page and "data-task-form" not in page
    assert not re.search(r'/claim"', page)
    response = post_form(client, review.id, '{"decision": "approve"}')
    assert response.status_code == 409 and "已被他人认领" in response.get_data(as_text=True)


def test_a_draft_is_saved_unvalidated_and_comes_back(client: Any, review: Any, make_user: Any) -> None:
    import sqlalchemy as sa

    from service.extensions import db
    from service.inbox.models import TaskDraft

    make_user("sec1b", [("league_branch_secretary", "TZB-JX2301")])
    sign_in(client, "sec1")
    token = csrf_from(client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True))
    saved = client.post(f"/inbox/tasks/{review.id}", data={"csrf_token": token, "intent": "draft",
                                                           "data": '{"comment": "还在考虑"}'})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/inbox/tasks/{review.id}"
    page = client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    assert "草稿已保存" in page and "已载入您于" in page
    assert data_attr(page, "form-data") == {"comment": "还在考虑"}
    assert '"draft": "保存草稿"' in page.replace("&#34;", '"')
    colleague = client.application.test_client()
    sign_in(colleague, "sec1b")
    assert data_attr(colleague.get(f"/inbox/tasks/{review.id}").get_data(as_text=True), "form-data") == {}
    done = post_form(client, review.id, '{"decision": "approve", "comment": "考虑好了"}')
    assert done.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TaskDraft)) == 0


def test_drafts_only_for_tasks_one_may_do(client: Any, review: Any) -> None:
    sign_in(client, "psec1")  # sees the case, is not the step's
    token = csrf_from(client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True))
    refused = client.post(f"/inbox/tasks/{review.id}", data={"csrf_token": token, "intent": "draft", "data": "{}"})
    assert refused.status_code == 403
    sign_in(client, "sec1")
    token = csrf_from(client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True))  # a new session's token
    huge = '{"comment": "' + "长" * 30_000 + '"}'
    too_big = client.post(f"/inbox/tasks/{review.id}", data={"csrf_token": token, "intent": "draft", "data": huge})
    assert too_big.status_code == 413
