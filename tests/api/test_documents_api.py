"""The documents API: the list of a recommendation's documents, the files (types, names, masking), the
same 404 as the pages for those who may not see a case, bad ids and parameters as 4xx in the error shape."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from tests.web.documents_support import (
    CANDIDATE,
    ID_NUMBER,
    PHONE,
    build_cast,
    real_process_config,
    recommendation,
    restricted_views,
)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return real_process_config(app_config)


@pytest.fixture
def cast(college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
         deploy: Callable[..., Any]) -> None:
    build_cast(make_person, make_user, deploy)


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert set(body["error"]) >= {"code", "message"}
    return body["error"]["code"]


def test_the_list_names_each_document_with_its_address(client: Any, cast: None, login: Any) -> None:
    case = recommendation("accepted")
    body = client.get(f"/api/v1/documents/recommendations/{case}", headers=login("dzb1")).get_json()
    assert body["instance_id"] == case and body["subject"] == CANDIDATE and body["outcome"] == "accepted"
    assert [(d["kind"], d["format"], d["url"]) for d in body["documents"]] == [
        ("recommendation_form", "html", f"/documents/recommendations/{case}/form"),
        ("recommendation_form", "pdf", f"/api/v1/documents/recommendations/{case}/form.pdf"),
        ("meeting_record", "html", f"/documents/recommendations/{case}/meeting-record"),
        ("meeting_record", "pdf", f"/api/v1/documents/recommendations/{case}/meeting-record.pdf")]
    assert restricted_views() == []  # the list holds nothing restricted


def test_the_pdf_is_a_masked_attachment(client: Any, cast: None, login: Any) -> None:
    from pypdf import PdfReader

    case = recommendation("accepted")
    response = client.get(f"/api/v1/documents/recommendations/{case}/form.pdf", headers=login("zhangsan"))
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"{case}.pdf" in disposition
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1  # the form fits one A4 page
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = reader.pages[0].extract_text()
    assert "110105********1234" in text and "138****5678" in text
    assert ID_NUMBER not in text and PHONE not in text and ID_NUMBER.encode() not in response.data
    assert [e.details for e in restricted_views()] == [
        {"instance": case, "person": CANDIDATE, "page": "recommendation_form_pdf"}]


def test_who_may_not_see_the_case_gets_404_in_the_error_shape(client: Any, cast: None, login: Any) -> None:
    case = recommendation("accepted")
    for user in ("wangwu", "sec3", "counsellor3", "dzbmember"):
        headers = login(user)
        for path in ("", "/form.pdf", "/meeting-record.pdf"):
            assert _error(client.get(f"/api/v1/documents/recommendations/{case}{path}", headers=headers),
                          404) == "not_found", (user, path)
    assert restricted_views() == []


def test_bad_ids_and_parameters_are_4xx(client: Any, cast: None, login: Any) -> None:
    headers = login("tzz")
    for path in ("/api/v1/documents/recommendations/0", "/api/v1/documents/recommendations/2147483647/form.pdf",
                 "/api/v1/documents/recommendations/99999999999/form.pdf",
                 "/api/v1/documents/campaigns/42/assessment-summary.xlsx",
                 "/api/v1/documents/rectification-ledger.xlsx?unit=NOPE"):
        assert _error(client.get(path, headers=headers), 404) == "not_found", path
    assert client.get("/api/v1/documents/recommendations/abc", headers=headers).status_code == 404
    assert _error(client.get("/api/v1/documents/rectification-ledger.xlsx?unit=" + "x" * 65, headers=headers),
                  422) == "validation_failed"
    assert _error(client.get("/api/v1/documents/rectification-ledger.xlsx"), 401) == "unauthorized"


def test_a_case_of_another_process_is_not_a_recommendation(client: Any, cast: None, login: Any,
                                                          deploy: Callable[..., Any]) -> None:
    from tests.web.documents_support import ROOT

    deploy(ROOT / "bpmn" / "rectification.bpmn")
    started = client.post("/api/v1/instances", headers=login("tzz"), json={
        "process": "rectification", "subject": "TZB-JX2301", "data": {"problems": ["x"], "deadline": "2027-01-31"}})
    assert started.status_code == 201
    case = started.get_json()["id"]
    assert _error(client.get(f"/api/v1/documents/recommendations/{case}/form.pdf", headers=login("tzz")),
                  404) == "not_found"
    ledger = client.get("/api/v1/documents/rectification-ledger.xlsx", headers=login("tzz"))
    assert ledger.status_code == 200
    assert ledger.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
