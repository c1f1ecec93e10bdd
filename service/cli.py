"""`flask --app service ...` commands (db upgrade comes from Flask-Migrate)."""

from __future__ import annotations

import signal
import time
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from service.errors import ApiError
from service.extensions import db


@click.command("deploy")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--comment", default=None, help="Recorded with each new version")
@with_appcontext
def deploy_command(paths: tuple[Path, ...], comment: str | None) -> None:
    """Parse, lint and deploy BPMN files (default: every .bpmn in bpmn/). A version is made only on change."""
    from service.modeler.operations import deploy_bpmn

    files = list(paths) or sorted(Path(current_app.config["BPMN_DIR"]).glob("*.bpmn"))
    if not files:
        click.echo("no BPMN files to deploy / 没有可部署的 BPMN 文件")
        return
    failed = 0
    for path in _call_order(files):
        try:
            result = deploy_bpmn(path.read_bytes(), filename=path.name, comment=comment)
            db.session.commit()
        except ApiError as exc:
            db.session.rollback()
            failed += 1
            click.echo(f"✗ {path.name}: not deployed / 未部署", err=True)
            for d in exc.details:
                where = f"line {d.get('line')}" if d.get("line") else ""
                click.echo(f"    {d.get('element_id') or '-'} {where}: {d.get('message')}", err=True)
            continue
        state = "new version / 新版本" if result.created else "unchanged / 未变化"
        click.echo(f"✓ {path.name}: {result.version.model.key} v{result.version.number} ({state})")
        for w in result.warnings:
            click.echo(f"    warning {w.element_id or '-'} line {w.line}: {w.message}")
    if failed:
        raise click.ClickException(f"{failed} file(s) failed lint / {failed} 个文件未通过检查")


def _call_order(files: list[Path]) -> list[Path]:
    """Deploy processes that are called by others first (call activities need their target)."""
    texts = {p: p.read_text(encoding="utf-8", errors="replace") for p in files}
    return sorted(files, key=lambda p: sum(f'calledElement="{p.stem}"' in t for t in texts.values()), reverse=True)


@click.group("timers")
def timers_group() -> None:
    """Timer maintenance."""


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    if not current_app.config["ALLOW_CLOCK_OVERRIDE"]:
        raise click.UsageError("--now needs ALLOW_CLOCK_OVERRIDE=1 (tests only) / 仅测试环境可指定 --now")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.astimezone()


@timers_group.command("run-due")
@click.option("--now", "now_text", default=None, help="ISO time to treat as now (needs ALLOW_CLOCK_OVERRIDE)")
@with_appcontext
def run_due_command(now_text: str | None) -> None:
    """Fire every timer that is due, once."""
    from service.timers.operations import run_due

    result = run_due(_parse_now(now_text))
    click.echo(f"fired {result.fired} instance(s); {len(result.failed)} failed")
    for instance_id, error in result.failed:
        click.echo(f"  instance {instance_id}: {error}", err=True)


@click.command("worker")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls when idle")
@click.option("--once", is_flag=True, help="Poll once and exit")
@with_appcontext
def worker_command(interval: float, once: bool) -> None:
    """Fire due timers until stopped (SIGINT/SIGTERM finish the current instance, then exit)."""
    from sqlalchemy.exc import OperationalError

    from service.ops.jobs import hold_claims_with_lease
    from service.timers.operations import run_due

    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    hold_claims_with_lease(db.engine, current_app.config["JOB_LEASE_SECONDS"])
    click.echo("worker started / 定时任务进程已启动")
    optimized_at = 0.0
    while not stopping:
        if time.monotonic() - optimized_at > 3600:
            optimize_database()
            optimized_at = time.monotonic()
        try:
            result = run_due(limit=100)
        except OperationalError as exc:  # the database is away (restart, failover): wait and try again
            db.session.remove()
            if once:
                raise
            click.echo(f"database unavailable, retrying / 数据库不可用，稍后重试: {exc.__class__.__name__}", err=True)
            time.sleep(max(interval, 1.0))
            continue
        if result.fired or result.failed:
            click.echo(f"fired {result.fired}, failed {len(result.failed)}")
        if once:
            break
        if not result.fired:
            time.sleep(interval)
    db.session.remove()
    click.echo("worker stopped / 定时任务进程已停止")


def optimize_database() -> None:
    """SQLite keeps no statistics unless asked; without them the planner may scan every open task.
    PostgreSQL's autovacuum does this by itself."""
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA optimize=0x10002")  # analyze what needs it, bounded
            connection.commit()


def register_cli(app: Flask) -> None:
    app.cli.add_command(deploy_command)
    app.cli.add_command(timers_group)
    app.cli.add_command(worker_command)
    try:
        from service.org.cli import roster_group
    except ImportError:  # pragma: no cover - during early development
        roster_group = None
    if roster_group is not None:
        app.cli.add_command(roster_group)
    from service.demo import demo_command

    app.cli.add_command(demo_command)
    from service.modeler.export import export_models_command

    app.cli.add_command(export_models_command)
