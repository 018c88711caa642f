"""`registry eligibility list|set|clear`: the city's eligibility rule (申报条件) per level."""
import click
from flask.cli import with_appcontext

from registry.assessment import eligibility
from registry.core.audit import client_address
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.reference.models import LEVEL_LABELS


@click.group("eligibility")
def eligibility_command() -> None:
    """申报条件：每个等级的认定申报条件（任一途径满足即可）。"""


@eligibility_command.command("list")
@with_appcontext
def list_command() -> None:
    rules = eligibility.rules()
    for rule in rules:
        click.echo(f"{LEVEL_LABELS[rule.level]}：{eligibility.describe(rule)}")
    if not rules:
        click.echo("未设置申报条件：导入成绩时不检查。")


@eligibility_command.command("set")
@click.argument("level", type=int)
@click.option("--previous-years", type=click.IntRange(0, 60), help="持本职业低一级证书满几年")
@click.option("--work-years", type=click.IntRange(0, 60), help="从事本职业满几年")
@click.option("--education", default="", help="单独即可申报的学历，用“、”分隔，如 技工学校、中等职业学校")
@with_appcontext
def set_command(level: int, previous_years: int | None, work_years: int | None, education: str) -> None:
    client_address.set("cli")
    try:
        rule = eligibility.set_rule(None, level, previous_years, work_years, education.split("、"))
    except InvalidInput as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"{LEVEL_LABELS[level]}：{eligibility.describe(rule)}")


@eligibility_command.command("clear")
@click.argument("level", type=int)
@with_appcontext
def clear_command(level: int) -> None:
    client_address.set("cli")
    eligibility.clear_rule(None, level)
    db.session.commit()
    click.echo(f"{LEVEL_LABELS.get(level, level)}：不再检查申报条件。")
