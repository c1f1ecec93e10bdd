"""Record pages: a training certificate printed from the person's record, any other record as a table;
seen by the person, admins and holders of roles over the subject's unit, a 404 for everyone else."""

from __future__ import annotations

from typing import Any

import pytest
from web_support import MEMBER, sign_in


@pytest.fixture
def records(cast: None, app: Any, make_user: Any) -> dict[str, int]:
    from service.extensions import db
    from service.records.operations import add_record

    make_user("admin1", [("admin", None)])
    cert = add_record(subject_kind="person", subject=MEMBER, kind="training_certificate", year=2026, data={
        "number": "党校2026-2-001", "class": "2026 年秋季入党积极分子培训班", "grade": 90.0, "hours": 16,
        "issued": "2026-12-20", "valid_until": "2029-12-20", "organiser": "机械工程学院党总支"})
    visit = add_record(subject_kind="org_unit", subject="TZB-JX2301", kind="contact_visit", year=2026,
                       data={"visited_on": "2026-10-12", "problems": ["团费收缴不及时"], "note": "<b>x</b>"})
    db.session.commit()
    return {"cert": cert.id, "visit": visit.id}


def _get(client: Any, username: str, path: str) -> Any:
    sign_in(client, username)
    return client.get(path)


def test_the_person_sees_their_certificate_printable(client: Any, records: dict[str, int]) -> None:
    page = _get(client, "zhangsan", f"/records/{records['cert']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "结业证书" in text and "党校2026-2-001" in text and "张三 同志" in text
    assert "机械工程学院党总支" in text and "2026-12-20" in text and "window.print()" in text
    assert 'class="doc-sheet certificate"' in text


def test_the_certificate_in_english(client: Any, records: dict[str, int]) -> None:
    text = _get(client, "zhangsan", f"/records/{records['cert']}?lang=en").get_data(as_text=True)
    assert "Certificate of Completion" in text and "Valid until 2029-12-20" in text


@pytest.mark.parametrize(("user", "status"), [("sec1", 200), ("psec1", 200), ("admin1", 200), ("sec2", 404),
                                              ("zhaoliu", 404)])
def test_who_may_see_a_persons_record(client: Any, records: dict[str, int], user: str, status: int) -> None:
    assert _get(client, user, f"/records/{records['cert']}").status_code == status


def test_a_record_without_its_own_template_is_a_table(client: Any, records: dict[str, int]) -> None:
    page = _get(client, "sec1", f"/records/{records['visit']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "visited_on" in text and "2026-10-12" in text and "团费收缴不及时" in text
    assert "<b>x</b>" not in text  # escaped
    sign_in(client, "zhangsan")
    assert client.get(f"/records/{records['visit']}").status_code == 404  # a member does not see branch records


def test_a_persons_records_list_and_the_audit(client: Any, records: dict[str, int], db_session: Any) -> None:
    from sqlalchemy import select

    from service.audit import AuditEvent

    text = _get(client, "sec1", f"/records/people/{MEMBER}").get_data(as_text=True)
    assert f"/records/{records['cert']}" in text and "党校结业证书" in text
    assert client.get("/records/people/2023010201").status_code == 404  # another branch's member
    assert client.get("/records/people/nobody").status_code == 404
    assert client.get("/records/999999").status_code == 404
    assert client.get("/records/org-units/TZB-JX2301").status_code == 200
    views = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "restricted_view")).all()
    assert any(v.details.get("page") == "record" and v.details.get("subject") == MEMBER for v in views)


def test_signed_out_visitors_are_sent_to_the_login(client: Any, records: dict[str, int]) -> None:
    page = client.get(f"/records/{records['cert']}")
    assert page.status_code in (302, 303) and "/login" in page.headers["Location"]


# -- in a real browser: the certificate fits a phone and prints without the page around it --------------------
@pytest.mark.browser
def test_the_certificate_on_a_phone_and_in_print(app: Any, records: dict[str, int]) -> None:
    from browser_support import PHONE, launched_chromium, screenshot, serving, sign_in, skip_reason

    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    if skip_reason():
        pytest.skip(skip_reason())
    with serving(app) as base, launched_chromium(sync_api) as browser:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, base, "zhangsan")
        page.goto(f"{base}/records/{records['cert']}")
        assert page.locator(".certificate-title").inner_text().replace(" ", "") == "结业证书"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
        assert page.get_by_role("button", name="打印").is_visible()
        screenshot(page, "training_certificate_phone")
        page.emulate_media(media="print")
        assert not page.get_by_role("button", name="打印").is_visible()
        assert not page.locator("header.top").is_visible()
        assert page.locator(".certificate").is_visible()
        screenshot(page, "training_certificate_print")
        assert errors == []
        browser.close()
