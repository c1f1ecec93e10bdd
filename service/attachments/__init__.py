"""Evidence files attached to a case (or to one of its steps): stored on disk under ATTACHMENTS_DIR,
described by a row, downloadable only by those who may see the case."""
