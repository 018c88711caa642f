"""Share links (分享链接): a holder asks the issuing agency for an address that shows their certificate, name
in full, to whoever they send it to — an employer, a school — until it expires or is revoked.

The public verify page masks the name, since anyone may type a number; a share link is the holder's consent to
show it, so only the agency that issued the certificate (or the administrator) makes one, for at most
MAX_DAYS, and every creation and revocation is audited. The token (secrets.token_urlsafe, 256 bits) is shown
once and stored only as its SHA-256. Each opening is counted. County officials supervise and read; they do not
act for holders, so they neither create nor revoke (scopes.may_write).
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from registry.certificates.models import Certificate, CertificateStatus, ShareLink
from registry.certificates.scopes import check_certificate_writable
from registry.core.audit import record_event
from registry.core.db import db, utcnow
from registry.core.errors import InvalidInput

MAX_DAYS = 90
DEFAULT_DAYS = 30
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def aware(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def expires_at(link: ShareLink) -> datetime:
    return aware(link.expires_at)


def state(link: ShareLink, now: datetime | None = None) -> str:
    """"active", "revoked" or "expired" (revoked wins: it is the deliberate act)."""
    if link.revoked_at is not None:
        return "revoked"
    return "expired" if expires_at(link) <= (now or utcnow()) else "active"


STATE_LABELS = {"active": "有效", "revoked": "已撤销", "expired": "已过期"}


def create_share_link(actor, certificate: Certificate, days: int) -> tuple[ShareLink, str]:
    """A new link and its token (the only time the token exists in clear). Raises InvalidInput, Forbidden."""
    check_certificate_writable(actor, certificate)
    if certificate.status is not CertificateStatus.VALID:
        raise InvalidInput(None, f"证书状态为“{certificate.status.label}”，只能为有效证书创建分享链接")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput("days", f"有效天数：应为 1 到 {MAX_DAYS} 天")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = ShareLink(certificate=certificate, token_sha256=token_hash(token),
                     created_by_id=getattr(actor, "id", None), expires_at=utcnow() + timedelta(days=days),
                     view_count=0)
    db.session.add(link)
    db.session.flush()
    record_event(actor, "create", "share_link", link.id,
                 after={"certificate": certificate.number, "days": days,
                        "expires_at": link.expires_at.isoformat(timespec="seconds")})
    return link, token


def revoke_share_link(actor, link: ShareLink) -> None:
    check_certificate_writable(actor, link.certificate)
    if link.revoked_at is not None:
        raise InvalidInput(None, "该分享链接已撤销")
    link.revoked_at = utcnow()
    link.revoked_by_id = getattr(actor, "id", None)
    record_event(actor, "revoke", "share_link", link.id,
                 after={"certificate": link.certificate.number, "views": link.view_count})


@dataclass(frozen=True)
class Opened:
    """What a visitor with a token gets: the link, and whether it may still be shown."""

    link: ShareLink | None
    state: str  # "active", "revoked", "expired" or "unknown"


def open_share_link(token: str) -> Opened:
    """Find the link by its token's hash; an active one counts the view (the caller's transaction commits)."""
    link = db.session.scalar(sa.select(ShareLink).where(ShareLink.token_sha256 == token_hash(token or "")))
    if link is None:
        return Opened(None, "unknown")
    current = state(link)
    if current == "active":
        # One UPDATE, so two visitors at once both count.
        db.session.execute(sa.update(ShareLink).where(ShareLink.id == link.id).values(
            view_count=ShareLink.view_count + 1, last_viewed_at=utcnow()))
    return Opened(link, current)


def links_of(certificate: Certificate) -> list[ShareLink]:
    return list(db.session.scalars(sa.select(ShareLink).where(ShareLink.certificate_id == certificate.id)
                                   .order_by(ShareLink.id.desc())))
