"""The commands of `registry` and `flask --app registry …`, each one transaction; the app factory
(registry/app.py) adds them to the app and builds the `registry` group."""
import sys

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, pass_script_info, with_appcontext

from registry.accounts.cli import disable_user_command, reset_password_command
from registry.assessment.cli import eligibility_command
from registry.core.roles import Role
from registry.certificates.cli import verify_credential_command, verify_qr_command, verify_signature_command
from registry.core.audit import client_address, record_event
from registry.core.audit_cli import audit_command
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.demo import MAX_PERSONS, MAX_SEED
from registry.housekeeping import purge_expired_files
from registry.oversight.cli import oversight_command
from registry.oversight.refresh import refresh_signals
from registry.stats.cli import stats_command
from registry.transfer import transfer_command


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade every table (Alembic migrations); running it twice changes nothing."""
    from flask_migrate import upgrade

    from registry.stats.rebuild import rebuild_if_missing

    upgrade()
    if rebuild_if_missing():
        db.session.commit()
        click.echo("已根据现有记录建立统计数据。")
    click.echo("数据库已是最新结构。")


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also load the fictional demo organisations and accounts.")
@with_appcontext
def seed_command(demo: bool) -> None:
    """Load reference data from seed_data/ (idempotent)."""
    from registry.demo import demo_accounts, seed_demo_accounts, seed_demo_organisations
    from registry.reference.seeding import seed_reference_data

    client_address.set("cli")
    added = seed_reference_data()
    if demo:
        added["demo_organisations"] = seed_demo_organisations()
        added["demo_accounts"] = seed_demo_accounts()
    if any(added.values()):
        record_event(None, "seed", "seed_data", after=added)
    db.session.commit()
    click.echo("已载入：" + "，".join(f"{name} +{count}" for name, count in added.items()))
    if demo:
        click.echo("演示账号（仅供演示，生产环境请勿使用）：")
        for row in demo_accounts():
            click.echo(f"  {row['role']:<12} {row['username']:<10} 密码 {row['password']}")


@click.command("demo")
@click.option("--persons", type=click.IntRange(1, MAX_PERSONS), required=True,
              help=f"How many fictional persons (1–{MAX_PERSONS:,}).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=1, show_default=True,
              help=f"Seeds 0–{MAX_SEED} never share a person; the same seed always gives the same persons.")
@click.option("--unless-present", is_flag=True,
              help="Do nothing if demo data was ever generated here (what make run uses).")
@with_appcontext
def demo_command(persons: int, seed: int, unless_present: bool) -> None:
    """Generate a living, clearly fictional registry (NEVER in production): agencies and institutions named
    演示, classes, enrolments, batches, results and certificates (some revoked, some corrected), 2021–2025.

    The resident ID numbers are FAKE (虚构): valid check digits (GB 11643) over Kaifeng address codes and
    birth dates 1960–2004, invented from the seed, never taken from a record (a match with a real person's
    number would be chance). Running it again adds only what is missing: the same seed and N add nothing.
    """
    from registry.demo_data import demo_data_present, generate_demo_data
    from registry.demo_targets import seed_demo_targets

    client_address.set("cli")
    if unless_present and demo_data_present():
        click.echo("已有演示数据，未生成。")
        _echo_demo_targets(seed_demo_targets())  # an older demo install gets the targets it lacks
        db.session.commit()
        return
    with click.progressbar(length=persons, label="生成演示数据", file=sys.stderr) as bar:
        try:
            # Committed every CHUNK_PERSONS persons: memory stays flat, and a rerun continues an interrupted one.
            added = generate_demo_data(persons, seed, progress=lambda done: bar.update(done - bar.pos),
                                       commit=db.session.commit)
        except InvalidInput as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        bar.update(persons - bar.pos)
    db.session.commit()  # the kept totals are brought up to date on commit, and the targets are sized on them
    targets = seed_demo_targets()
    # The nightly recount would leave the signals page empty on a new demo until 02:40; count them now.
    signals = refresh_signals()
    db.session.commit()
    click.echo(f"演示数据（种子 {seed}，共 {persons} 人）本次新增：人员 {added['persons']}，培训班 {added['classes']}，"
               f"参训 {added['enrolments']} 人次，认定批次 {added['batches']}，证书 有效 {added['certificates_valid']}"
               f" / 已撤销 {added['certificates_revoked']} / 已被替代（更正） {added['certificates_superseded']}；"
               f"监管信号 {sum(tally.found for tally in signals.values())} 条。")
    _echo_demo_targets(targets)


def _echo_demo_targets(written: int) -> None:
    if written:
        click.echo(f"演示县区目标与从业人员数：新设 {written} 项（已有的不改动）。")


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--county", "county_code", help="County code (role county).")
@click.option("--org", "organization_id", type=int, help="Agency or institution id (roles agency, institution).")
@click.option("--display-name", default="")
@with_appcontext
def create_user_command(username: str, role: str, county_code: str | None, organization_id: int | None,
                        display_name: str) -> None:
    """Create a user; the password is read from standard input or prompted for."""
    from registry.accounts.operations import create_user

    client_address.set("cli")
    if sys.stdin.isatty():
        password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        create_user(None, username, password, Role(role), county_code, organization_id, display_name)
    except InvalidInput as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"已创建用户 {username}（{Role(role).label}）。")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="REGISTRY_HOST")
@click.option("--port", default=5000, type=int, show_default=True, envvar="PORT")
@click.option("--workers", default=2, type=int, show_default=True, help="Web worker processes.")
@click.option("--task-worker/--no-task-worker", default=True, show_default=True,
              help="Also run the background task worker (registry worker) beside the web workers.")
def serve_command(host: str, port: int, workers: int, task_worker: bool) -> None:
    """Serve the app with gunicorn (registry/gunicorn_config.py); each web worker builds its own app."""
    from registry.server import exec_gunicorn

    click.echo(f"开封市职业技能证书登记系统：http://{host}:{port}/")
    exec_gunicorn(host, port, workers, task_worker)


@click.command("worker")
@click.option("--workers", default=1, type=int, show_default=True, help="Tasks run at the same time.")
@pass_script_info
def worker_command(info: ScriptInfo, workers: int) -> None:
    """Run the background tasks (imports, batch files) from the queue; a task process that dies is restarted
    and its task run again."""
    from registry.core.tasks import run_worker

    app = info.load_app()  # the group's factory (registry/app.py), in this process only
    click.echo(f"后台任务进程：队列 {app.config['TASK_QUEUE_URL']}，{workers} 个任务进程。")
    run_worker(app, workers)


@click.command("purge-files")
@with_appcontext
def purge_files_command() -> None:
    """Delete import folders and batch certificate files past their retention period (the task worker does
    it every night; this is the same, at once)."""
    folders, files = purge_expired_files()
    db.session.commit()
    config = current_app.config
    click.echo(f"已删除 {folders} 个导入任务文件夹（保留 {config['IMPORT_RETENTION_DAYS']} 天）、"
               f"{files} 个批量证书文件（保留 {config['EXPORT_RETENTION_DAYS']} 天）。")


def register_commands(app: Flask) -> None:
    for command in (init_db_command, seed_command, demo_command, create_user_command, serve_command,
                    worker_command, transfer_command, verify_qr_command, verify_credential_command,
                    verify_signature_command, stats_command,
                    audit_command, purge_files_command, disable_user_command, reset_password_command, oversight_command,
                    eligibility_command):
        app.cli.add_command(command)
