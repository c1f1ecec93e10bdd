"""The English catalogue covers every Chinese text the pages use."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

SERVICE = Path(__file__).resolve().parents[2] / "service"


def test_every_page_text_has_an_english_translation() -> None:
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    used = {message for _file, _line, message, *_ in extract_from_dir(str(SERVICE), method_map, keywords=keywords)
            if isinstance(message, str)}
    with (SERVICE / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {m.id for m in catalog if m.id and m.string}
    assert len(used) > 100 and sorted(used - translated) == []
