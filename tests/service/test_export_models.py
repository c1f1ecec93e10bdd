"""`flask --app service export-models`: the latest version of each model back to .bpmn/.dmn files and
forms/<key>/, so a model edited in the browser can be committed; deploying the export changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from service.extensions import db
from service.modeler.operations import deploy_bpmn

DATA = Path(__file__).resolve().parent.parent / "data"
ROOT = Path(__file__).resolve().parents[2]


def test_export_writes_the_latest_versions_and_redeploying_them_changes_nothing(app, tmp_path: Path) -> None:
    approval = (DATA / "bpmn" / "approval.bpmn").read_text(encoding="utf-8")
    deploy_bpmn(approval)
    review = json.loads((DATA / "forms" / "approval" / "review.schema.json").read_text(encoding="utf-8"))
    review["title"] = "审核（在线修改）"
    edited = approval.replace("审核 Review", "审核 Review（在线修改）")
    deploy_bpmn(edited, forms={"review.schema.json": review}, comment="edited in the modeler")
    db.session.commit()

    out = tmp_path / "bpmn"
    result = app.test_cli_runner().invoke(args=["export-models", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "approval.bpmn").read_text(encoding="utf-8") == edited
    exported_form = json.loads((out / "forms" / "approval" / "review.schema.json").read_text(encoding="utf-8"))
    assert exported_form["title"] == "审核（在线修改）"
    assert sorted(p.name for p in (out / "forms" / "approval").iterdir()) == [
        "review.schema.json", "submit.schema.json", "submit.uischema.json"]
    assert result.output.count("written") == 4

    again = app.test_cli_runner().invoke(args=["export-models", "--out", str(out)])
    assert again.exit_code == 0 and again.output.count("unchanged") == 4 and "written" not in again.output

    # the exported files are what the service has: deploying them from there makes no new version
    app.config["FORMS_DIR"] = str(out / "forms")
    assert deploy_bpmn((out / "approval.bpmn").read_bytes()).created is False


def test_export_includes_decision_tables(app, tmp_path: Path) -> None:
    app.config["BPMN_DIR"] = str(ROOT / "bpmn")
    app.config["FORMS_DIR"] = str(ROOT / "forms")
    deploy_bpmn((ROOT / "bpmn" / "recommendation.bpmn").read_bytes())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["export-models", "--out", str(tmp_path), "--forms-out",
                                                str(tmp_path / "f")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "recommendation_eligibility.dmn").read_bytes() == (
        ROOT / "bpmn" / "recommendation_eligibility.dmn").read_bytes()
    assert (tmp_path / "recommendation.bpmn").read_bytes() == (ROOT / "bpmn" / "recommendation.bpmn").read_bytes()
    assert len(list((tmp_path / "f" / "recommendation").glob("*.json"))) == 16
