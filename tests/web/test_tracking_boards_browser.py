"""The campaign page, the search page and the dashboards in a real browser (Debian's Chromium driven by
Playwright) on a 360 px phone: nothing wider than the screen, the confirm button explaining a quota
refusal, a search submitted from its form, the charts drawn. Screenshots in artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser_support import DESKTOP, PHONE, launched_chromium, screenshot, serving, sign_in, skip_reason
from test_campaign_board_pages import OVER_QUOTA, ROOT, USERS, run_campaign

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="browser tests skipped: the playwright package is not installed")
if skip_reason():
    pytest.skip(skip_reason(), allow_module_level=True)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BPMN_DIR": str(ROOT / "bpmn"), "FORMS_DIR": str(ROOT / "forms")}


@pytest.fixture
def scene(app: Any, college: Any, make_user: Callable[..., Any], deploy: Callable[..., Any]) -> Iterator[tuple[str, int]]:
    for username, roles in USERS.items():
        make_user(username, roles)
    deploy(ROOT / "bpmn" / "branch_assessment.bpmn")
    campaign = run_campaign(OVER_QUOTA)
    with serving(app) as url:
        yield url, campaign


def fits(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_campaign_search_and_dashboards_on_a_phone(scene: tuple[str, int]) -> None:
    base, campaign = scene
    with launched_chromium(sync_api) as browser:
        try:
            context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
            context.set_default_timeout(15_000)
            page = context.new_page()
            sign_in(page, base, "tzz_sec")

            page.goto(f"{base}/campaigns/{campaign}?sort=aggregate&order=desc")
            assert page.locator("table.board tbody tr").count() == 3
            assert page.locator("table.board tbody tr").first.get_attribute("data-subject") == "TZB-JX2301"
            assert page.locator(".quota-table tr.over").count() == 1
            assert fits(page)
            page.get_by_role("button", name="确认全部等级并上报党总支").click()
            page.wait_for_selector(".flash-error")
            assert "超出限额" in page.locator(".flash-error").inner_text()
            screenshot(page, "campaign_board_phone")

            page.goto(f"{base}/search")
            page.locator("select[name=process]").select_option("branch_assessment")
            page.get_by_label("显示流程变量（逗号分隔，如 grade,final_score）").fill("grade,final_score")
            page.get_by_role("button", name="搜索", exact=True).click()
            page.wait_for_selector("table.results")
            assert page.locator("table.results tbody tr").count() == 3
            assert fits(page)
            screenshot(page, "search_phone")

            page.goto(f"{base}/dashboards?year=2025")
            assert page.locator("svg.chart").count() >= 5
            assert page.locator(".dash-table").count() >= 5
            assert fits(page)
            screenshot(page, "dashboards_phone")

            desktop = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
            sign_in(desktop, base, "tzz_sec")
            desktop.goto(f"{base}/campaigns/{campaign}")
            assert desktop.locator("table.board thead th").count() == 7
            screenshot(desktop, "campaign_board")
        finally:
            browser.close()
