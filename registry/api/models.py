"""API credentials and remembered bulk requests."""
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.accounts.models import User
from registry.core.db import db, utcnow


class ApiToken(db.Model):
    """API令牌 — a personal credential for programs; carries its user's role and scope, never more.

    Only a SHA-256 of the secret is kept (the secret is 256 random bits, so a plain hash suffices; it is
    shown once, at creation). `prefix` lets the user tell their tokens apart.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    secret_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship()

    def is_usable(self, today: date) -> bool:
        return self.revoked_at is None and today <= self.expires_on and self.user.is_active


class IdempotentRequest(db.Model):
    """幂等请求 — the first answer to a bulk request sent with an Idempotency-Key, returned again on repeats."""

    __tablename__ = "idempotent_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(sa.String(100))
    endpoint: Mapped[str] = mapped_column(sa.String(200))
    body_sha256: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)
