"""The files behind attachment rows: checked (size, extension and leading bytes), written under
ATTACHMENTS_DIR by a name we choose, and removed again if the transaction that recorded them rolls back.

Order of events in an upload: the bytes are read (at most the limit plus one) and checked in memory;
only then are they written to a temporary file in the same directory and renamed into place; the row
is added to the session. If that transaction rolls back, the file is deleted (see the session hooks
below): there is never a row without its file. A crash between the rename and the commit can leave
a file without a row — harmless, and the accepted trade-off."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from service.errors import ApiError

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain",
}
_ZIP_MEMBERS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
_CHUNK = 64 * 1024
_PENDING = "attachment_files_written"  # Session.info key: files this transaction put in place


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    extension: str
    content_type: str
    sha256: str


def allowed_extensions() -> tuple[str, ...]:
    configured = current_app.config.get("ATTACHMENT_TYPES") or ()
    return tuple(ext for ext in configured if ext in CONTENT_TYPES)


def display_name(raw: str | None) -> str:
    """The user's file name without any directory part, control characters or leading dots:
    something to show and to offer on download, never a path we open."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def _looks_like(extension: str, data: bytes) -> bool:
    """The leading bytes match the extension: a renamed executable is refused."""
    if extension == "pdf":
        return data.startswith(b"%PDF-")
    if extension in ("jpg", "jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if extension == "png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in _ZIP_MEMBERS:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return False
        return "[Content_Types].xml" in names and _ZIP_MEMBERS[extension] in names
    if extension == "txt":
        return _text_encoding(data) is not None
    return False


def _text_encoding(data: bytes) -> str | None:
    """UTF-8, or GB18030 (what Chinese Windows editors save); None for anything binary."""
    if b"\x00" in data:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def check_upload(stream: IO[bytes], filename: str) -> CheckedFile:
    """Read and check an upload in memory; nothing touches the disk here."""
    limit = int(current_app.config["ATTACHMENT_MAX_BYTES"])
    buffer = bytearray()
    while len(buffer) <= limit:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        buffer.extend(chunk)
    if len(buffer) > limit:
        raise ApiError(413, "attachment_too_large", details=[{"field": "file", "message": f"max {limit} bytes"}])
    allowed = allowed_extensions()
    extension = _extension(filename)
    if extension not in allowed or not _looks_like(extension, bytes(buffer)):
        raise ApiError(415, "attachment_type_refused",
                       details=[{"field": "file", "message": "allowed: " + ", ".join(allowed)}])
    data = bytes(buffer)
    content_type = CONTENT_TYPES[extension]
    if extension == "txt":  # served with the charset it was written in
        content_type += f"; charset={_text_encoding(data)}"
    return CheckedFile(data, extension, content_type, hashlib.sha256(data).hexdigest())


def storage_root() -> Path:
    return Path(current_app.config["ATTACHMENTS_DIR"])


def path_of(storage_key: str) -> Path:
    root = storage_root().resolve()
    path = (root / storage_key).resolve()
    if root not in path.parents:  # keys are ours (hex), but never follow one out of the root
        raise ApiError(404, "not_found")
    return path


def store(session: Session, storage_key: str, data: bytes) -> None:
    """Write the bytes under `storage_key` (temp file, then an atomic rename) and delete them again
    if `session`'s transaction rolls back."""
    path = path_of(storage_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    session.info.setdefault(_PENDING, []).append(path)


@event.listens_for(Session, "after_commit")
def _keep_written_files(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_rollback")
def _remove_written_files(session: Session) -> None:
    for path in session.info.pop(_PENDING, []):
        path.unlink(missing_ok=True)
