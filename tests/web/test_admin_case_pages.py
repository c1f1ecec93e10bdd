"""The admin case page (state, data, history; suspend, resume, terminate, retry, edit data, move to the
latest version) and the migration page, as an admin signs in and uses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from web_support import MEMBER, csrf_from, sign_in

from service.extensions import db
from service.instances.models import Instance

FAILING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="x">
  <bpmn:process id="divide" name="除法" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="subjectKind" value="person" /></spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="member"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>compute</bpmn:flowNodeRef><bpmn:flowNodeRef>confirm</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:scriptTask id="compute"><bpmn:script>ratio = total / count</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="confirm" name="确认" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute" />
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="confirm" />
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def admin_client(client: Any, cast: None, make_user: Callable[..., Any]) -> Any:
    make_user("admin", [("admin", None)])
    sign_in(client, "admin")
    return client


def _post(client: Any, page_url: str, action_url: str, **form: str) -> str:
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    response = client.post(action_url, data={"csrf_token": token, **form}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _status(instance_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Instance, instance_id).status


def test_repair_a_failed_case_from_its_admin_page(admin_client: Any, deploy: Callable[..., Any],
                                                  start_case: Callable[..., int]) -> None:
    deploy(FAILING)
    case_id = start_case("divide", MEMBER, {"total": 9, "count": 0})
    url = f"/admin/instances/{case_id}"
    page = admin_client.get(url).get_data(as_text=True)
    assert "division by zero" in page and 'data-status="error"' in page and "&#34;count&#34;: 0" in page
    assert "重试出错的步骤" in page and "修改案件数据" in page

    page = _post(admin_client, url, f"{url}/data", changes="not json", reason="x")
    assert "JSON" in page and _status(case_id) == "error"
    page = _post(admin_client, url, f"{url}/data", changes='{"count": 3}', reason="人数录错")
    assert "案件数据已修改" in page and "&#34;count&#34;: 3" in page and "人数录错" in page
    page = _post(admin_client, url, f"{url}/retry")
    assert "已重试出错的步骤" in page and _status(case_id) == "running"
    assert "&#34;ratio&#34;: 3.0" in page

    page = _post(admin_client, url, f"{url}/suspend")
    assert _status(case_id) == "suspended" and "恢复" in page
    _post(admin_client, url, f"{url}/resume")
    assert _status(case_id) == "running"
    page = _post(admin_client, url, f"{url}/terminate", reason="测试结束")
    assert _status(case_id) == "terminated" and "测试结束" in page


def test_migration_page_moves_what_can_move(admin_client: Any, deploy: Callable[..., Any],
                                            start_case: Callable[..., int]) -> None:
    case_id = start_case("approval", MEMBER, {})
    from service.modeler.operations import deploy_bpmn

    xml = (Path(__file__).resolve().parents[1] / "data" / "bpmn" / "approval.bpmn").read_text(encoding="utf-8")
    deploy_bpmn(xml.replace("提交申请 Submit", "提交申请 Submit v2"))
    db.session.commit()
    page = admin_client.get("/admin/process-models/approval/migration?from=1&to=2").get_data(as_text=True)
    assert f'data-instance="{case_id}" data-movable="true"' in page
    assert f'href="/admin/instances/{case_id}"' in page
    case_page = admin_client.get(f"/admin/instances/{case_id}").get_data(as_text=True)
    assert "迁移到最新版本（2）" in case_page
    done = _post(admin_client, "/admin/process-models/approval/migration?from=1&to=2",
                 "/admin/process-models/approval/migration", **{"from": "1", "to": "2", "instance": str(case_id)})
    assert "已迁移 1 个案件到版本 2" in done
    db.session.expire_all()
    assert db.session.get(Instance, case_id).version.number == 2
    assert re.search(r'data-version="2"', admin_client.get(f"/admin/instances/{case_id}").get_data(as_text=True))


def test_the_admin_pages_are_for_admins(client: Any, cast: None, start_case: Callable[..., int]) -> None:
    case_id = start_case("approval", MEMBER, {})
    sign_in(client, "sec1")
    assert client.get(f"/admin/instances/{case_id}").status_code == 403
    assert client.get("/admin/process-models/approval/migration").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/inbox").get_data(as_text=True))})
    assert client.get(f"/admin/instances/{case_id}").status_code == 302
