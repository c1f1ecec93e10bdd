"""The search page (/search): real 推优入党 cases started and advanced through the real operations, plus a
real assessment campaign; each filter narrows the results, a counsellor finds only their classes' cases,
restricted variables are refused as columns for non-admins, the .xlsx download is checked with openpyxl
(phone masked), and saved searches belong to their user."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from test_campaign_board_pages import ROOT, USERS, actor, run_campaign
from web_support import csrf_from, sign_in

from service import clock
from service.extensions import db
from service.instances.models import HumanTask
from service.instances.operations import complete_task, start_instance, terminate_instance

PEOPLE = {  # id: (name, branch, started (UTC), apply filed?)
    "2023010101": ("张三", "TZB-JX2301", datetime(2025, 5, 10, 2, tzinfo=UTC), True),
    "2023010105": ("李明", "TZB-JX2301", datetime(2025, 6, 10, 2, tzinfo=UTC), False),
    "2023020101": ("王五", "TZB-JX2302", datetime(2025, 7, 10, 2, tzinfo=UTC), True),
    "2024010101": ("赵六", "TZB-JX2401", datetime(2025, 8, 10, 2, tzinfo=UTC), False),
}
NOW = datetime(2025, 9, 1, 2, tzinfo=UTC)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


@pytest.fixture
def cases(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
          deploy: Callable[..., Any]) -> dict[str, int]:
    """person id -> their recommendation case; plus the 2024 assessment campaign of the three branches."""
    for username, roles in USERS.items():
        make_user(username, roles)
    make_user("coun2301", [("counsellor", "TZB-JX2301")])
    make_user("coun2302", [("counsellor", "TZB-JX2302")])
    deploy(ROOT / "bpmn" / "recommendation.bpmn")
    deploy(ROOT / "bpmn" / "branch_assessment.bpmn")
    found = {}
    for number, (name, branch, started, applied) in PEOPLE.items():
        make_person(number, name, branch, phone="13812345678", id_number="110105200403011234")
        make_user(f"u{number}", [("member", None)], person=number)
        with clock.frozen_at(started):
            instance = start_instance(None, "recommendation", number, {})
            db.session.commit()
            if applied:
                task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                                  HumanTask.status == "ready")).one()
                complete_task(actor(f"u{number}"), task.id, {"statement": "我志愿加入中国共产党。"})
                db.session.commit()
        found[number] = instance.id
    with clock.frozen_at(NOW):
        terminate_instance(actor("admin"), found["2024010101"], "测试")
        db.session.commit()
    run_campaign({"TZB-JX2301": (85, 86, 84), "TZB-JX2302": (75, 76, 74), "TZB-JX2401": None},
                 at=datetime(2025, 3, 15, 2, tzinfo=UTC))
    return found


def get(client: Any, path: str, status: int = 200) -> str:
    with clock.frozen_at(NOW):
        response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


def found_ids(html: str) -> list[int]:
    return sorted(int(i) for i in re.findall(r'<td data-label="编号">(\d+)</td>', html))


def test_each_filter_narrows(client, cases):
    sign_in(client, "tzz_sec")
    zhang, li, wang, zhao = (cases[n] for n in PEOPLE)
    recommendation = "process=recommendation"
    assert found_ids(get(client, f"/search?{recommendation}")) == sorted([zhang, li, wang, zhao])
    assert found_ids(get(client, "/search?name=张")) == [zhang]
    assert len(found_ids(get(client, "/search?name=机械2301"))) == 1  # a branch's name finds its assessment
    assert found_ids(get(client, "/search?number=20230101")) == sorted([zhang, li])
    assert found_ids(get(client, f"/search?{recommendation}&unit=TZB-JX2302")) == [wang]
    assert len(found_ids(get(client, "/search?process=branch_assessment"))) == 3
    assert found_ids(get(client, "/search?status=terminated")) == [zhao]
    assert found_ids(get(client, "/search?step=committee_review")) == sorted([zhang, wang])
    assert found_ids(get(client, "/search?step=apply")) == [li]
    assert found_ids(get(client, f"/search?{recommendation}&started_from=2025-06-01&started_to=2025-07-10")) \
        == sorted([li, wang])
    assert found_ids(get(client, f"/search?{recommendation}&started_to=2025-05-10")) == [zhang]
    paged = get(client, f"/search?{recommendation}&per_page=3&page=2")
    assert len(found_ids(paged)) == 1 and "第 2 / 2 页" in paged
    assert "没有找到" in get(client, "/search?name=不存在的人")


def test_bad_parameters_are_explained(client, cases):
    sign_in(client, "tzz_sec")
    html = get(client, "/search?started_from=2025-13-01&status=nonsense", status=422)
    assert "日期格式应为 YYYY-MM-DD" in html and "状态无效" in html
    assert "started_to：结束日期早于开始日期" in get(
        client, "/search?started_from=2025-06-01&started_to=2025-05-01", status=422)


def test_a_counsellor_finds_only_their_classes(client, cases):
    zhang, li, wang, _zhao = (cases[n] for n in PEOPLE)
    sign_in(client, "coun2301")
    assert found_ids(get(client, "/search?process=recommendation")) == sorted([zhang, li])
    assert found_ids(get(client, "/search?name=王五")) == []
    assert found_ids(get(client, "/search?unit=TZB-JX2302")) == []
    sign_in(client, "coun2302")
    assert found_ids(get(client, "/search?process=recommendation")) == [wang]


def test_variable_columns_and_restricted_ones(client, cases):
    sign_in(client, "tzz_sec")
    html = get(client, "/search?process=branch_assessment&columns=grade,final_score")
    cells = re.findall(r'<td data-label="(grade|final_score)">([^<]*)</td>', html)
    assert sorted(cells) == sorted([("grade", "good"), ("final_score", "85.0"), ("grade", "fair"),
                                    ("final_score", "75.0"), ("grade", "—"), ("final_score", "—")])
    refused = get(client, "/search?process=branch_assessment&columns=grade,reviews", status=422)
    assert "受限变量仅管理员可查看" in refused and "reviews" in refused
    assert "受限变量仅管理员可查看" in get(client, "/search?process=recommendation&columns=yes", status=422)
    sign_in(client, "admin")
    html = get(client, "/search?process=branch_assessment&columns=reviews")
    assert "rev_wang" in html  # admins may show restricted variables


def test_xlsx_download_is_masked_and_scoped(client, cases):
    zhang, li, _wang, _zhao = (cases[n] for n in PEOPLE)
    sign_in(client, "coun2301")
    with clock.frozen_at(NOW):
        response = client.get("/search.xlsx?process=recommendation&columns=person.phone,person.id_number,outcome")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:4] == ("编号 ID", "流程 Process", "对象 Subject", "名称 Name")
    assert table[0][-3:] == ("person.phone", "person.id_number", "outcome")
    body = {row[0]: row for row in table[1:]}
    assert sorted(body) == sorted([zhang, li])  # the counsellor's classes only
    assert body[zhang][3] == "张三" and body[zhang][4] == "机械2301团支部"
    assert body[zhang][-3] == "138****5678"
    assert body[zhang][-2] == "110105********1234"
    assert body[zhang][8] == "2025-05-10 10:00"  # Beijing time


def test_saved_searches_belong_to_their_user(client, cases):
    sign_in(client, "tzz_sec")
    html = get(client, "/search?process=recommendation&status=running")
    with clock.frozen_at(NOW):
        response = client.post("/search/saved", data={"csrf_token": csrf_from(html), "name": "进行中的推优",
                                                      "query": "process=recommendation&status=running&bogus=1"})
    assert response.status_code == 303
    html = get(client, "/search")
    assert "进行中的推优" in html and "搜索已保存" in html
    saved_id = int(re.search(r"/search/saved/(\d+)\"", html).group(1))
    with clock.frozen_at(NOW):
        run = client.get(f"/search/saved/{saved_id}")
    assert run.status_code == 302 and run.headers["Location"].endswith("process=recommendation&status=running")
    with clock.frozen_at(NOW):  # the same name twice is refused with a reason
        client.post("/search/saved", data={"csrf_token": csrf_from(html), "name": "进行中的推优", "query": "status=running"})
    assert "已有同名的保存搜索" in get(client, "/search")

    sign_in(client, "coun2301")
    other = get(client, "/search")
    assert "进行中的推优" not in other
    get(client, f"/search/saved/{saved_id}", status=404)
    with clock.frozen_at(NOW):
        refused = client.post(f"/search/saved/{saved_id}/delete", data={"csrf_token": csrf_from(other)})
    assert refused.status_code == 404

    sign_in(client, "tzz_sec")
    html = get(client, "/search")
    with clock.frozen_at(NOW):
        deleted = client.post(f"/search/saved/{saved_id}/delete", data={"csrf_token": csrf_from(html)})
    assert deleted.status_code == 303
    assert "进行中的推优" not in get(client, "/search")


def test_the_fast_visibility_rule_matches_the_access_rule(client, cases, make_user):
    """The correlated form of visible_instances_condition (search, campaign boards) admits the same cases."""
    from service.instances.access import visible_instances_condition
    from service.instances.models import CaseCopy, Instance

    copied = make_user("copied", [])
    db.session.add(CaseCopy(instance_id=cases["2023020101"], user_id=copied.id, created_at=NOW))
    db.session.commit()
    for username in ("admin", "tzz_sec", "coun2301", "coun2302", "sec2401", "rev_wang", "u2023010101", "copied"):
        who = actor(username)
        with client.application.test_request_context():
            fast = set(db.session.scalars(select(Instance.id).where(visible_instances_condition(who, correlated=True))))
            rule = set(db.session.scalars(select(Instance.id).where(visible_instances_condition(who))))
        assert fast == rule, username
        assert fast, username
    assert fast == {cases["2023020101"]}  # the copied user sees the copied case only


def test_xlsx_download_says_when_rows_were_left_out(client, cases, monkeypatch):
    from service.tracking import search

    monkeypatch.setattr(search, "EXPORT_LIMIT", 2)
    sign_in(client, "tzz_sec")
    with clock.frozen_at(NOW):
        response = client.get("/search.xlsx?process=recommendation")
    table = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert len(table) == 4  # header, two rows, the note
    assert table[-1][0].startswith("结果过多，仅导出前 2 行")
