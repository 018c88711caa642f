"""`registry stats rebuild [--check]`: recount the cockpit's totals from the raw tables."""
import sys

import click
from flask.cli import with_appcontext

from registry.core.audit import client_address, record_event
from registry.core.db import db
from registry.stats import rebuild as rebuilding

SHOWN = 20


@click.group("stats")
def stats_command() -> None:
    """The cockpit's kept totals (统计)."""


@stats_command.command("rebuild")
@click.option("--check", is_flag=True, help="Only compare the kept totals with a recount; change nothing.")
@with_appcontext
def rebuild_command(check: bool) -> None:
    """Recount every total from certificates and enrolments; with --check, report each difference."""
    if check:
        found = rebuilding.differences()
        db.session.rollback()
        for difference in found[:SHOWN]:
            click.echo(f"{difference.county_code} {difference.day} {difference.measure}: "
                       f"保存值 {difference.kept}，重新统计 {difference.recounted}")
        if found:
            click.echo(f"共 {len(found)} 处不一致。", err=True)
            sys.exit(1)
        click.echo("统计数据与原始记录一致，没有差异。")
        return
    client_address.set("cli")
    rebuilding.rebuild()
    record_event(None, "rebuild", "statistics", None)
    db.session.commit()
    click.echo("统计数据已按原始记录重建。")
