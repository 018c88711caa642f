"""The SHA-256 of a certificate's file as issued, taken after the certificate is committed.

Issuing writes the certificates without rendering them: rendering is 86% of the cost of issuing, and
inside the write transaction it held SQLite's only write lock for seconds (1,500 certificates: 18 s, while
every sign-in waited and failed). The rendering is deterministic (same snapshot, key and public address →
same bytes), so the hash taken later means the same: the file as issued, never with the 已撤销 mark.
After an issue commits, the task worker renders the batch and stores the hashes in short transactions
(`fill_batch_hashes`); a download stores it too if it comes first (`fill_issued_sha256`); public
verification computes it without writing (`issued_sha256_of`). A bulk issue (registry.certificates.
bulk_issue, the demo generator at city scale) leaves it to downloads. Imported history has no file.
"""
import hashlib
import logging

import sqlalchemy as sa

from registry.certificates import rendering
from registry.certificates.models import Certificate
from registry.core.db import db
from registry.core.tasks import background_task

log = logging.getLogger(__name__)
CHUNK = 50  # certificates rendered between two short write transactions


def has_issued_file(certificate: Certificate) -> bool:
    """Issued by this registry with a frozen snapshot to render (imported history is not)."""
    return not certificate.is_imported and bool((certificate.snapshot or {}).get("name"))


def issued_sha256_of(certificate: Certificate) -> str | None:
    """The stored hash, or for one not rendered yet, the hash of its file as issued, rendered now.

    None when there is no file to compare with, or it cannot be rebuilt (its photo is missing).
    """
    if certificate.pdf_sha256 or not has_issued_file(certificate):
        return certificate.pdf_sha256
    try:
        return rendering.issued_sha256(certificate.snapshot)
    except rendering.PhotoUnavailable:
        return None


def fill_issued_sha256(certificate: Certificate, rendered: bytes | None = None) -> None:
    """Store the hash on first rendering; `rendered` is reused when it is the file as issued (not marked).

    Two first downloads at once both write the same value: the rendering is deterministic.
    """
    if certificate.pdf_sha256 or not has_issued_file(certificate):
        return
    if rendered is not None and not rendering.is_marked_revoked(certificate):
        certificate.pdf_sha256 = hashlib.sha256(rendered).hexdigest()
    else:
        certificate.pdf_sha256 = rendering.issued_sha256(certificate.snapshot)


def _skip(batch_id: int, reason: str) -> None:
    # Nothing is lost: a hash not taken now is taken on the certificate's first download.
    log.warning("issued hashes of batch %s not taken: %s", batch_id, reason)


@background_task(give_up=_skip)
def fill_batch_hashes(batch_id: int) -> None:
    """Render each certificate of the batch that has no hash yet, outside any write transaction, and store the
    hashes CHUNK at a time, each chunk a transaction of its own."""
    missing = sa.select(Certificate).where(Certificate.batch_id == batch_id, Certificate.pdf_sha256.is_(None),
                                            Certificate.is_imported.is_(False)).order_by(Certificate.id)
    after = 0
    while certificates := db.session.scalars(missing.where(Certificate.id > after).limit(CHUNK)).all():
        after = certificates[-1].id
        hashes = {certificate.id: _issued_sha256_or_none(certificate) for certificate in certificates}
        db.session.rollback()  # end the read first: the write lock is held only for the updates
        for certificate_id, digest in hashes.items():
            db.session.execute(sa.update(Certificate).where(Certificate.id == certificate_id,
                                                            Certificate.pdf_sha256.is_(None))
                               .values(pdf_sha256=digest))
        db.session.commit()


def _issued_sha256_or_none(certificate: Certificate) -> str | None:
    try:
        return rendering.issued_sha256(certificate.snapshot)
    except rendering.PhotoUnavailable:  # its first download will say so
        return None
