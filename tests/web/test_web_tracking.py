"""The candidate page: the pipeline stage, the case and its current step, who may open it (the person,
the branch's officers; not another branch), every view of the restricted record in the audit trail, and
the diagram endpoint behind the page's viewer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from tracking_support import CANDIDATE, build_scene, real_process_config, recommendation_at_committee_review
from web_support import sign_in


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return real_process_config(app_config)


@pytest.fixture
def case_id(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
            deploy: Callable[..., Any]) -> int:
    build_scene(make_person, make_user, deploy)
    return recommendation_at_committee_review()


def _restricted_views(person: str) -> list[Any]:
    from service.audit import AuditEvent
    from service.extensions import db

    db.session.expire_all()
    return [e for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "restricted_view"))
            if e.details.get("person") == person]


def test_the_branch_secretary_sees_the_stage_the_case_and_its_current_step(client: Any, case_id: int) -> None:
    sign_in(client, "lisi")
    response = client.get(f"/people/{CANDIDATE}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "张三" in page and "机械2301团支部" in page
    # 张三 is an applicant (申请入党 2024-10-10) whose recommendation is under way: the 推优 stage is current
    assert 'class="stage stage-current" aria-current="step">\n      <span class="stage-name">推优</span>' in page
    assert "2024-10-10" in page and 'stage-done' in page
    # the case: its milestone, who it waits on and since when, and the diagram the viewer draws
    assert "推优入党" in page and "支委会审查" in page
    assert "等待：团支部委员（机械2301团支部）" in page
    assert f'data-diagram-url="/api/v1/instances/{case_id}/diagram"' in page
    assert "dist/diagram-viewer.js" in page and "dist/diagram-viewer.css" in page
    # the timeline tells the story in words, without the submitted data
    assert page.index("发起流程") < page.index("完成「提交推优申请」")  # oldest first
    assert "我志愿加入中国共产党" not in page


def test_the_person_themself_sees_their_page(client: Any, case_id: int) -> None:
    sign_in(client, "zhangsan")
    response = client.get(f"/people/{CANDIDATE}")
    assert response.status_code == 200
    assert "政治面貌：入党申请人" in response.get_data(as_text=True)


def test_another_branch_gets_404(client: Any, case_id: int) -> None:
    sign_in(client, "sec3")  # secretary of 机械2401团支部
    assert client.get(f"/people/{CANDIDATE}").status_code == 404
    sign_in(client, "wangwu")  # a member elsewhere
    assert client.get(f"/people/{CANDIDATE}").status_code == 404
    assert client.get("/people/no-such-person").status_code == 404
    assert _restricted_views(CANDIDATE) == []


def test_every_view_of_the_restricted_record_is_audited(client: Any, case_id: int) -> None:
    from service.org.models import User

    sign_in(client, "lisi")
    client.get(f"/people/{CANDIDATE}")
    client.get(f"/people/{CANDIDATE}")
    sign_in(client, "zhangsan")
    client.get(f"/people/{CANDIDATE}")
    views = _restricted_views(CANDIDATE)
    from service.extensions import db

    who = dict(db.session.execute(sa.select(User.id, User.username)).all())
    assert [who[e.actor_id] for e in views] == ["lisi", "lisi", "zhangsan"]
    assert all(e.details["page"] == "candidate_page" and e.remote_addr for e in views)


def test_signed_out_visitors_are_sent_to_the_login(client: Any, case_id: int) -> None:
    response = client.get(f"/people/{CANDIDATE}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_diagram_endpoint_marks_the_current_step(client: Any, case_id: int,
                                                     login: Callable[[str], dict[str, str]]) -> None:
    body = client.get(f"/api/v1/instances/{case_id}/diagram", headers=login("committee1")).get_json()
    assert body["bpmn"].lstrip().startswith("<?xml") or "<bpmn:definitions" in body["bpmn"]
    assert body["current"] == ["committee_review"]
    assert {"start", "apply", "gw_eligible"} <= set(body["completed"]) and body["cancelled"] == []
    assert body["flows"], "the path taken so far"
    assert client.get(f"/api/v1/instances/{case_id}/diagram", headers=login("sec3")).status_code == 404
    assert client.get("/api/v1/instances/999999/diagram", headers=login("committee1")).status_code == 404


# -- the branch page ---------------------------------------------------------------------------------------
def _finished_case(process: str, subject: str, outcome: str, year: int) -> None:
    from datetime import UTC, datetime

    from service.extensions import db
    from service.instances.models import Instance
    from service.modeler.operations import latest_version

    version = latest_version(process)
    at = datetime(year, 12, 20, 8, 0, tzinfo=UTC)
    db.session.add(Instance(version_id=version.id, version=version, process_key=process, subject_kind="org_unit",
                            subject=subject, subject_unit=subject, status="completed", outcome=outcome,
                            milestone=f"已结束 completed: {outcome}", state="{}", started_at=at, updated_at=at,
                            completed_at=at, summary={}))
    db.session.commit()


def test_the_branch_page_shows_members_open_cases_grades_and_rectifications(client: Any, case_id: int,
                                                                           deploy: Callable[..., Any]) -> None:
    from tracking_support import ROOT

    deploy(ROOT / "bpmn" / "branch_assessment.bpmn")
    deploy(ROOT / "bpmn" / "rectification.bpmn")
    _finished_case("branch_assessment", "TZB-JX2301", "good", 2025)
    _finished_case("rectification", "TZB-JX2301", "closed", 2025)

    sign_in(client, "lisi")
    response = client.get("/org-units/TZB-JX2301")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "机械2301团支部" in page and f'href="/people/{CANDIDATE}"' in page
    assert "<td>推优</td>" in page and "<td>入党申请人</td>" in page  # 张三's case is under way; the others apply
    assert "支委会审查" in page and "等待：团支部委员" in page  # the open recommendation
    assert "<td>2025</td><td>四星（良好）</td>" in page
    assert "已结束 completed: closed" in page
    from service.audit import AuditEvent
    from service.extensions import db

    assert db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "restricted_view")).one() \
        .details == {"org_unit": "TZB-JX2301", "page": "branch_page"}


def test_the_branch_page_is_for_the_officers_covering_it(client: Any, case_id: int) -> None:
    sign_in(client, "sec3")
    assert client.get("/org-units/TZB-JX2301").status_code == 404
    assert client.get("/org-units/TZB-JX2401").status_code == 200
    sign_in(client, "zhangsan")  # a member: the branch's Party statuses are not theirs to read
    assert client.get("/org-units/TZB-JX2301").status_code == 404
    sign_in(client, "tzz")  # the general branch sees its branches
    assert client.get("/org-units/TZB-JX2301").status_code == 200
    assert client.get("/org-units/NOPE").status_code == 404


def test_reading_a_person_over_the_api_is_audited_too(client: Any, case_id: int,
                                                      login: Callable[[str], dict[str, str]]) -> None:
    assert client.get(f"/api/v1/people/{CANDIDATE}", headers=login("lisi")).get_json()["party_status"] == "applicant"
    assert client.get(f"/api/v1/people/{CANDIDATE}", headers=login("sec3")).status_code == 404
    assert [e.details["page"] for e in _restricted_views(CANDIDATE)] == ["api_person"]
