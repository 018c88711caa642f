"""Account operations: sign-in checks and user management. The caller commits."""
import sqlalchemy as sa

from registry.accounts.models import Role, User
from registry.core.audit import changes, record_event
from registry.core.db import db, utcnow
from registry.core.errors import InvalidInput
from registry.organizations.models import Agency, TrainingInstitution
from registry.reference.models import County

MIN_PASSWORD_LENGTH = 8


def authenticate(username: str, password: str) -> User | None:
    """Return the user when the password matches; record the attempt either way."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.is_active or not user.check_password(password):
        record_event(user, "login_failed", "user", getattr(user, "id", None), actor_name=username[:80] or "?")
        return None
    user.last_login_at = utcnow()
    record_event(user, "login", "user", user.id)
    return user


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
    check_password_strength(password)
    user = User(username=username, display_name=display_name, role=role)
    _bind_scope(user, role, county_code, organization_id)
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
    before = user_fields(user)
    if user.id == actor.id and (not is_active or role is not Role.ADMIN):
        raise InvalidInput("role", "角色：不能停用自己的账号或降低自己的权限")
    user.role, user.display_name, user.is_active = role, display_name, is_active
    _bind_scope(user, role, county_code, organization_id)
    if new_password:
        check_password_strength(new_password)
        user.set_password(new_password)
    old, new = changes(before, user_fields(user))
    if new_password:
        new["password"] = "（已重置）"
    record_event(actor, "update", "user", user.id, before=old, after=new)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"密码：至少 {MIN_PASSWORD_LENGTH} 位")


def _bind_scope(user: User, role: Role, county_code: str | None, organization_id: int | None) -> None:
    """Attach exactly the county, agency or institution the role is scoped to, and nothing else."""
    user.county_code = user.agency_id = user.institution_id = None
    if role is Role.COUNTY:
        county = db.session.get(County, county_code or "")
        if county is None or not county.is_current or county.kind == "city":
            raise InvalidInput("county_code", f"所属县区：未知或已撤销的县区代码 {county_code or '（空）'}")
        user.county_code = county.code
    elif role is Role.AGENCY:
        if organization_id is None or db.session.get(Agency, organization_id) is None:
            raise InvalidInput("organization_id", f"所属机构：评价机构 {organization_id or '（空）'} 不存在")
        user.agency_id = organization_id
    elif role is Role.INSTITUTION:
        if organization_id is None or db.session.get(TrainingInstitution, organization_id) is None:
            raise InvalidInput("organization_id", f"所属机构：培训机构 {organization_id or '（空）'} 不存在")
        user.institution_id = organization_id
