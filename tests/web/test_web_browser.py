"""The approver's journey in a real browser (Debian's Chromium driven by Playwright): a League
branch secretary reviews a member's application on a phone-sized screen, with the form rejected once
in the browser and once by the server; a Party branch secretary bulk-approves two tasks. Each main
page leaves a screenshot in artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import (
    DESKTOP,
    PHONE,
    require_browser,
    screenshot,
    serving,
    sign_in,
    sign_out,
)
from web_support import MEMBER, MEMBER_2

pytestmark = pytest.mark.browser

require_browser()  # skips the module without Playwright, Chromium or the bundle



@pytest.fixture
def base_url(app: Any, cast: None) -> Iterator[str]:
    with serving(app) as url:
        yield url


def new_page(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    return page


def test_league_secretary_reviews_an_application_on_a_phone(browser: Any, base_url: str, start_case: Any,
                                                           ready_task: Any) -> None:
    instance_id = start_case("approval", MEMBER)
    page = new_page(browser, PHONE)

    # the member fills in the application
    page.goto(f"{base_url}/login")
    screenshot(page, "login-phone")
    sign_in(page, base_url, "zhangsan")
    page.get_by_role("link", name="提交申请 Submit").click()
    page.locator("#root_reason").fill("积极向党组织靠拢，申请推优。")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(f"{base_url}/inbox")
    assert "加急审核" not in page.content() and "审核 Review" in ready_task(instance_id).title
    page.locator("label.nav-button").click()  # the folded menu of a phone
    screenshot(page, "menu-open-phone")
    sign_out(page)

    # the League branch secretary opens the inbox and the task
    sign_in(page, base_url, "sec1")
    assert page.locator("tr", has_text="张三").count() == 1
    screenshot(page, "inbox-phone")
    page.get_by_role("link", name="审核 Review").click()
    page.wait_for_selector("#root_decision")
    assert "积极向党组织靠拢" not in page.content()  # submitted data stays out of the history
    assert "发起流程" in page.content() and "提交申请 Submit" in page.content()

    # a draft: saved without validation, back after the reload
    page.locator("#root_comment").fill("材料齐全")
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_text("草稿已保存。").wait_for()
    assert page.locator("#root_comment").input_value() == "材料齐全"

    # 1. an error the browser catches: no decision chosen
    page.get_by_role("button", name="提交").click()
    error = page.locator(".error-detail", has_text="此项为必填项")
    error.wait_for()
    screenshot(page, "task-form-errors-phone")
    assert ready_task(instance_id).status == "ready"

    # 2. an error only the server sees (the browser's check bypassed): shown on the field, input kept
    page.evaluate("""() => {
        const form = document.getElementById('task-submit');
        form.elements.namedItem('data').value = JSON.stringify({decision: 'maybe', comment: '材料齐全'});
        form.submit();
    }""")
    page.locator(".error-detail", has_text="取值不在允许范围内").wait_for()
    assert page.locator("#root_comment").input_value() == "材料齐全"
    screenshot(page, "task-server-errors-phone")

    # 3. correct: the case moves on (here: to its end)
    page.locator("#root_decision").select_option("approve")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(f"{base_url}/inbox")
    assert "已结束 completed: approved" in page.locator(".flash").inner_text()
    assert page.locator("tr", has_text="张三").count() == 0
    screenshot(page, "inbox-after-review-phone")
    assert page.script_errors == []


def test_party_secretary_bulk_approves_two_tasks(browser: Any, base_url: str, start_case: Any, ready_task: Any,
                                                 complete_as: Any) -> None:
    for subject in (MEMBER, MEMBER_2):
        instance_id = start_case("party_review", subject)
        complete_as("sec1", ready_task(instance_id).id, {"recommended": "yes", "votes_for": 20, "comment": "一致推荐"})
    page = new_page(browser, DESKTOP)
    sign_in(page, base_url, "psec1")
    screenshot(page, "inbox-desktop")
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    for checkbox in page.locator("input[name=task]").all():
        checkbox.check()
    page.get_by_role("button", name="批量审批所选任务").click()
    page.get_by_label("同意", exact=True).check()
    page.locator("#root_comment").fill("同意两位同志的推荐")
    screenshot(page, "bulk-form-desktop")
    page.get_by_role("button", name="提交").click()
    page.get_by_text("成功 2 项，失败 0 项。").wait_for()
    screenshot(page, "bulk-result-desktop")
    task_link = page.locator("tbody a").first
    task_link.click()
    page.get_by_text("同意两位同志的推荐").wait_for()  # the comment in the case history
    screenshot(page, "task-done-desktop")
    page.goto(f"{base_url}/inbox?lang=en")
    page.get_by_text("No open tasks match.").wait_for()
    screenshot(page, "inbox-english-desktop")
    assert page.script_errors == []
