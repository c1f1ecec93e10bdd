"""`flask --app service export-models`: the latest version of each model back to files, so what was
edited in the browser modeler can be reviewed and committed like any other change."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from service.extensions import db

from .models import ProcessModel, ProcessVersion


def _write(path: Path, text: str) -> bool:
    """Write `text` unless the file already holds it; True if written."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def form_text(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def export_models(bpmn_dir: Path, forms_dir: Path) -> list[tuple[Path, bool]]:
    """Write <key>.bpmn, its DMN files and forms/<key>/* of each model's latest version.
    Returns (path, written) per file; unchanged files are left alone."""
    rows = db.session.execute(
        select(ProcessModel.key, ProcessVersion).join(ProcessVersion, ProcessVersion.model_id == ProcessModel.id)
        .where(ProcessVersion.number == ProcessModel.latest_version).order_by(ProcessModel.key)).all()
    results: list[tuple[Path, bool]] = []
    for key, version in rows:
        target = bpmn_dir / f"{key}.bpmn"
        results.append((target, _write(target, version.bpmn_xml)))
        for name, xml in sorted((version.dmn or {}).items()):
            target = bpmn_dir / Path(name).name
            results.append((target, _write(target, xml)))
        for name, document in sorted((version.forms or {}).items()):
            target = forms_dir / key / Path(name).name
            results.append((target, _write(target, form_text(document))))
    return results


@click.command("export-models")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder for .bpmn/.dmn files (default: BPMN_DIR)")
@click.option("--forms-out", "forms_out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder for forms/<key>/ (default: FORMS_DIR, or <out>/forms when --out is given)")
@with_appcontext
def export_models_command(out: Path | None, forms_out: Path | None) -> None:
    """Write the latest version of every process model back to files / 将各流程最新版本导出为文件."""
    bpmn_dir = out or Path(current_app.config["BPMN_DIR"])
    forms_dir = forms_out or (out / "forms" if out else Path(current_app.config["FORMS_DIR"]))
    results = export_models(bpmn_dir, forms_dir)
    if not results:
        click.echo("no deployed models / 没有已部署的流程")
    for path, written in results:
        click.echo(f"{'✓ written / 已写入' if written else '= unchanged / 未变化'}  {path}")
