"""`registry oversight signals [--only KEY]`: recount the oversight signals (also run nightly by the worker)."""
import click
from flask.cli import with_appcontext

from registry.core.audit import client_address
from registry.core.db import db
from registry.oversight.refresh import refresh_signals
from registry.oversight.signals import SIGNALS


@click.group("oversight")
def oversight_command() -> None:
    """Oversight of the agencies (监管): signals."""


@oversight_command.command("signals")
@click.option("--only", type=click.Choice(sorted(SIGNALS)), multiple=True, help="Recount just this signal.")
@with_appcontext
def signals_command(only: tuple[str, ...]) -> None:
    """Recount every signal from the stored data; each finding's handling is kept."""
    client_address.set("cli")
    tallies = refresh_signals(None, only)
    db.session.commit()
    for key, tally in tallies.items():
        click.echo(f"{SIGNALS[key].title}（{key}）：{tally.found} 条，新增 {tally.opened}，不再出现 {tally.gone}，"
                   f"用时 {tally.seconds:.2f} 秒")
