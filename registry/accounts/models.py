"""User accounts and the role and scope each one acts in."""
import enum
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from registry.core.db import db, enum_type, utcnow
from registry.core.roles import Role
from registry.organizations.models import Agency, TrainingInstitution
from registry.reference.models import County


class User(UserMixin, db.Model):
    """用户 — a person who signs in, with one role and the county, agency or institution it is scoped to."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(40), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(60), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    county_code: Mapped[str | None] = mapped_column(sa.ForeignKey("counties.code"))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("training_institutions.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    county: Mapped[County | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    institution: Mapped[TrainingInstitution | None] = relationship()

    __table_args__ = (
        # Each role is bound to exactly the organisation its scope rule needs.
        sa.CheckConstraint(
            "(role = 'admin' AND county_code IS NULL AND agency_id IS NULL AND institution_id IS NULL)"
            " OR (role = 'county' AND county_code IS NOT NULL AND agency_id IS NULL AND institution_id IS NULL)"
            " OR (role = 'agency' AND agency_id IS NOT NULL AND institution_id IS NULL)"
            " OR (role = 'institution' AND institution_id IS NOT NULL AND agency_id IS NULL)",
            name="role_scope",
        ),
    )

    def set_password(self, password: str) -> None:
        # Tests lower the work factor; production keeps werkzeug's default (scrypt).
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def scope_label(self) -> str:
        if self.role is Role.COUNTY and self.county:
            return self.county.name
        if self.role is Role.AGENCY and self.agency:
            return self.agency.name
        if self.role is Role.INSTITUTION and self.institution:
            return self.institution.name
        return "开封市"


class UserSession(db.Model):
    """登录会话 — one signed-in browser. Its cookie carries a random key of which only a SHA-256 is kept here;
    the cookie counts only while this row exists, so logout, a password change or disabling the account (each
    deletes the row) ends it on the server, and a copy of the old cookie is refused."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    key_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # When the password was last typed in this session (sign-in or re-authentication): sensitive pages ask for
    # it again once this is old.
    password_confirmed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship()


class ThrottleKind(enum.StrEnum):
    ACCOUNT = "account"
    ADDRESS = "address"


class SignInThrottle(db.Model):
    """登录限制 — recent failed sign-ins for one account name or one client address, and until when the next
    try must wait. In the database, not in a worker's memory, so every gunicorn worker counts the same."""

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ThrottleKind] = mapped_column(enum_type(ThrottleKind))
    # The name as typed (whether or not such a user exists) or the client address.
    key: Mapped[str] = mapped_column(sa.String(64))
    failures: Mapped[int]
    last_failure_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.UniqueConstraint("kind", "key"),)
