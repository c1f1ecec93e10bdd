"""The candidate page in a real browser (Debian's Chromium driven by Playwright): the real 推优入党
process deployed, the case waiting on the branch committee, and the bpmn-js viewer marking that step as
current and the steps before it as done, on a phone and on a desktop. Screenshots in artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser_support import (
    DESKTOP,
    PHONE,
    require_browser,
    screenshot,
    serving,
    sign_in,
)
from tracking_support import CANDIDATE, build_scene, real_process_config, recommendation_at_committee_review

pytestmark = pytest.mark.browser

require_browser("diagram-viewer.js")  # skips the module without Playwright, Chromium or the bundle

CURRENT = '[data-element-id="committee_review"].dj-current'


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return real_process_config(app_config)



@pytest.fixture
def base_url(app: Any, college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
             deploy: Callable[..., Any]) -> Iterator[str]:
    build_scene(make_person, make_user, deploy)
    recommendation_at_committee_review()
    with serving(app) as url:
        yield url


def new_page(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    return page


@pytest.mark.parametrize(("viewport", "shot"), [(PHONE, "candidate_page_phone"), (DESKTOP, "candidate_page")])
def test_the_diagram_marks_the_current_step(browser: Any, base_url: str, viewport: dict[str, int], shot: str) -> None:
    page = new_page(browser, viewport)
    sign_in(page, base_url, "lisi")
    page.goto(f"{base_url}/people/{CANDIDATE}")
    assert page.locator(".stage-current").inner_text().startswith("推优")

    page.wait_for_selector(CURRENT)  # bpmn-js drew the diagram and our marker is on the current task
    assert page.locator(f"{CURRENT} .djs-visual rect").count() == 1
    for done in ("apply", "committee_prepare", "gw_eligible"):
        assert page.locator(f'[data-element-id="{done}"].dj-completed').count() == 1, done
    assert page.locator(".dj-taken").count() >= 3  # the flows taken so far
    assert page.locator('[data-element-id="meeting_approval"].dj-completed').count() == 0
    # the current step stands out: the marker CSS reached the SVG
    stroke = page.locator(f"{CURRENT} .djs-visual > rect").first.evaluate("e => getComputedStyle(e).stroke")
    assert stroke == "rgb(198, 40, 40)"
    screenshot(page, shot)
    assert page.script_errors == []
    page.context.close()


def test_the_branch_page_on_a_phone(browser: Any, base_url: str) -> None:
    page = new_page(browser, PHONE)
    sign_in(page, base_url, "lisi")
    page.goto(f"{base_url}/org-units/TZB-JX2301")
    page.locator("table").get_by_role("link", name="张三").click()  # from the member list to their page
    page.wait_for_url(f"{base_url}/people/{CANDIDATE}")
    page.go_back()
    assert page.locator(".case-line", has_text="支委会审查").count() == 1
    screenshot(page, "branch_page_phone")
    assert page.script_errors == []
    page.context.close()
