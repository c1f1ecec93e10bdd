"""The domain pack as a whole: every BPMN in bpmn/ lints clean, every form is valid and used, and every
process has its module."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jsonschema import Draft202012Validator

from service.engine import compile_process
from service.pack import ROLES, discover

ROOT = Path(__file__).resolve().parents[2]


def _dmn() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (ROOT / "bpmn").glob("*.dmn")}


def test_every_bpmn_lints_clean_without_warnings():
    library = [p.read_bytes() for p in (ROOT / "bpmn").glob("*.bpmn")]
    for path in sorted((ROOT / "bpmn").glob("*.bpmn")):
        others = [x for x, p in zip(library, sorted((ROOT / "bpmn").glob("*.bpmn")), strict=True) if p != path]
        compiled = compile_process(path.read_bytes(), filename=path.name, dmn=_dmn(), library=others,
                                   known_roles=ROLES)
        assert compiled.process_id == path.stem
        assert compiled.warnings == [], (path.name, [w.as_dict() for w in compiled.warnings])


def test_every_process_has_a_module_and_forms():
    pack = discover("processes")
    keys = {p.stem for p in (ROOT / "bpmn").glob("*.bpmn")}
    assert keys <= set(pack), keys - set(pack)
    for key in keys:
        referenced = set(re.findall(r'name="form(?:Json|Ui)SchemaFilename" value="([^"]+)"',
                                    (ROOT / "bpmn" / f"{key}.bpmn").read_text(encoding="utf-8")))
        on_disk = {p.name for p in (ROOT / "forms" / key).glob("*.json")}
        assert referenced <= on_disk, referenced - on_disk
        assert on_disk <= referenced, f"unused form files: {on_disk - referenced}"
        for name in on_disk:
            document = json.loads((ROOT / "forms" / key / name).read_text(encoding="utf-8"))
            if name.endswith(".schema.json"):
                Draft202012Validator.check_schema(document)
                assert document.get("title"), name  # a Chinese title for the form
