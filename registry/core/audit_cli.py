"""`registry audit verify [--anchor SEQ:HASH]`: check the audit log's hash chain, list every break."""
import sys

import click
from flask.cli import with_appcontext

from registry.core.audit import verify_log
from registry.core.audit_chain import Anchor, utc_instant
from registry.core.db import db

SHOWN = 50
ANCHOR_HEX = 16  # enough to make a forged match hopeless, short enough to copy by hand


class AnchorType(click.ParamType):
    name = "SEQ:HASH"

    def convert(self, value, param, ctx) -> Anchor:
        if isinstance(value, Anchor):
            return value
        try:
            return Anchor.parse(value)
        except ValueError:
            self.fail(f"锚点格式应为 序号:摘要前缀（至少 8 位十六进制），例如 1234:0123456789abcdef，收到 {value!r}",
                      param, ctx)


@click.group("audit")
def audit_command() -> None:
    """The audit log (审计日志)."""


@audit_command.command("verify")
@click.option("--anchor", "anchors", type=AnchorType(), multiple=True,
              help="A SEQ:HASH printed by an earlier verify and kept outside the database (repeatable): "
                   "catches the newest events deleted.")
@with_appcontext
def verify_command(anchors: tuple[Anchor, ...]) -> None:
    """Recompute every event's keyed hash and its link to the one before; exit 1 and list each break."""
    with db.engine.connect() as connection:
        result = verify_log(connection, anchors)
    if result.is_intact:
        click.echo(f"审计日志完整：共 {result.events} 条事件，逐条校验通过，序号连续、前后相接。")
        if result.last is not None:
            last = result.last
            anchor = Anchor(last["chain_seq"], last["chain_hash"][:ANCHOR_HEX])
            at = utc_instant(last["occurred_at"])
            click.echo(f"链尾：事件 {last['id']}（序号 {last['chain_seq']}，{at:%Y-%m-%d %H:%M:%S} UTC）。"
                       "请在数据库之外记下这个锚点，以后核对时带上，可发现末尾的事件被删除：")
            click.echo(f"  registry audit verify --anchor {anchor}")
        return
    for problem in result.problems[:SHOWN]:
        click.echo(problem)
    if result.problem_count > SHOWN:
        click.echo(f"……另有 {result.problem_count - SHOWN} 处问题未列出。")
    if result.events and result.unauthentic == result.events:
        click.echo("每一条事件的摘要都不符：多半是 REGISTRY_DATA_KEY 与写入日志时所用的不同（校验密钥由它派生），"
                   "请先确认密钥。")
    click.echo(f"共 {result.problem_count} 处问题（共检查 {result.events} 条事件），审计日志不完整。")
    sys.exit(1)
