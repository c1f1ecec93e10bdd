"""Attachments (evidence files): upload, list and download round trip; the size and type limits
refuse without leaving a row or a file; path-traversal names stay names; only those who can see the
case can list or download; every upload and download is audited; a rollback leaves no file behind."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from api_support import assert_error

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64 + b"This program cannot be run in DOS mode"


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def upload(world: Any, user: str, instance_id: int, content: bytes, filename: str, status: int = 201,
           headers: dict[str, str] | None = None, **form: str) -> Any:
    return world.post(user, f"/api/v1/instances/{instance_id}/attachments", status, headers=headers,
                      data={"file": (io.BytesIO(content), filename), **form}, content_type="multipart/form-data")


def stored_files(app: Any) -> list[Path]:
    root = Path(app.config["ATTACHMENTS_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def attachment_rows(raw_db: sa.Engine) -> list[Any]:
    with raw_db.connect() as conn:
        return conn.execute(sa.text("SELECT id, instance_id, task_id, filename, size, storage_key FROM attachment")).all()


def audit_actions(raw_db: sa.Engine) -> list[tuple[str, int | None]]:
    with raw_db.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT action, instance_id FROM audit_event WHERE action LIKE 'attachment_%' ORDER BY id"))]


def test_upload_list_and_download_round_trip(world: Any, app: Any, raw_db: sa.Engine) -> None:
    case = world.submitted()
    task = world.ready(case["id"], "review")
    body = upload(world, "sec1", case["id"], PDF, "整改报告.pdf", task_id=task["id"])
    assert body["filename"] == "整改报告.pdf" and body["size"] == len(PDF) and body["task_id"] == task["id"]
    assert body["content_type"] == "application/pdf" and len(body["sha256"]) == 64
    case_level = upload(world, "zhangsan", case["id"], docx_bytes(), "说明.docx")  # the subject's own case
    assert case_level["task_id"] is None

    listed = world.get("committee1", f"/api/v1/instances/{case['id']}/attachments")["items"]
    assert [a["id"] for a in listed] == [body["id"], case_level["id"]]

    response = world.get("committee1", f"/api/v1/attachments/{body['id']}")
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''%E6%95%B4%E6%94%B9" in disposition

    files = stored_files(app)
    assert len(files) == 2 and all("整改" not in str(p) and p.suffix == "" for p in files)
    assert {r.storage_key for r in attachment_rows(raw_db)} == {
        str(p.relative_to(app.config["ATTACHMENTS_DIR"])) for p in files}
    assert audit_actions(raw_db) == [("attachment_uploaded", case["id"]), ("attachment_uploaded", case["id"]),
                                     ("attachment_downloaded", case["id"])]


def test_too_large_is_413_and_nothing_is_stored(world: Any, app: Any, raw_db: sa.Engine) -> None:
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    case = world.submitted()
    body = upload(world, "admin", case["id"], PDF + b"0" * 2000, "big.pdf", 413,
                  headers={"Accept-Language": "en"})
    assert "larger than allowed" in assert_error(body, "attachment_too_large")["message"]
    assert attachment_rows(raw_db) == [] and stored_files(app) == [] and audit_actions(raw_db) == []
    upload(world, "admin", case["id"], PDF, "small.pdf")  # under the limit: taken


@pytest.mark.parametrize(("content", "filename"), [
    (EXE, "evidence.pdf"),  # an executable renamed .pdf
    (EXE, "setup.exe"),
    (PDF, "report.exe"),
    (PNG, "photo.jpg"),  # right family, wrong signature
    (b"PK\x03\x04 not really a zip", "table.xlsx"),
    (docx_bytes(), "table.xlsx"),  # a real zip, but a Word document
    (b"plain \x00 binary", "notes.txt"),
    (PDF, "noextension"),
    (PDF, ".pdf"),
], ids=["exe-as-pdf", "exe", "pdf-as-exe", "png-as-jpg", "fake-zip-xlsx", "docx-as-xlsx", "binary-txt",
        "no-extension", "dot-pdf"])  # explicit ids: the zip's bytes carry a timestamp, xdist needs stable names
def test_refused_types_leave_nothing(world: Any, app: Any, raw_db: sa.Engine, content: bytes, filename: str) -> None:
    case = world.submitted()
    body = upload(world, "admin", case["id"], content, filename, 415)
    error = assert_error(body, "attachment_type_refused")
    assert "PDF" in error["message"] and error["details"][0]["field"] == "file"
    assert attachment_rows(raw_db) == [] and stored_files(app) == []


def test_other_branch_gets_404_on_list_upload_and_download(world: Any, app: Any) -> None:
    case = world.submitted()
    body = upload(world, "sec1", case["id"], PDF, "a.pdf")
    for user in ("sec2", "wangwu"):
        assert_error(world.get(user, f"/api/v1/instances/{case['id']}/attachments", 404), "not_found")
        assert_error(world.get(user, f"/api/v1/attachments/{body['id']}", 404), "not_found")
        assert_error(upload(world, user, case["id"], PDF, "b.pdf", 404), "not_found")
    assert_error(world.get("sec1", "/api/v1/attachments/no-such-id", 404), "not_found")
    assert_error(world.get("sec1", "/api/v1/instances/999/attachments", 404), "not_found")
    world.get(None, f"/api/v1/attachments/{body['id']}", 401)
    assert len(stored_files(app)) == 1


def test_a_task_attachment_needs_someone_who_may_act(world: Any, raw_db: sa.Engine) -> None:
    case = world.submitted()
    task = world.ready(case["id"], "review")
    # committee1 sees the branch's cases but is in no lane of the review
    assert_error(upload(world, "committee1", case["id"], PDF, "a.pdf", 403, task_id=task["id"]), "forbidden")
    other = world.submitted()
    assert_error(upload(world, "sec1", other["id"], PDF, "a.pdf", 422, task_id=task["id"]), "validation_failed")
    assert_error(upload(world, "sec1", case["id"], PDF, "a.pdf", 422, task_id="x" * 40), "validation_failed")
    world.complete("sec1", task["id"], {"approve": True}, status=None)
    assert attachment_rows(raw_db) == []


def test_missing_file_field_is_422(world: Any) -> None:
    case = world.submitted()
    body = world.post("admin", f"/api/v1/instances/{case['id']}/attachments", 422, data={"task_id": ""},
                      content_type="multipart/form-data")
    assert assert_error(body, "validation_failed")["details"][0]["field"] == "file"


def test_a_path_traversal_name_is_only_a_name(world: Any, app: Any, raw_db: sa.Engine, tmp_path: Path) -> None:
    case = world.submitted()
    body = upload(world, "admin", case["id"], PDF, "../../etc/passwd.pdf")
    assert body["filename"] == "passwd.pdf"
    upload(world, "admin", case["id"], b"root:x:0:0", "..\\..\\windows\\win.ini", 415)
    body2 = upload(world, "admin", case["id"], b"hello", "/etc/\u202epasswd\x00.txt")
    assert "/" not in body2["filename"] and "\x00" not in body2["filename"] and "\u202e" not in body2["filename"]
    root = Path(app.config["ATTACHMENTS_DIR"]).resolve()
    assert all(root in p.resolve().parents for p in stored_files(app)) and len(stored_files(app)) == 2
    assert not (tmp_path / "etc").exists()
    response = world.get("admin", f"/api/v1/attachments/{body['id']}")
    assert response.data == PDF and 'filename=passwd.pdf' in response.headers["Content-Disposition"]


def test_text_keeps_its_encoding(world: Any) -> None:
    case = world.submitted()
    text = "整改说明：已完成".encode("gb18030")
    body = upload(world, "admin", case["id"], text, "说明.txt")
    assert body["content_type"] == "text/plain; charset=gb18030"
    response = world.get("admin", f"/api/v1/attachments/{body['id']}")
    assert response.data == text and response.headers["Content-Type"] == "text/plain; charset=gb18030"


def test_rolled_back_upload_leaves_no_file(world: Any, app: Any, raw_db: sa.Engine, monkeypatch: Any) -> None:
    """A failure after the file is in place (here: at commit) removes it again: never a row without a
    file, and no file without a row either."""
    from service.extensions import db

    case = world.submitted()
    original = db.session.commit

    def failing_commit() -> None:
        db.session.flush()
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", failing_commit, raising=False)
    response = world.client.post(f"/api/v1/instances/{case['id']}/attachments", headers=world.auth["admin"],
                                 data={"file": (io.BytesIO(PDF), "a.pdf")}, content_type="multipart/form-data")
    monkeypatch.setattr(db.session, "commit", original, raising=False)
    assert response.status_code == 500
    assert attachment_rows(raw_db) == [] and stored_files(app) == [] and audit_actions(raw_db) == []


def test_a_finished_case_takes_no_more_files(world: Any) -> None:
    case = world.submitted()
    world.post("admin", f"/api/v1/instances/{case['id']}/terminate", 200, json={})
    assert_error(upload(world, "admin", case["id"], PDF, "a.pdf", 409), "instance_not_running")
    assert world.get("admin", f"/api/v1/instances/{case['id']}/attachments")["items"] == []
