"""The modeler in a real browser (Debian's Chromium driven by Playwright) against the real API: an admin
opens 推优入党, renames a task and turns the publicity timer into a quoted duration in the properties panel,
breaks a condition and sees the lint marker on the diagram (saving is refused), fixes it and saves with a
comment. The new version is live for new cases while the case started before stays on version 1; the
diff page marks the two changes; the version list rolls back. Screenshots in artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from browser_support import (
    DESKTOP,
    PHONE,
    ROOT,
    require_browser,
    screenshot,
    serving,
    sign_in,
)
from tracking_support import (
    OTHER_MEMBER,
    build_scene,
    real_process_config,
    recommendation_at_committee_review,
)

pytestmark = pytest.mark.browser

require_browser("modeler-editor.js")  # skips the module without Playwright, Chromium or the bundle

NEW_NAME = "团支委资格审查"
BROKEN = 'outcome == "rejected" and'


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return real_process_config(app_config)



@pytest.fixture
def old_case(app: Any, college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
             deploy: Callable[..., Any]) -> int:
    build_scene(make_person, make_user, deploy)
    make_user("admin1", [("admin", None)])
    return recommendation_at_committee_review()


@pytest.fixture
def base_url(app: Any, old_case: int) -> Iterator[str]:
    with serving(app) as url:
        yield url


def new_page(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    return page


def select_element(page: Any, element_id: str, *, click: bool = True) -> None:
    """Click the shape on the canvas (after scrolling it into the view), as a person would; a bent sequence
    flow has no clickable centre, so it is selected through the modeler's selection service."""
    page.evaluate("id => { const m = window.dangjianModeler.modeler; "
                  "m.get('canvas').scrollToElement(m.get('elementRegistry').get(id)); }", element_id)
    if click:
        page.locator(f'#bpmn-canvas [data-element-id="{element_id}"]').first.click()
    else:
        page.evaluate("id => { const m = window.dangjianModeler.modeler; "
                      "m.get('selection').select(m.get('elementRegistry').get(id)); }", element_id)
    page.wait_for_function("id => (window.dangjianModeler.modeler.get('selection').get()[0] || {}).id === id",
                           arg=element_id)


def open_group(page: Any, group_id: str) -> None:
    header = page.locator(f'[data-group-id="group-{group_id}"] .bio-properties-panel-group-header')
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def model_state() -> tuple[int, dict[int, int]]:
    """(latest version, {instance id: version number})."""
    from service.extensions import db
    from service.instances.models import Instance
    from service.modeler.models import ProcessModel, ProcessVersion

    db.session.expire_all()
    latest = db.session.scalar(sa.select(ProcessModel.latest_version).where(ProcessModel.key == "recommendation"))
    rows = db.session.execute(sa.select(Instance.id, ProcessVersion.number)
                              .join(ProcessVersion, ProcessVersion.id == Instance.version_id))
    return latest, {instance_id: number for instance_id, number in rows}


def edit_the_model(page: Any) -> None:
    # rename a task in the properties panel
    select_element(page, "committee_review")
    page.locator("#bio-properties-panel-name").fill(NEW_NAME)
    page.wait_for_function(f"() => window.dangjianModeler.modeler.get('elementRegistry').get('committee_review')"
                           f".businessObject.name === '{NEW_NAME}'")
    # the publicity timer: a date expression becomes a 5-day duration, written quoted
    select_element(page, "publicity_timer")
    open_group(page, "spiff-timer")
    page.locator("#bio-properties-panel-spiff-timer-kind").select_option("timeDuration")
    page.locator("#bio-properties-panel-spiff-timer-literal").fill("P5D")
    page.wait_for_function("() => window.dangjianModeler.modeler.get('elementRegistry').get('publicity_timer')"
                           ".businessObject.eventDefinitions[0].timeDuration?.body === '\"P5D\"'")


def break_and_fix_a_condition(page: Any) -> None:
    select_element(page, "f_committee_reject", click=False)
    open_group(page, "spiff-condition")
    condition = page.locator("#bio-properties-panel-spiff-condition")
    original = condition.input_value()
    assert original == 'outcome == "rejected"'
    condition.fill(BROKEN)
    marker = '#bpmn-canvas [data-element-id="f_committee_reject"].lint-error'
    page.wait_for_selector(marker, state="attached")
    overlay = page.locator('.lint-overlay[data-lint-for="f_committee_reject"]')
    assert overlay.is_visible() and overlay.inner_text().strip()
    listed = page.locator('#lint-problems tr[data-element="f_committee_reject"]')
    assert listed.count() >= 1 and "f_committee_reject" in listed.first.inner_text()
    assert "错误" in page.locator("#lint-status").inner_text()
    screenshot(page, "modeler_lint_marker")
    # saving is refused while the condition is broken (no prompt is even shown)
    page.locator("#modeler-save").click()
    page.wait_for_function("() => document.getElementById('lint-status').textContent.includes('不能保存')")
    condition.fill(original)
    page.wait_for_selector(marker, state="detached")


def test_an_admin_edits_lints_saves_and_compares(browser: Any, base_url: str, old_case: int) -> None:
    page = new_page(browser, DESKTOP)
    sign_in(page, base_url, "admin1")
    page.locator(".nav").get_by_role("link", name="流程模型").click()
    page.get_by_role("link", name="编辑").first.click()
    page.wait_for_url(f"{base_url}/admin/models/*/edit")
    page.goto(f"{base_url}/admin/models/recommendation/edit")
    page.wait_for_selector('#bpmn-canvas [data-element-id="committee_review"]')
    page.wait_for_selector(".lint-status.is-clean, .lint-status.has-errors")
    assert "has-errors" not in page.locator("#lint-status").get_attribute("class")  # the deployed model is clean
    screenshot(page, "modeler")

    edit_the_model(page)
    break_and_fix_a_condition(page)
    page.once("dialog", lambda dialog: dialog.accept("改名并把公示期改为 5 天"))
    page.locator("#modeler-save").click()
    page.wait_for_url(f"{base_url}/admin/models/recommendation/edit?version=2&saved=1")
    page.wait_for_selector('#bpmn-canvas [data-element-id="committee_review"]')
    assert "版本 2" in page.locator("h1").inner_text()
    assert "已部署为版本 2" in page.locator("#save-status").inner_text()

    latest, versions = model_state()
    assert latest == 2 and versions[old_case] == 1
    from service.extensions import db
    from service.instances.operations import start_instance

    fresh = start_instance(None, "recommendation", OTHER_MEMBER, {})
    db.session.commit()
    assert model_state()[1] == {old_case: 1, fresh.id: 2}
    from service.modeler.models import ProcessVersion

    saved = db.session.scalar(sa.select(ProcessVersion.bpmn_xml).where(ProcessVersion.number == 2))
    assert f'name="{NEW_NAME}"' in saved and '>"P5D"</bpmn:timeDuration>' in saved
    assert "spiffworkflow:calledDecisionId" in saved and "spiffworkflow:messageVariable" in saved

    # the diff page marks both changes on the newer diagram and lists them
    page.goto(f"{base_url}/admin/models/recommendation/diff?a=1&b=2")
    page.wait_for_selector("#diff-app[data-state=ready]")
    for element in ("committee_review", "publicity_timer"):
        assert page.locator(f'#diff-newer [data-element-id="{element}"].diff-changed').count() == 1, element
        assert page.locator(f'#diff-list tr.diff-row-changed[data-element="{element}"]').count() >= 1, element
    rows = page.locator("#diff-list").inner_text()
    assert NEW_NAME in rows and "P5D" in rows
    screenshot(page, "modeler_diff")
    assert page.script_errors == []
    page.context.close()
    still_runs_on_version_1(old_case)


def still_runs_on_version_1(instance_id: int) -> None:
    """The case started before the save moves on under version 1's rules (its old task name)."""
    from service.auth.operations import actor_for
    from service.extensions import db
    from service.instances.models import HumanTask, Instance
    from service.instances.operations import complete_task
    from service.org.models import User

    db.session.expire_all()
    task = db.session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.status == "ready")).one()
    assert task.name == "committee_review" and task.title == "团支部委员会审查"
    committee = db.session.scalars(sa.select(User).where(User.username == "committee1")).one()
    complete_task(actor_for(committee), task.id, {"decision": "approve", "reason": ""})
    db.session.commit()
    db.session.expire_all()
    instance = db.session.get(Instance, instance_id)
    assert instance.status == "running" and instance.version.number == 1
    assert db.session.scalar(sa.select(HumanTask.name).where(HumanTask.instance_id == instance_id,
                                                             HumanTask.status == "ready")) != "committee_review"


def test_the_version_list_on_a_phone_rolls_back(browser: Any, base_url: str, old_case: int,
                                                deploy: Callable[..., Any]) -> None:
    changed = (ROOT / "bpmn" / "recommendation.bpmn").read_text(encoding="utf-8").replace(
        'name="团支部委员会审查"', f'name="{NEW_NAME}"')
    deploy(changed, comment="改名")
    page = new_page(browser, PHONE)
    sign_in(page, base_url, "admin1")
    page.goto(f"{base_url}/admin/models/recommendation/versions")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    first = page.locator('tr[data-version="1"]')
    assert first.locator("td.running").inner_text().strip() == "1"
    screenshot(page, "modeler_versions")
    page.once("dialog", lambda dialog: dialog.accept())
    first.get_by_role("button", name="回滚到此版本").click()
    page.wait_for_selector('tr[data-version="3"]')
    assert "回滚到版本 1" in page.locator('tr[data-version="3"]').inner_text()
    from service.extensions import db
    from service.modeler.models import ProcessVersion

    db.session.expire_all()
    v1, v3 = (db.session.scalar(sa.select(ProcessVersion.bpmn_xml).where(ProcessVersion.number == n)) for n in (1, 3))
    assert v1 == v3
    page.goto(f"{base_url}/admin/models")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.script_errors == []
    page.context.close()


def test_the_test_run_highlights_the_path(browser: Any, base_url: str) -> None:
    page = new_page(browser, DESKTOP)
    sign_in(page, base_url, "admin1")
    page.goto(f"{base_url}/admin/models/recommendation/edit")
    page.wait_for_selector('#bpmn-canvas [data-element-id="committee_review"]')
    page.get_by_role("tab", name="试运行").click()
    page.locator("#test-run").click()
    page.wait_for_selector("#test-result dl")
    assert page.locator('#bpmn-canvas [data-element-id="start"].dry-path').count() == 1
    page.get_by_role("tab", name="流程图").click()
    screenshot(page, "modeler_test_run")
    assert page.script_errors == []
    page.context.close()


def test_panels_decisions_forms_and_export(browser: Any, base_url: str) -> None:
    page = new_page(browser, DESKTOP)
    sign_in(page, base_url, "admin1")
    page.goto(f"{base_url}/admin/models/recommendation/edit")
    page.wait_for_selector('#bpmn-canvas [data-element-id="committee_review"]')
    # a lane names a role from the catalogue; a user task picks its form from the version's forms
    select_element(page, "Lane_committee", click=False)
    role = page.locator("#bio-properties-panel-spiff-lane-role")
    assert role.input_value() == "league_branch_committee"
    assert "团支部委员（league_branch_committee）" in role.inner_text() and "党支部书记" in role.inner_text()
    select_element(page, "committee_review")
    form = page.locator("#bio-properties-panel-spiff-form")
    assert form.input_value() == "committee_review.schema.json"
    form.select_option("committee_opinion.schema.json")
    assert page.evaluate("""() => {
      const bo = window.dangjianModeler.modeler.get('elementRegistry').get('committee_review').businessObject;
      const props = bo.extensionElements.values.find((v) => v.$type === 'spiffworkflow:properties').properties;
      return Object.fromEntries(props.map((p) => [p.name, p.value]));
    }""") == {"formJsonSchemaFilename": "committee_opinion.schema.json",
              "formUiSchemaFilename": "committee_opinion.uischema.json"}

    with page.expect_download() as download:
        page.get_by_role("button", name="导出 BPMN").click()
    exported = download.value.path().read_text(encoding="utf-8")
    assert download.value.suggested_filename == "recommendation-v1.bpmn"
    assert 'id="committee_review"' in exported and "spiffworkflow:postScript" in exported

    page.get_by_role("tab", name="决策表").click()
    page.wait_for_selector("#dmn-canvas .tjs-table")  # dmn-js's decision table
    assert page.locator("#dmn-canvas tbody tr").count() >= 1

    page.get_by_role("tab", name="表单").click()
    page.locator("#form-file").select_option("committee_review.schema.json")
    preview = page.frame_locator("#form-preview")
    preview.get_by_text("审查意见 (decision)").wait_for()  # drawn by the inbox's own form bundle
    schema = page.locator("#form-schema")
    schema.fill(schema.input_value().replace("审查意见 (decision)", "委员会意见 (decision)"))
    preview.get_by_text("委员会意见 (decision)").wait_for()
    assert page.evaluate("window.dangjianModeler.state.forms['committee_review.schema.json']"
                         ".properties.decision.title") == "委员会意见 (decision)"
    screenshot(page, "modeler_form_editor")
    assert page.script_errors == []
    page.context.close()
