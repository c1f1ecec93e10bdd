"""The HTTP response that hands out a stored file, shared by the API and the pages."""

from __future__ import annotations

from flask import send_file
from werkzeug.wrappers import Response

from . import storage
from .models import Attachment


def file_response(row: Attachment) -> Response:
    """Always a download (never rendered inline), its type fixed: a file cannot run as a page here."""
    response = send_file(storage.path_of(row.storage_key), mimetype=row.content_type, as_attachment=True,
                         download_name=row.filename, conditional=False, etag=False, max_age=0)
    response.headers["Content-Type"] = row.content_type  # as checked on upload (send_file would add utf-8)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
