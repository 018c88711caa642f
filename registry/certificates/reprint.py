"""One certificate's file for a download, as the page and the API both hand it out."""
from registry.certificates import rendering
from registry.certificates.issued_hash import fill_issued_sha256
from registry.certificates.models import Certificate
from registry.core.audit import record_event


def reprint(actor, certificate: Certificate) -> bytes:
    """Byte for byte the issued file, unless revoked since (then marked 已撤销); logged, as it prints the full
    document number. A certificate issued in bulk gets its hash stored on this first rendering. The caller
    commits (the log and the hash together)."""
    data = rendering.render(certificate)
    fill_issued_sha256(certificate, data)
    record_event(actor, "download", "certificate", certificate.id,
                 after={"number": certificate.number, "status": certificate.status.value})
    return data
