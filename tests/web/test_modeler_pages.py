"""The modeler pages (Flask client): admins only, the right version's BPMN, decisions and forms embedded
in the editor page, the version list with who/when/comment/running cases, and the diff page's shell."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from tracking_support import ROOT, build_scene, real_process_config, recommendation_at_committee_review
from web_support import sign_in

RECOMMENDATION = ROOT / "bpmn" / "recommendation.bpmn"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return real_process_config(app_config)


@pytest.fixture
def scene(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
          deploy: Callable[..., Any]) -> None:
    """recommendation v1 with a running case, v2 (a renamed task) deployed by the admin with a comment."""
    build_scene(make_person, make_user, deploy)
    make_user("admin1", [("admin", None)])
    recommendation_at_committee_review()
    from service.extensions import db
    from service.org.models import User

    admin = db.session.query(User).filter_by(username="admin1").one()
    changed = RECOMMENDATION.read_text(encoding="utf-8").replace('name="团支部委员会审查"', 'name="支委会资格审查"')
    assert changed != RECOMMENDATION.read_text(encoding="utf-8")
    deploy(changed, actor_id=admin.id, comment="改名：支委会资格审查")


def embedded_editor(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="modeler-data">(.*?)</script>', page, re.S)
    assert found, "no embedded editor data"
    return json.loads(found.group(1))


def test_non_admins_get_403_and_visitors_the_login(client: Any, scene: None) -> None:
    for path in ("/admin/models", "/admin/models/recommendation/edit", "/admin/models/recommendation/versions",
                 "/admin/models/recommendation/diff?a=1&b=2"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    sign_in(client, "lisi")
    for path in ("/admin/models", "/admin/models/recommendation/edit?version=1", "/admin/models/recommendation/versions",
                 "/admin/models/recommendation/diff?a=1&b=2"):
        assert client.get(path).status_code == 403, path
    assert "/admin/models" not in client.get("/inbox").get_data(as_text=True)  # no nav entry either


def test_the_admin_sees_the_list_with_a_nav_entry(client: Any, scene: None) -> None:
    sign_in(client, "admin1")
    page = client.get("/admin/models").get_data(as_text=True)
    assert 'href="/admin/models"' in page
    assert "推优入党" in page and "/admin/models/recommendation/edit" in page
    row = page[page.index("<code>recommendation</code>"):]
    assert re.search(r'data-label="当前版本">2<', row) and re.search(r'data-label="进行中案件">1<', row)


@pytest.mark.parametrize(("version", "task_name"), [(1, "团支部委员会审查"), (2, "支委会资格审查"), (None, "支委会资格审查")],
                         ids=["v1", "v2", "latest"])
def test_the_editor_embeds_the_chosen_version(client: Any, scene: None, version: int | None, task_name: str) -> None:
    sign_in(client, "admin1")
    query = f"?version={version}" if version else ""
    response = client.get(f"/admin/models/recommendation/edit{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    data = embedded_editor(page)
    assert data["key"] == "recommendation" and data["latest"] == 2
    assert data["version"]["number"] == (version or 2)
    assert f'name="{task_name}"' in data["version"]["bpmn"]
    assert set(data["version"]["dmn"]) == {"recommendation_eligibility.dmn"}
    assert "committee_review.schema.json" in data["version"]["forms"]
    assert data["version"]["forms"]["apply.schema.json"]["type"] == "object"
    assert {"key": "league_branch_committee", "zh": "团支部委员", "en": "League branch committee member"} in data["roles"]
    token = re.search(r'<meta name="api-csrf-token" content="([^"]+)">', page)
    assert token and len(token.group(1)) >= 20
    assert "dist/modeler-editor.js" in page and "导出 BPMN" in page


def test_the_page_token_lets_the_session_call_the_api(client: Any, scene: None) -> None:
    """The editor posts with the session cookie and the embedded token (service.api checks X-CSRFToken)."""
    sign_in(client, "admin1")
    page = client.get("/admin/models/recommendation/edit").get_data(as_text=True)
    token = re.search(r'<meta name="api-csrf-token" content="([^"]+)">', page).group(1)
    xml = RECOMMENDATION.read_text(encoding="utf-8").replace('name="团支部委员会审查"', 'name="团支委审查"')
    refused = client.post("/api/v1/process-models/recommendation/versions?comment=x", data=xml.encode(),
                          headers={"Content-Type": "application/xml"})
    assert refused.status_code == 403
    accepted = client.post("/api/v1/process-models/recommendation/versions?comment=x", data=xml.encode(),
                           headers={"Content-Type": "application/xml", "X-CSRFToken": token})
    assert accepted.status_code == 201 and accepted.get_json()["version"] == 3


def test_unknown_models_and_versions_are_404(client: Any, scene: None) -> None:
    sign_in(client, "admin1")
    assert client.get("/admin/models/nope/edit").status_code == 404
    assert client.get("/admin/models/recommendation/edit?version=9").status_code == 404
    assert client.get("/admin/models/recommendation/diff?a=1&b=9").status_code == 404


def test_the_version_list_says_who_when_why_and_how_many_cases_run(client: Any, scene: None) -> None:
    sign_in(client, "admin1")
    page = client.get("/admin/models/recommendation/versions").get_data(as_text=True)
    rows = {int(n): row for n, row in re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', page, re.S)}
    assert set(rows) == {1, 2}
    assert "admin1" in rows[2] and "改名：支委会资格审查" in html.unescape(rows[2])
    assert re.search(r'class="running">0<', rows[2]) and re.search(r'class="running">1<', rows[1])
    assert 'data-rollback="1"' in rows[1] and "data-rollback" not in rows[2]  # the current one needs no roll back
    assert "/admin/models/recommendation/diff?a=1&amp;b=2" in rows[2]


def test_the_diff_page_names_both_versions(client: Any, scene: None) -> None:
    sign_in(client, "admin1")
    page = client.get("/admin/models/recommendation/diff?a=1&b=2").get_data(as_text=True)
    assert 'data-a="1"' in page and 'data-b="2"' in page and "dist/modeler-diff.js" in page
    assert 'data-a="1"' in client.get("/admin/models/recommendation/diff").get_data(as_text=True)  # default: latest vs previous


def test_the_pages_speak_english_too(client: Any, scene: None) -> None:
    sign_in(client, "admin1")
    assert "Process models" in client.get("/admin/models?lang=en").get_data(as_text=True)
    assert "Export BPMN" in client.get("/admin/models/recommendation/edit?lang=en").get_data(as_text=True)
