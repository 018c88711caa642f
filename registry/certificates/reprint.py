"""One certificate's file for a download, as the page and the API both hand it out, and the audit row that
every certificate file leaves: it prints the holder's full document number."""
from registry.certificates import pdf_keys, rendering
from registry.certificates.issued_hash import fill_issued_sha256
from registry.certificates.models import Certificate
from registry.core.audit import record_event


def reprint(actor, certificate: Certificate) -> bytes:
    """Byte for byte the issued file, unless revoked since (then marked 已撤销), signed by the registry (PAdES);
    logged as a reveal of the full document number. A certificate issued in bulk gets its hash stored on this
    first rendering: the hash of the unsigned rendering, which the signed file begins with. The caller
    commits (the log and the hash together)."""
    data = rendering.render(certificate)
    fill_issued_sha256(certificate, data)
    record_reveal(actor, certificate, file="pdf", status=certificate.status.value)
    return pdf_keys.sign(data)


def record_reveal(actor, certificate: Certificate, **facts) -> None:
    """A certificate file shows the holder's full document number, whoever downloads it (a county official
    who may never reveal one on the person page too): logged with the person page's own event
    (registry.people.operations.reveal_document), so a person's audit trail lists every disclosure."""
    masked = certificate.snapshot.get("document_masked") or certificate.person.document_masked
    record_event(actor, "reveal_document", "person", certificate.person_id,
                 after={"document": masked, "certificate": certificate.number, **facts})
