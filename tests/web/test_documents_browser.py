"""The candidate page and the printable 推荐表 in a real browser (Debian's Chromium driven by Playwright):
the restricted record with its document links, the form laid out for A4 print (the page chrome hidden,
nothing wider than the sheet) and readable 360 px wide. Screenshots in artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser_support import PHONE, launched_chromium, screenshot, serving, sign_in, skip_reason
from documents_support import CANDIDATE, build_cast, real_process_config, recommendation

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="browser tests skipped: the playwright package is not installed")
if skip_reason():
    pytest.skip(skip_reason(), allow_module_level=True)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return real_process_config(app_config)


@pytest.fixture
def served(app: Any, college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
           deploy: Callable[..., Any]) -> Iterator[tuple[str, int]]:
    build_cast(make_person, make_user, deploy)
    case = recommendation("accepted")
    with serving(app) as url:
        yield url, case


def test_from_the_candidate_page_to_the_printable_form(served: tuple[str, int]) -> None:
    base, case = served
    with launched_chromium(sync_api) as browser:
        try:
            context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
            context.set_default_timeout(15_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            sign_in(page, base, "lisi")
            page.goto(f"{base}/people/{CANDIDATE}")
            record = page.locator(".restricted-record").first
            assert "应到 8，实到 7，赞成 6" in record.inner_text()
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
            screenshot(page, "documents_candidate_page_phone")

            page.locator(".restricted-record a.btn", has_text="推荐表").click()
            page.wait_for_url(f"**/documents/recommendations/{case}/form")
            sheet = page.locator(".doc-sheet")
            assert "110105********1234" in sheet.inner_text() and "138****5678" in sheet.inner_text()
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
            screenshot(page, "documents_recommendation_form_phone")

            page.set_viewport_size({"width": 1000, "height": 1300})
            page.emulate_media(media="print")
            assert page.locator("header.top").is_hidden() and page.locator(".doc-actions").is_hidden()
            sheet_width = sheet.bounding_box()["width"]
            assert sheet_width <= 1000 and page.locator(".doc-table").bounding_box()["width"] <= sheet_width + 1
            screenshot(page, "documents_recommendation_form_print")
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF")
            assert errors == []
        finally:
            browser.close()
