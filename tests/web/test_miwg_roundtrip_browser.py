"""Round trips through the modeler page in a real browser: every BPMN MIWG reference file
(../shared/data/bpmn-miwg, 23 files) and every process of bpmn/ is imported into the page's bpmn-js Modeler
and exported again with saveXML. No BPMN element and no diagram shape or edge may be lost (compared as
sets of (id, tag) with lxml), and the Spiff extensions the engine reads come back unchanged. One browser
session for all files; nothing is deployed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import DESKTOP, ROOT, launched_chromium, serving, sign_in, skip_reason
from lxml import etree
from tracking_support import build_scene, real_process_config

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="browser tests skipped: the playwright package is not installed")
EDITOR = ROOT / "service" / "static" / "dist" / "modeler-editor.js"
MIWG = ROOT.parent / "shared" / "data" / "bpmn-miwg"
if skip_reason():
    pytest.skip(skip_reason(), allow_module_level=True)
if not EDITOR.exists():
    pytest.skip(f"browser tests skipped: no modeler bundle at {EDITOR.relative_to(ROOT)} (make setup builds it)",
                allow_module_level=True)

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
ROUND_TRIP = """async (xml) => {
  const page = window.dangjianModeler;
  try {
    const imported = await page.importXML(xml);
    const { xml: out } = await page.modeler.saveXML({ format: true });
    return { xml: out, warnings: imported.warnings.map((w) => w.message) };
  } catch (error) {
    return { error: String(error && error.message || error) };
  }
}"""


def parse(xml: str | bytes) -> Any:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True))


def identified(root: Any) -> set[tuple[str, str]]:
    """(id, tag) of every BPMN model element and every DI shape/edge/plane/diagram that has an id."""
    return {(node.get("id"), node.tag) for node in root.iter()
            if isinstance(node.tag, str) and node.get("id") and etree.QName(node).namespace in (MODEL, DI)}


def element_tags(root: Any) -> list[str]:
    """The tags of the model part in document order, ids or not (e.g. multiInstanceLoopCharacteristics)."""
    return sorted(node.tag for node in root.iter() if isinstance(node.tag, str)
                  and etree.QName(node).namespace in (MODEL, SPIFF))


def spiff_parts(root: Any) -> dict[str, list[tuple[str, tuple[tuple[str, str], ...], str]]]:
    """Per element id: its Spiff extension elements and attributes, canonical (tag, attributes, text)."""
    found: dict[str, list[tuple[str, tuple[tuple[str, str], ...], str]]] = {}
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        owner = node
        while owner is not None and not owner.get("id"):
            owner = owner.getparent()
        key = owner.get("id") if owner is not None else "?"
        if etree.QName(node).namespace == SPIFF:
            found.setdefault(key, []).append((etree.QName(node).localname, tuple(sorted(node.attrib.items())),
                                              (node.text or "").strip()))
        for name, value in node.attrib.items():
            if etree.QName(name).namespace == SPIFF:
                found.setdefault(key, []).append((etree.QName(name).localname, (), value))
    return found


def engine_texts(root: Any) -> dict[tuple[str, str], str]:
    """What the engine evaluates: scripts, conditions and timer expressions, by (owner id, tag)."""
    tags = {f"{{{MODEL}}}{name}" for name in ("script", "conditionExpression", "timeDate", "timeDuration", "timeCycle",
                                               "loopDataInputRef", "loopDataOutputRef", "completionCondition",
                                               "loopCardinality")}
    texts = {}
    for node in root.iter(*tags):
        owner = node.getparent()
        while owner is not None and not owner.get("id"):
            owner = owner.getparent()
        texts[(owner.get("id"), etree.QName(node).localname)] = (node.text or "").strip()
    return texts


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return real_process_config(app_config)


@pytest.fixture
def editor_page(app: Any, college: Any, make_person: Callable[..., Any], make_user: Callable[..., Any],
                deploy: Callable[..., Any]) -> Iterator[Any]:
    build_scene(make_person, make_user, deploy)
    make_user("admin1", [("admin", None)])
    with serving(app) as base, launched_chromium(sync_api) as browser:
        page = browser.new_page(viewport=DESKTOP)
        page.set_default_timeout(20_000)
        page.script_errors = []
        page.on("pageerror", lambda error: page.script_errors.append(str(error)))
        sign_in(page, base, "admin1")
        page.goto(f"{base}/admin/models/recommendation/edit")
        page.wait_for_selector('#bpmn-canvas [data-element-id="committee_review"]')
        page.wait_for_function("() => window.dangjianModeler !== undefined")
        yield page
        browser.close()


def round_trip(page: Any, path: Path) -> tuple[Any, Any, list[str]]:
    original = path.read_bytes()
    result = page.evaluate(ROUND_TRIP, original.decode("utf-8"))
    assert "error" not in result, f"{path.name}: {result.get('error')}"
    return parse(original), parse(result["xml"]), result["warnings"]


@pytest.mark.skipif(not MIWG.is_dir(), reason=f"no MIWG reference files at {MIWG}")
def test_every_miwg_reference_file_round_trips_without_losing_elements(editor_page: Any) -> None:
    files = sorted(MIWG.glob("*.bpmn"))
    assert len(files) >= 20
    lost: dict[str, list[tuple[str, str]]] = {}
    for path in files:
        before, after, _warnings = round_trip(editor_page, path)
        missing = identified(before) - identified(after)
        if missing:
            lost[path.name] = sorted(missing)
        assert len(identified(before)) > 3, path.name
    assert lost == {}
    assert editor_page.script_errors == []


def test_our_processes_keep_their_spiff_extensions(editor_page: Any) -> None:
    files = sorted((ROOT / "bpmn").glob("*.bpmn"))
    assert len(files) >= 3
    for path in files:
        before, after, warnings = round_trip(editor_page, path)
        assert warnings == [], (path.name, warnings)  # the descriptor knows every Spiff element we use
        assert identified(before) <= identified(after), path.name
        assert spiff_parts(after) == spiff_parts(before), path.name
        assert element_tags(after) == element_tags(before), path.name
        assert engine_texts(after) == engine_texts(before), path.name
    assert editor_page.script_errors == []
