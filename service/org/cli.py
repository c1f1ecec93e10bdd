"""`flask --app service roster import|export FILE`: the roster as .json or .xlsx, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from service.errors import ApiError
from service.extensions import db

FORMATS = (".json", ".xlsx")


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise click.UsageError(f"文件应为 .json 或 .xlsx / the file must be .json or .xlsx: {path.name}")
    return suffix


@click.group("roster")
def roster_group() -> None:
    """Import and export the roster: org units, people, users and their roles."""


@roster_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(file: Path) -> None:
    """Import FILE (.json or .xlsx). Nothing is written unless every row is valid."""
    from .roster import import_roster, import_xlsx

    suffix = _format_of(file)
    try:
        if suffix == ".xlsx":
            counts = import_xlsx(file.read_bytes(), actor_id=None)
        else:
            counts = import_roster(_load_json(file), actor_id=None)
    except ApiError as exc:
        db.session.rollback()
        for detail in exc.details:
            where = " ".join(str(part) for part in (detail.get("sheet"), detail.get("row")) if part is not None)
            click.echo(f"  {where or '-'} {detail.get('field') or '-'}: {detail.get('message')}", err=True)
        raise click.ClickException(f"{len(exc.details)} 处错误，未导入任何内容 / "
                                   f"{len(exc.details)} problem(s); nothing was imported") from None
    db.session.commit()
    click.echo(f"imported / 已导入: {counts['org_units']} org units / 组织, {counts['people']} people / 人员, "
               f"{counts['users']} users / 用户")


def _load_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8-sig"))  # -sig: files saved by Windows tools
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"不是有效的 JSON / not valid JSON: {exc}") from None


@roster_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_command(file: Path) -> None:
    """Export the roster to FILE (.json or .xlsx). Passwords are never exported."""
    from .roster import export_roster, write_xlsx

    suffix = _format_of(file)
    document = export_roster()
    if suffix == ".xlsx":
        file.write_bytes(write_xlsx(document))
    else:
        file.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    click.echo(f"exported / 已导出 {len(document['org_units'])} org units, {len(document['people'])} people, "
               f"{len(document['users'])} users -> {file}")
