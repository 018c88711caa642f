"""Who may read and act on which certificates: the one place the certificate scope rule lives."""
import sqlalchemy as sa
from flask import abort

from registry.core.roles import Role
from registry.certificates.models import Certificate
from registry.core.db import db
from registry.core.errors import Forbidden


def readable_certificates(user) -> sa.ColumnElement[bool]:
    """A WHERE clause on Certificate: admin all, an agency those it issued, a county those tied to it.

    A county sees a certificate when its holder's county of record is the county, or when it was assessed
    there: both counties are on the certificate (written with it), each with an index.
    """
    role = getattr(user, "role", None)
    if role is Role.ADMIN:
        return sa.true()
    if role is Role.AGENCY:
        return Certificate.agency_id == user.agency_id
    if role is Role.COUNTY:
        return sa.or_(Certificate.holder_county_code == user.county_code,
                      Certificate.batch_county_code == user.county_code)
    return sa.false()


def readable_certificate_parts(user) -> list[sa.ColumnElement[bool]]:
    """The same scope as readable_certificates, as disjoint parts each walked by an index of its own: for a
    county, its holders' certificates, then those assessed there of holders from elsewhere (see listing.paginate)."""
    if getattr(user, "role", None) is Role.COUNTY:
        county = user.county_code
        return [Certificate.holder_county_code == county,
                sa.and_(Certificate.batch_county_code == county,
                        Certificate.holder_county_code.is_distinct_from(county))]
    return [readable_certificates(user)]


def may_read(user, certificate: Certificate) -> bool:
    role = getattr(user, "role", None)
    if role is Role.COUNTY:
        batch_county = certificate.batch.county_code if certificate.batch else None
        return user.county_code in (certificate.person.county_code, batch_county)
    return role is Role.ADMIN or (role is Role.AGENCY and certificate.agency_id == user.agency_id)


def may_write(user, certificate: Certificate) -> bool:
    """Only the issuing agency (and the administrator) revokes or corrects; county staff supervise."""
    role = getattr(user, "role", None)
    return role is Role.ADMIN or (role is Role.AGENCY and certificate.agency_id == user.agency_id)


def check_certificate_writable(actor, certificate: Certificate) -> None:
    """Operations call this too, so the CLI or the API cannot bypass the views' rule; no actor: the system."""
    if actor is not None and not may_write(actor, certificate):
        raise Forbidden("no write access to this certificate")


def get_certificate_or_404(user, certificate_id: int, for_write: bool = False) -> Certificate:
    """Outside the read scope is 404, so a guessed id reveals nothing; readable but not writable is 403."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or not may_read(user, certificate):
        abort(404)
    if for_write and not may_write(user, certificate):
        abort(403)
    return certificate
