"""Attachments on the task page: the upload form (multipart, with the CSRF token) stores the file and
lists it with a download link; refused files are explained on the page and leave nothing behind;
someone who cannot see the case gets a 404 for the file."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from web_support import MEMBER, csrf_from, sign_in

PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture
def review(start_case: Any, ready_task: Any, complete_as: Any) -> Any:
    """张三's approval case, submitted, waiting for 机械2301's League branch secretary (sec1)."""
    iid = start_case("approval", MEMBER)
    complete_as("zhangsan", ready_task(iid).id, {"reason": "积极向党组织靠拢"})
    return ready_task(iid)


def post_file(client: Any, task_id: str, content: bytes, filename: str, *, token: str | None = None) -> Any:
    if token is None:
        token = csrf_from(client.get(f"/inbox/tasks/{task_id}").get_data(as_text=True))
    return client.post(f"/inbox/tasks/{task_id}/attachments", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(content), filename)}, follow_redirects=True)


def rows(app: Any) -> list[Any]:
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT id, task_id, filename, uploaded_by FROM attachment")).all()
    finally:
        engine.dispose()


def files(app: Any) -> list[Path]:
    root = Path(app.config["ATTACHMENTS_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_from_the_task_page_then_download(client: Any, app: Any, review: Any) -> None:
    sign_in(client, "sec1")
    page = client.get(f"/inbox/tasks/{review.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "暂无附件" in page
    response = post_file(client, review.id, PDF, "支部会议记录.pdf")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "已上传附件：支部会议记录.pdf" in page
    [row] = rows(app)
    assert row.task_id == review.id  # sec1 is doing this step: the evidence is the step's
    link = re.search(r'href="(/attachments/[0-9a-f-]{36})"', page)
    assert link and link.group(1) == f"/attachments/{row.id}"
    download = client.get(link.group(1))
    assert download.data == PDF and download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment;")

    # the candidate can see their own case's files too; another branch's secretary cannot
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    sign_in(client, "sec2")
    assert client.get(f"/attachments/{row.id}").status_code == 404
    assert client.get(f"/api/v1/attachments/{row.id}").status_code == 404


def test_refused_file_is_explained_in_english_and_nothing_is_kept(client: Any, app: Any, review: Any) -> None:
    sign_in(client, "sec1")
    client.get("/inbox?lang=en")
    page = post_file(client, review.id, b"MZ\x90\x00 executable", "evidence.pdf").get_data(as_text=True)
    assert "This type of file is not accepted" in page
    app.config["ATTACHMENT_MAX_BYTES"] = 8
    page = post_file(client, review.id, PDF, "big.pdf").get_data(as_text=True)
    assert "larger than allowed" in page and "Attachments" in page
    assert rows(app) == [] and files(app) == []


def test_upload_needs_the_csrf_token(client: Any, app: Any, review: Any) -> None:
    sign_in(client, "sec1")
    response = post_file(client, review.id, PDF, "a.pdf", token="forged")
    assert response.status_code == 400 and rows(app) == [] and files(app) == []


def test_another_branch_cannot_upload(client: Any, app: Any, review: Any) -> None:
    sign_in(client, "sec2")
    token = csrf_from(client.get("/inbox").get_data(as_text=True))
    assert post_file(client, review.id, PDF, "a.pdf", token=token).status_code == 404
    assert rows(app) == [] and files(app) == []
