"""`registry disable-user` and `registry reset-password`: lock a compromised account out from the shell."""
import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from registry.accounts import operations
from registry.accounts.models import User
from registry.core.audit import client_address
from registry.core.db import db
from registry.core.errors import InvalidInput


@click.command("disable-user")
@click.argument("username")
@with_appcontext
def disable_user_command(username: str) -> None:
    """Disable an account: it can no longer sign in, its sessions end and its API tokens are revoked."""
    client_address.set("cli")
    _commit(lambda: operations.disable_user(None, _user(username)))
    click.echo(f"已停用用户 {username}：其所有登录会话已结束，所有 API 令牌已撤销。")


@click.command("reset-password")
@click.argument("username")
@with_appcontext
def reset_password_command(username: str) -> None:
    """Give an account a new password, read from standard input or prompted for; its sessions end and its API
    tokens are revoked."""
    client_address.set("cli")
    user = _user(username)
    if sys.stdin.isatty():
        password = click.prompt("新密码", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    _commit(lambda: operations.reset_password(None, user, password))
    click.echo(f"已重置用户 {username} 的密码：其所有登录会话已结束，所有 API 令牌已撤销。")


def _user(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"未找到用户 {username}")
    return user


def _commit(operation) -> None:
    try:
        operation()
    except InvalidInput as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
