"""The `registry` command: the same commands as `flask --app registry …`, each one transaction."""
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from registry.accounts.models import Role
from registry.core.audit import client_address, record_event
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.transfer import transfer_command


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade every table (Alembic migrations); running it twice changes nothing."""
    from flask_migrate import upgrade

    upgrade()
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
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True, envvar="PORT")
@click.option("--workers", default=2, type=int, show_default=True)
@with_appcontext
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn, a production-grade WSGI server."""
    from registry.server import run_gunicorn

    click.echo(f"开封市职业技能证书登记系统：http://{host}:{port}/")
    run_gunicorn(current_app._get_current_object(), host, port, workers)


def register_commands(app: Flask) -> None:
    for command in (init_db_command, seed_command, create_user_command, serve_command, transfer_command):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from registry.app import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, add_default_commands=True, add_version_option=False,
                 help="开封市职业技能证书登记系统 — registry commands.")


def main() -> None:
    cli.main(prog_name="registry")
