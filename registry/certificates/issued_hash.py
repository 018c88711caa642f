"""The SHA-256 of a certificate's file as issued, for certificates whose hash is filled on first rendering.

`issue_batch` renders each PDF at issue and stores its hash. A bulk issue (registry.certificates.bulk_issue,
used by the demo generator at city scale) leaves `pdf_sha256` empty: rendering is 86% of the cost of issuing
and a million PDFs nobody downloads would take hours. The rendering is deterministic (same snapshot, key and
public address → same bytes), so the hash can be taken later with the same meaning: the file as issued,
never with the 已撤销 mark. Downloads store it (`fill_issued_sha256`); public verification computes it
without writing (`issued_sha256_of`). Imported history has no file and keeps no hash.
"""
import hashlib

from registry.certificates import rendering
from registry.certificates.models import Certificate


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
