"""The app side of verifiable credentials (可验证电子证书): a certificate's signed credential, the published
revocation status lists, and the issuer's profile with its public key (registry.certificates.credential)."""
from datetime import datetime, timezone

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from registry.certificates import credential
from registry.certificates.models import Certificate, CertificateStatus
from registry.certificates.pdf import REGISTRY_NAME
from registry.certificates.rendering import public_url, signing_key
from registry.core.db import db


def can_hold_credential(certificate) -> bool:
    """Issued here (a frozen snapshot with the holder's name) and still valid: a revoked or superseded
    certificate is not handed out anew, though credentials already out keep working through the list."""
    snapshot = certificate.snapshot or {}
    return certificate.status is CertificateStatus.VALID and bool(snapshot.get("name")) \
        and not getattr(certificate, "is_imported", False)


def credential_for(certificate) -> str:
    """The signed credential (compact JWS) of a certificate: `Certificate` or the verify page's facts row."""
    payload = credential.build(certificate.snapshot, certificate.id, public_url())
    return credential.sign(signing_key(), payload, public_url())


def status_list_for(list_number: int) -> str:
    """The signed status list: bit set for each certificate of the list that is revoked or superseded.

    Superseded counts as revoked for a credential: the corrected certificate replaces it, and an employer
    holding the old credential must learn that it no longer stands.
    """
    low = list_number * credential.LIST_SIZE
    ids = db.session.scalars(sa.select(Certificate.id).where(
        Certificate.id >= low, Certificate.id < low + credential.LIST_SIZE,
        Certificate.status != CertificateStatus.VALID)).all()
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    payload = credential.status_list(public_url(), list_number, [certificate_id - low for certificate_id in ids],
                                     now)
    return credential.sign(signing_key(), payload, public_url())


def issuer_profile() -> dict:
    """The issuer the credentials name, with its public key as a JWK: where the header's kid points."""
    raw = signing_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    base = public_url()
    return {
        "@context": credential.CONTEXTS,
        "id": credential.issuer_id(base), "type": ["Profile"], "name": REGISTRY_NAME, "url": base,
        "publicKey": {"kid": f"{credential.issuer_id(base)}#{credential.KEY_ID}", "kty": "OKP", "crv": "Ed25519",
                      "alg": "EdDSA", "x": credential.b64url(raw)},
        "publicKeyPem": f"{base}/certificates/public-key.pem",
    }
