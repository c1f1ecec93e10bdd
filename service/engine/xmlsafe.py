"""Parsing uploaded XML without DTDs, entities or network access."""

from __future__ import annotations

from lxml import etree


class UnsafeXml(Exception):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=False,
    )


def parse_xml(data: bytes | str) -> etree._ElementTree:
    """Parse a BPMN/DMN document; a DOCTYPE (the door to XXE and entity bombs) is refused outright."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        tree = etree.ElementTree(etree.fromstring(raw, _parser()))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if hasattr(exc, "lineno") else None
        raise UnsafeXml(f"malformed XML: {exc.msg}", line) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXml("documents with a DOCTYPE are not accepted (entities and DTDs are disabled)", 1)
    return tree
