"""Account operations: sign-in checks and user management. The caller commits."""
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from registry.accounts import sessions, throttle
from registry.accounts.models import User
from registry.core.roles import Role
from registry.accounts.passwords import check_password_strength
from registry.core.audit import changes, record_event
from registry.core.db import db, utcnow
from registry.core.errors import InvalidInput
from registry.organizations.models import Agency, TrainingInstitution
from registry.reference.checks import current_county

WRONG_CREDENTIALS = "用户名或密码不正确。"

# Sent, inside the caller's transaction, with the user whose password was changed or whose account was
# disabled. registry/api/tokens.py revokes the user's API tokens on it: this package may not import that one.
credentials_revoked = Namespace().signal("credentials-revoked")


@dataclass(frozen=True)
class SignIn:
    user: User | None
    message: str | None = None  # why not, in Chinese


def authenticate(username: str, password: str, address: str | None) -> SignIn:
    """Check a sign-in within the throttle's limits and record it. An unknown name, a wrong password and a
    disabled account all cost one password hash and get the same answer, so none can be told apart."""
    if block := throttle.current_block(username, address):
        return SignIn(None, block.message(throttle.utcnow()))
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if not _password_matches(user, password) or not user.is_active:
        record_event(user, "login_failed", "user", getattr(user, "id", None), actor_name=username[:80] or "?")
        block = throttle.count_failure(username, address)
        return SignIn(None, WRONG_CREDENTIALS + (block.message(throttle.utcnow()) if block else ""))
    throttle.clear_account(username)
    user.last_login_at = utcnow()
    record_event(user, "login", "user", user.id)
    return SignIn(user)


def confirm_password(user: User, password: str, address: str | None) -> str | None:
    """Re-authentication of a signed-in user: None when the password is right, else why not. Wrong passwords
    count towards the same limits as sign-ins, or a stolen session could guess the password here."""
    if block := throttle.current_block(user.username, address):
        return block.message(throttle.utcnow())
    if not user.check_password(password):
        record_event(user, "confirm_password_failed", "user", user.id)
        block = throttle.count_failure(user.username, address)
        return "密码不正确。" + (block.message(throttle.utcnow()) if block else "")
    record_event(user, "confirm_password", "user", user.id)
    return None


def _password_matches(user: User | None, password: str) -> bool:
    if user is None:
        check_password_hash(_stand_in_hash(), password)  # the same work as for a real account
        return False
    return user.check_password(password)


_stand_in_hashes: dict[str, str] = {}


def _stand_in_hash() -> str:
    """A hash of a random password made with the method real passwords use, once per process."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _stand_in_hashes:
        _stand_in_hashes[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    return _stand_in_hashes[method]


def record_logout(user: User) -> None:
    record_event(user, "logout", "user", user.id)


def user_fields(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "county_code": user.county_code,
        "agency_id": user.agency_id,
        "institution_id": user.institution_id,
        "is_active": user.is_active,
    }


def create_user(
    actor: User | None,
    username: str,
    password: str,
    role: Role,
    county_code: str | None = None,
    organization_id: int | None = None,
    display_name: str = "",
) -> User:
    username = username.strip()
    if not username:
        raise InvalidInput("username", "用户名：不能为空")
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise InvalidInput("username", f"用户名：{username} 已被使用")
    check_password_strength(password, (username, display_name))
    user = User(username=username, display_name=display_name, role=role)
    user.county_code, user.agency_id, user.institution_id = _scope_for(role, county_code, organization_id)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_event(actor, "create", "user", user.id, after=user_fields(user))
    return user


def update_user(
    actor: User,
    user: User,
    role: Role,
    county_code: str | None,
    organization_id: int | None,
    display_name: str,
    is_active: bool,
    new_password: str | None = None,
) -> None:
    if user.id == actor.id and (not is_active or role is not Role.ADMIN):
        raise InvalidInput("role", "角色：不能停用自己的账号或降低自己的权限")
    # Every check (and every query it needs) comes before the first change: a query autoflushes, and a user
    # half-changed (a new role, the old scope) breaks ck_users_role_scope.
    scope = _scope_for(role, county_code, organization_id)
    if new_password:
        check_password_strength(new_password, (user.username, display_name))
    before, was_active = user_fields(user), user.is_active
    user.role, user.display_name, user.is_active = role, display_name, is_active
    user.county_code, user.agency_id, user.institution_id = scope
    if new_password:
        user.set_password(new_password)
    old, new = changes(before, user_fields(user))
    if new_password:
        new["password"] = "（已重置）"
    record_event(actor, "update", "user", user.id, before=old, after=new)
    if new_password:
        _revoke_credentials(actor, user, "密码已重置")
    elif was_active and not is_active:
        _revoke_credentials(actor, user, "账号已停用")


def disable_user(actor: User | None, user: User) -> None:
    """Lock an account out at once: no sign-in, every session ended, every API token revoked."""
    if actor is not None and user.id == actor.id:
        raise InvalidInput(None, "不能停用自己的账号")
    record_event(actor, "disable", "user", user.id,
                 before={"is_active": user.is_active}, after={"is_active": False})
    user.is_active = False
    _revoke_credentials(actor, user, "账号已停用")


def reset_password(actor: User | None, user: User, password: str) -> None:
    """A new password; every session of the user ends and every API token is revoked."""
    check_password_strength(password, (user.username, user.display_name))
    user.set_password(password)
    record_event(actor, "reset_password", "user", user.id, after={"password": "（已重置）"})
    _revoke_credentials(actor, user, "密码已重置")


def _revoke_credentials(actor: User | None, user: User, reason: str) -> None:
    sessions.end_all_sessions(user)
    credentials_revoked.send(user, actor=actor, reason=reason)


def _scope_for(role: Role, county_code: str | None, organization_id: int | None) -> tuple:
    """(county_code, agency_id, institution_id): exactly the county, agency or institution the role is scoped
    to, and nothing else."""
    if role is Role.COUNTY:
        county = current_county(county_code)
        if county is None:
            raise InvalidInput("county_code", f"所属县区：未知或已撤销的县区代码 {county_code or '（空）'}")
        return county.code, None, None
    if role is Role.AGENCY:
        if organization_id is None or db.session.get(Agency, organization_id) is None:
            raise InvalidInput("organization_id", f"所属机构：评价机构 {organization_id or '（空）'} 不存在")
        return None, organization_id, None
    if role is Role.INSTITUTION:
        if organization_id is None or db.session.get(TrainingInstitution, organization_id) is None:
            raise InvalidInput("organization_id", f"所属机构：培训机构 {organization_id or '（空）'} 不存在")
        return None, None, organization_id
    return None, None, None
