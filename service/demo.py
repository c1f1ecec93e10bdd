"""`flask --app service demo`: a small demo college (the full one comes with the process pack)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load a demo college (roster, users, cases). Safe to run twice."""
    click.echo("demo data: not yet available / 演示数据尚未提供")
