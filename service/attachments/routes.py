"""The attachments API: upload (multipart), list a case's files, download one."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields

from service.api import require_actor
from service.api.blueprint import Blueprint
from service.api.schemas import ErrorSchema
from service.errors import ApiError
from service.transaction import transactional

from . import operations, storage
from .downloads import file_response

blp = Blueprint("attachments", __name__, description="Evidence files of a case")


class AttachmentSchema(Schema):
    id = fields.String(required=True)
    instance_id = fields.Integer(required=True)
    task_id = fields.String(allow_none=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    uploaded_by = fields.Integer(allow_none=True)
    uploaded_at = fields.DateTime(required=True)


class AttachmentList(Schema):
    items = fields.List(fields.Nested(AttachmentSchema), required=True)


UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "pdf, jpg/jpeg, png, docx, xlsx or txt (ATTACHMENT_TYPES), at most "
                                    "ATTACHMENT_MAX_BYTES; checked by extension and content"},
            "task_id": {"type": "string", "maxLength": 36,
                        "description": "a ready step of the case the caller may act on; without it the file "
                                       "is evidence of the case as a whole"},
        },
    }}},
}
DOWNLOAD_RESPONSE = {
    "description": "the file, as an attachment (Content-Disposition with an RFC 5987 file name)",
    "content": {mime: {"schema": {"type": "string", "format": "binary"}}
                for mime in sorted(set(storage.CONTENT_TYPES.values()))},
}


@blp.route("/instances/<int:instance_id>/attachments")
class CaseAttachments(MethodView):
    @blp.response(200, AttachmentList)
    @blp.alt_response(404, schema=ErrorSchema)
    def get(self, instance_id):  # type: ignore[no-untyped-def]
        """The case's attachments, oldest first."""
        return {"items": operations.attachments_of(require_actor(), instance_id)}

    @blp.doc(requestBody=UPLOAD_BODY)
    @blp.response(201, AttachmentSchema)
    @blp.alt_response(403, schema=ErrorSchema)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema)
    @blp.alt_response(413, schema=ErrorSchema)
    @blp.alt_response(415, schema=ErrorSchema)
    @blp.alt_response(422, schema=ErrorSchema)
    @transactional
    def post(self, instance_id):  # type: ignore[no-untyped-def]
        """Upload a file (multipart field `file`, optional `task_id`)."""
        actor = require_actor()
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(422, "validation_failed", details=[{"field": "file", "message": "a file is required"}])
        task_id = (request.form.get("task_id") or "").strip() or None
        if task_id is not None and (len(task_id) > 36 or "\x00" in task_id):
            raise ApiError(422, "validation_failed", details=[{"field": "task_id", "message": "no such step"}])
        return operations.upload_attachment(actor, instance_id, upload.stream, upload.filename, task_id)


@blp.route("/attachments/<string:attachment_id>")
class AttachmentDownload(MethodView):
    @blp.doc(responses={"200": DOWNLOAD_RESPONSE})
    @blp.alt_response(404, schema=ErrorSchema)
    @transactional
    def get(self, attachment_id):  # type: ignore[no-untyped-def]
        """Download a file: only for those who can see its case (404 for everyone else)."""
        return file_response(operations.attachment_for_download(require_actor(), attachment_id[:64]))
