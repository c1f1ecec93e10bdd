"""service.modeler.diff on the real 推优入党 BPMN: a rename and a timer change are exactly two changes,
additions and removals are found, and moving shapes in the diagram is not a change."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from service.modeler.diff import diff_bpmn

ROOT = Path(__file__).resolve().parents[2]
XML = (ROOT / "bpmn" / "recommendation.bpmn").read_text(encoding="utf-8")
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def test_nothing_changed() -> None:
    assert diff_bpmn(XML, XML) == {"added": [], "removed": [], "changed": [], "moved": []}


def test_a_rename_and_a_timer_change_are_exactly_two_changes() -> None:
    edited = XML.replace('name="团支部委员会审查"', 'name="团支部委员会资格审查"').replace(
        """f"P{policies['expiry_years']}Y\"""", """f"P{policies['expiry_years'] + 1}Y\"""")
    assert edited.count("团支部委员会资格审查") == 1 and "expiry_years'] + 1" in edited
    diff = diff_bpmn(XML, edited)
    assert diff["added"] == [] and diff["removed"] == [] and diff["moved"] == []
    assert diff["changed"] == [
        {"id": "committee_review", "type": "userTask", "name": "团支部委员会资格审查",
         "changes": [{"property": "name", "old": "团支部委员会审查", "new": "团支部委员会资格审查"}]},
        {"id": "expiry", "type": "boundaryEvent", "name": diff["changed"][1]["name"],
         "changes": [{"property": "timer.timeDuration", "old": """f"P{policies['expiry_years']}Y\"""",
                      "new": """f"P{policies['expiry_years'] + 1}Y\""""}]},
    ]


def test_added_and_removed_elements_and_layout_moves() -> None:
    root = etree.fromstring(XML.encode("utf-8"))
    process = root.find(f"{{{BPMN}}}process")
    task = process.find(f"{{{BPMN}}}userTask[@id='committee_opinion']")
    process.remove(task)
    etree.SubElement(process, f"{{{BPMN}}}manualTask", id="archive", name="归档")
    for bounds in root.iter("{http://www.omg.org/spec/DD/20100524/DC}Bounds"):
        if bounds.getparent().get("bpmnElement") == "committee_review":
            bounds.set("x", "1500")  # moved in the diagram only
    diff = diff_bpmn(XML, etree.tostring(root, encoding="unicode"))
    assert diff["added"] == [{"id": "archive", "type": "manualTask", "name": "归档"}]
    assert diff["removed"] == [{"id": "committee_opinion", "type": "userTask", "name": "支委会组织意见"}]
    assert diff["changed"] == []  # the flows still name committee_opinion: their ends did not change
    assert diff["moved"] == [{"id": "committee_review", "type": "userTask", "name": "团支部委员会审查"}]


def test_conditions_scripts_properties_and_lanes_are_compared() -> None:
    edited = (XML.replace('value="committee_review.uischema.json"', 'value="review2.uischema.json"')
              .replace("<bpmn:flowNodeRef>committee_review</bpmn:flowNodeRef>", "", 1)
              .replace("<bpmn:flowNodeRef>meeting_approval</bpmn:flowNodeRef>",
                       "<bpmn:flowNodeRef>meeting_approval</bpmn:flowNodeRef><bpmn:flowNodeRef>committee_review"
                       "</bpmn:flowNodeRef>", 1))
    (changed,) = diff_bpmn(XML, edited)["changed"]
    assert changed["id"] == "committee_review"
    assert [(c["property"], c["old"], c["new"]) for c in changed["changes"]] == [
        ("lane", "league_branch_committee", "league_general_branch_secretary"),
        ("property.formUiSchemaFilename", "committee_review.uischema.json", "review2.uischema.json")]
