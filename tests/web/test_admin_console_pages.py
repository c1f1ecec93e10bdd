"""The admin console (/admin): admins only; roster upload (all or nothing, errors per row) and download;
users and their roles taking effect at once; policies edited as JSON; the case list with its filters."""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from web_support import MEMBER, OTHER_MEMBER, csrf_from, sign_in, task_ids

from service.audit import AuditEvent
from service.extensions import db
from service.org.models import Person, User
from service.pack import ProcessDefinition
from tests.org.roster_support import DOCUMENT

ADMIN_PAGES = ["/admin", "/admin/roster", "/admin/roster/export.json", "/admin/users", "/admin/users/1",
               "/admin/policies", "/admin/instances"]


@pytest.fixture
def admin_client(client: Any, make_user: Callable[..., Any]) -> Any:
    make_user("admin", [("admin", None)])
    sign_in(client, "admin")
    return client


@pytest.fixture
def other_client(app: Any, client: Any) -> Any:
    """A second browser (the `client` fixture has set the test client class)."""
    return app.test_client()


def _user_id(username: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.username == username))


def _post(client: Any, page_url: str, action_url: str, **form: Any) -> Any:
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token, **form}, follow_redirects=True)


def _upload(client: Any, name: str, body: bytes) -> Any:
    token = csrf_from(client.get("/admin/roster").get_data(as_text=True))
    return client.post("/admin/roster", data={"csrf_token": token, "file": (io.BytesIO(body), name)},
                       content_type="multipart/form-data")


def _counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("org_unit", "person", "app_user", "role_assignment")}


def _summary(page: str) -> dict[str, tuple[int, int]]:
    rows = re.findall(r'data-sheet="(\w+)" data-created="(\d+)" data-updated="(\d+)"', page)
    return {sheet: (int(created), int(updated)) for sheet, created, updated in rows}


# -- access ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ADMIN_PAGES, ids=ADMIN_PAGES)
def test_admin_pages_refuse_others_and_send_strangers_to_login(client: Any, cast: None, path: str) -> None:
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login?next=")
    sign_in(client, "sec1")
    refused = client.get(path)
    assert refused.status_code == 403 and "您没有权限执行此操作" in refused.get_data(as_text=True)


def test_state_changes_refuse_non_admins(client: Any, cast: None) -> None:
    sign_in(client, "sec1")
    token = csrf_from(client.get("/inbox").get_data(as_text=True))
    target = _user_id("zhangsan")
    for url, form in ((f"/admin/users/{target}/active", {"active": "0"}),
                      (f"/admin/users/{target}/roles", {"role": "admin", "org_unit": ""}),
                      ("/admin/policies/approval/x", {"value": "1"}),
                      ("/admin/roster", {})):
        assert client.post(url, data={"csrf_token": token, **form}).status_code == 403, url
    assert client.post(f"/admin/users/{target}/active", data={"active": "0"}).status_code == 400  # no CSRF token
    db.session.expire_all()
    assert db.session.get(User, target).active is True


def test_index_links_everything_admin_and_the_nav_shows_it_to_admins_only(admin_client: Any, cast: None,
                                                                          other_client: Any) -> None:
    page = admin_client.get("/admin").get_data(as_text=True)
    for href in ("/admin/roster", "/admin/users", "/admin/policies", "/admin/instances", "/admin/models",
                 "/admin/incidents", "/admin/process-models/approval/migration"):
        assert f'href="{href}"' in page, href
    assert '<a href="/admin">管理</a>' in page
    sign_in(other_client, "sec1")
    assert 'href="/admin"' not in other_client.get("/inbox").get_data(as_text=True)
    assert "Users and roles" in admin_client.get("/admin?lang=en").get_data(as_text=True)


# -- roster ---------------------------------------------------------------------------------------------------
def test_roster_upload_imports_a_good_file_and_says_what_was_new(admin_client: Any) -> None:
    body = json.dumps(DOCUMENT, ensure_ascii=False).encode()
    response = _upload(admin_client, "roster.json", body)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "导入成功" in page
    assert _summary(page) == {"org_units": (4, 0), "people": (2, 0), "users": (3, 0)}
    assert _counts()["person"] == 2 and db.session.scalar(sa.select(Person.name).where(Person.id == "T0001")) == "李老师"

    again = _upload(admin_client, "roster.json", body).get_data(as_text=True)  # the same file: all updates
    assert _summary(again) == {"org_units": (0, 4), "people": (0, 2), "users": (0, 3)}
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "roster_imported")).first()
    assert event is not None and event.actor_id == _user_id("admin")


def test_roster_upload_of_a_spreadsheet(admin_client: Any) -> None:
    from service.org.roster import write_xlsx

    response = _upload(admin_client, "花名册.XLSX", write_xlsx(DOCUMENT))
    assert response.status_code == 200
    assert _summary(response.get_data(as_text=True)) == {"org_units": (4, 0), "people": (2, 0), "users": (3, 0)}


def test_a_bad_roster_shows_every_row_error_and_changes_nothing(admin_client: Any) -> None:
    document = copy.deepcopy(DOCUMENT)
    document["people"][1]["org_unit"] = "NOPE"
    document["users"][0]["roles"].append({"role": "pope", "org_unit": "TZB-JX2301"})
    before = _counts()
    response = _upload(admin_client, "roster.json", json.dumps(document, ensure_ascii=False).encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "未导入任何内容" in page
    assert 'data-sheet="people" data-row="2" data-field="org_unit"' in page and "找不到组织 NOPE" in page
    assert 'data-sheet="users" data-row="1" data-field="roles"' in page and "未知的角色 pope" in page
    assert "unknown org unit" not in page  # one language per page
    assert _counts() == before
    english = admin_client.get("/admin/roster?lang=en")  # the language sticks (cookie) for the next upload
    assert english.status_code == 200
    page = _upload(admin_client, "roster.json", json.dumps(document).encode()).get_data(as_text=True)
    assert "unknown org unit NOPE" in page and "找不到组织" not in page


def test_wrong_file_types_and_broken_files_get_a_clear_message(admin_client: Any) -> None:
    before = _counts()
    wrong = _upload(admin_client, "roster.csv", b"code,name\n")
    assert wrong.status_code == 415 and "请上传 .json 或 .xlsx" in wrong.get_data(as_text=True)
    broken = _upload(admin_client, "roster.json", b"{not json")
    assert broken.status_code == 422 and "不是有效的 JSON" in broken.get_data(as_text=True)
    fake = _upload(admin_client, "roster.xlsx", b"PK not really a workbook")
    assert fake.status_code == 422 and "不是有效的 Excel" in fake.get_data(as_text=True)
    assert _counts() == before


def test_roster_size_limit(app: Any, admin_client: Any) -> None:
    app.config["ROSTER_UPLOAD_MAX_BYTES"] = 100
    response = _upload(admin_client, "roster.json", json.dumps(DOCUMENT).encode())
    assert response.status_code == 413 and "不能超过" in response.get_data(as_text=True)
    assert _counts()["org_unit"] == 0


def test_roster_downloads_open_as_a_workbook_and_as_json(admin_client: Any, cast: None) -> None:
    workbook_response = admin_client.get("/admin/roster/export.xlsx")
    assert workbook_response.status_code == 200 and "attachment" in workbook_response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(workbook_response.data), read_only=True)
    assert workbook.sheetnames == ["org_units", "people", "users"]
    users = [row[0] for row in workbook["users"].iter_rows(min_row=2, values_only=True)]
    assert "sec1" in users and "admin" in users
    workbook.close()
    document = json.loads(admin_client.get("/admin/roster/export.json").data)
    sec1 = next(u for u in document["users"] if u["username"] == "sec1")
    assert sec1["roles"] == [{"role": "league_branch_secretary", "org_unit": "TZB-JX2301"}]
    assert "password" not in sec1 and len(document["org_units"]) == 7
    assert admin_client.get("/admin/roster/export.csv").status_code == 404
    exported = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "roster_exported")).all()
    assert sorted(e.details["format"] for e in exported) == ["json", "xlsx"]


# -- users and roles ------------------------------------------------------------------------------------------
def test_users_list_searches_filters_and_pages(admin_client: Any, cast: None, make_user: Callable[..., Any]) -> None:
    page = admin_client.get("/admin/users?q=赵六").get_data(as_text=True)
    assert re.findall(r'data-user="([^"]+)"', page) == ["zhaoliu"] and "机械2301团支部" in page
    page = admin_client.get("/admin/users?role=league_branch_secretary").get_data(as_text=True)
    assert re.findall(r'data-user="([^"]+)"', page) == ["sec1", "sec2"]
    assert "团支部书记 @ 机械2301团支部" in page
    for n in range(20):
        make_user(f"extra{n:02d}")
    first = admin_client.get("/admin/users").get_data(as_text=True)
    second = admin_client.get("/admin/users?page=2").get_data(as_text=True)
    assert len(re.findall(r'data-user="', first)) == 20 and 'rel="next"' in first
    assert len(re.findall(r'data-user="', second)) == 6 and 'rel="prev"' in second  # 26 users in all
    assert admin_client.get("/admin/users/999999").status_code == 404


def test_a_role_added_shows_the_task_and_removed_hides_it(admin_client: Any, other_client: Any,
                                                          start_case: Callable[..., int],
                                                          ready_task: Callable[[int], Any],
                                                          complete_as: Callable[..., None]) -> None:
    case = start_case("approval", MEMBER)
    complete_as("zhangsan", ready_task(case).id, {"reason": "申请"})
    task_id = ready_task(case).id  # now for 机械2301's League branch secretary
    sign_in(other_client, "zhaoliu")
    assert task_id not in task_ids(other_client.get("/inbox").get_data(as_text=True))

    url = f"/admin/users/{_user_id('zhaoliu')}"
    page = _post(admin_client, url, f"{url}/roles", role="league_branch_secretary",
                 org_unit="DZB-S1").get_data(as_text=True)
    assert "应设在团支部" in page and 'data-role="league_branch_secretary"' not in page  # wrong kind of unit
    page = _post(admin_client, url, f"{url}/roles", role="league_branch_secretary",
                 org_unit="TZB-JX2301").get_data(as_text=True)
    assert "已添加角色" in page and 'data-role="league_branch_secretary" data-unit="TZB-JX2301"' in page
    assert task_id in task_ids(other_client.get("/inbox").get_data(as_text=True))

    assignment = re.search(r'/roles/(\d+)/remove', page).group(1)
    page = _post(admin_client, url, f"{url}/roles/{assignment}/remove").get_data(as_text=True)
    assert "已移除角色" in page and 'data-role="league_branch_secretary"' not in page
    assert task_id not in task_ids(other_client.get("/inbox").get_data(as_text=True))
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("role_%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["role_added", "role_removed"]


def test_an_admin_role_opens_the_console(admin_client: Any, other_client: Any, cast: None) -> None:
    sign_in(other_client, "sec2")
    assert other_client.get("/admin/users").status_code == 403
    url = f"/admin/users/{_user_id('sec2')}"
    _post(admin_client, url, f"{url}/roles", role="admin", org_unit="")
    assert other_client.get("/admin/users").status_code == 200
    page = admin_client.get(url).get_data(as_text=True)
    assignment = re.search(r'data-role="admin"[^>]*>.*?/roles/(\d+)/remove', page, re.S).group(1)
    _post(admin_client, url, f"{url}/roles/{assignment}/remove")
    assert other_client.get("/admin/users").status_code == 403
    page = _post(admin_client, url, f"{url}/roles", role="party_branch_secretary", org_unit="").get_data(as_text=True)
    assert "需要指定组织" in page


def test_deactivation_ends_the_session_and_an_admin_cannot_lock_themself_out(
        app: Any, admin_client: Any, other_client: Any, cast: None) -> None:
    sign_in(other_client, "zhangsan")
    assert other_client.get("/inbox").status_code == 200
    url = f"/admin/users/{_user_id('zhangsan')}"
    page = _post(admin_client, url, f"{url}/active", active="0").get_data(as_text=True)
    assert "账号已停用" in page and 'data-active="false"' in page
    assert other_client.get("/inbox").status_code == 302  # signed out at the next request
    token = app.test_client().post("/api/v1/auth/token", json={"username": "zhangsan", "password": "secret-pass-1"})
    assert token.status_code == 401
    _post(admin_client, url, f"{url}/active", active="1")
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.active).where(User.username == "zhangsan")) is True
    events = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("user_%"))
                                .order_by(AuditEvent.id)).all()
    assert events == ["user_deactivated", "user_activated"]

    own = f"/admin/users/{_user_id('admin')}"
    page = _post(admin_client, own, f"{own}/active", active="0").get_data(as_text=True)
    assert 'flash-error" role="status">不能停用自己的账号<' in page and admin_client.get("/admin").status_code == 200
    assignment = db.session.scalar(sa.text("SELECT id FROM role_assignment WHERE role = 'admin'"))
    page = _post(admin_client, own, f"{own}/roles/{assignment}/remove").get_data(as_text=True)
    assert 'flash-error" role="status">不能移除自己的管理员角色<' in page
    assert admin_client.get("/admin").status_code == 200


# -- policies -------------------------------------------------------------------------------------------------
@pytest.fixture
def pack_with_policies(app: Any) -> None:
    app.extensions["pack"] = {"approval": ProcessDefinition(
        key="approval", title="测试审批", title_en="Test approval", subject_kind="person",
        policies={"quorum_rule": "more_than_half", "publicity_days": 5})}


def _policies(client: Any) -> dict[str, tuple[Any, bool]]:
    """What the API says (read with the admin's browser session)."""
    listed = client.get("/api/v1/process-models/approval/policies").get_json()
    return {p["key"]: (p["value"], p["overridden"]) for p in listed}


def test_policies_are_edited_as_json_and_reset(admin_client: Any, cast: None, pack_with_policies: None) -> None:
    url, action = "/admin/policies?process=approval", "/admin/policies/approval/publicity_days"
    page = admin_client.get(url).get_data(as_text=True)
    assert 'data-policy="publicity_days" data-overridden="false"' in page and "测试审批" in page

    bad = _post(admin_client, url, action, value="seven")
    assert bad.status_code == 422 and "不是有效的 JSON" in bad.get_data(as_text=True)
    assert 'value="seven"' in bad.get_data(as_text=True)  # what was typed stays in the field
    wrong_type = _post(admin_client, url, action, value='"seven"')
    assert wrong_type.status_code == 422 and "类型应与默认值相同" in wrong_type.get_data(as_text=True)
    assert _policies(admin_client)["publicity_days"] == (5, False)

    good = _post(admin_client, url, action, value="7")
    assert good.status_code == 200 and "已改为 7" in good.get_data(as_text=True)
    assert 'data-policy="publicity_days" data-overridden="true"' in good.get_data(as_text=True)
    assert _policies(admin_client)["publicity_days"] == (7, True)

    reset = _post(admin_client, url, f"{action}/reset")
    assert "已恢复默认值 5" in reset.get_data(as_text=True)
    assert _policies(admin_client)["publicity_days"] == (5, False)
    changes = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "policy_changed")
                                 .order_by(AuditEvent.id)).all()
    assert [(e.details["old"], e.details["new"], e.details.get("reset")) for e in changes] == [(5, 7, None), (7, 5, True)]
    assert _post(admin_client, url, "/admin/policies/approval/nope", value="1").status_code == 404


# -- cases ----------------------------------------------------------------------------------------------------
def test_case_list_counts_and_filters_by_status_process_and_subject(
        admin_client: Any, start_case: Callable[..., int]) -> None:
    from service.auth.operations import actor_for
    from service.instances.operations import suspend_instance

    running = start_case("approval", MEMBER)
    suspended = start_case("approval", OTHER_MEMBER)
    suspend_instance(actor_for(db.session.scalars(sa.select(User).where(User.username == "admin")).one()), suspended)
    db.session.commit()

    def listed(query: str) -> list[int]:
        page = admin_client.get(f"/admin/instances{query}").get_data(as_text=True)
        return [int(i) for i in re.findall(r'<tr data-instance="(\d+)"', page)]

    page = admin_client.get("/admin/instances").get_data(as_text=True)
    assert 'data-status-count="running" data-count="1"' in page and 'data-status-count="suspended" data-count="1"' in page
    assert 'data-status-count="error" data-count="0"' in page
    assert f'href="/admin/instances/{running}"' in page
    assert listed("?status=suspended") == [suspended]
    assert listed("?status=running") == [running]
    assert listed("?status=error") == []
    assert sorted(listed("?process=approval")) == sorted([running, suspended]) and listed("?process=party_review") == []
    assert listed("?q=王五") == [suspended] and listed(f"?q={MEMBER}") == [running]
    assert listed("?q=%25") == []  # a LIKE wildcard is searched for as text


# -- on a phone -----------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_users_page_fits_a_phone(app: Any, make_user: Callable[..., Any], cast: None) -> None:
    from browser_support import PHONE, launched_chromium, require_browser, screenshot, serving
    from browser_support import sign_in as browser_sign_in

    sync_api = require_browser()
    make_user("admin", [("admin", None)])
    with serving(app) as base, launched_chromium(sync_api) as browser:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        page = context.new_page()
        browser_sign_in(page, base, "admin")
        page.goto(f"{base}/admin/users")
        assert page.locator("tr[data-user]").count() == 6
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(page, "admin_users_phone")
        page.locator('tr[data-user="zhaoliu"] a').click()
        page.get_by_label("角色").select_option("league_branch_secretary")
        page.get_by_label("授权组织").select_option("TZB-JX2301")
        page.get_by_role("button", name="添加角色").click()
        page.wait_for_selector(".flash-success")
        assert page.locator('tr[data-role="league_branch_secretary"]').count() == 1
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(page, "admin_user_phone")
        context.close()
