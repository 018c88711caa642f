"""Signed QR codes: an Ed25519 signature over a certificate's key fields, checkable offline with the public key.

The QR holds the public verify URL; its query string carries the signed fields and the signature, so a
phone opens the page and an offline checker (`registry verify-qr TEXT`) needs nothing but the public key.
Signed message (UTF-8): "v1|<number>|<issued_on YYYY-MM-DD>|<level or ->|<occupation code>|<masked name>".
"""
import base64
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.people.masking import mask_name

VERSION = "v1"


@dataclass(frozen=True)
class QrClaim:
    """What a QR code says about a certificate; `valid` once its signature has been checked."""

    number: str
    issued_on: str
    level: str
    occupation_code: str
    masked_name: str
    signature: str

    @property
    def message(self) -> bytes:
        return "|".join((VERSION, self.number, self.issued_on, self.level, self.occupation_code,
                         self.masked_name)).encode("utf-8")


def generate_signing_key() -> str:
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return _encode(raw)


def load_private_key(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_decode(text))


def public_key_pem(private_key: Ed25519PrivateKey) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def load_public_key(pem: str) -> Ed25519PublicKey:
    return serialization.load_pem_public_key(pem.encode("ascii"))


def claim_for(snapshot: dict, signature: str = "") -> QrClaim:
    level = snapshot.get("level")
    return QrClaim(snapshot["number"], snapshot["issued_on"], "-" if level is None else str(level),
                   snapshot.get("occupation_code") or "-", mask_name(snapshot["name"]), signature)


def sign(private_key: Ed25519PrivateKey, snapshot: dict) -> QrClaim:
    unsigned = claim_for(snapshot)
    return claim_for(snapshot, _encode(private_key.sign(unsigned.message)))


def qr_text(claim: QrClaim, base_url: str) -> str:
    """The verify URL with the signed fields; short enough for a QR a phone reads from print."""
    query = "&".join(f"{key}={quote(value, safe='-')}" for key, value in (
        ("d", claim.issued_on), ("l", claim.level), ("o", claim.occupation_code), ("n", claim.masked_name),
        ("s", claim.signature)))
    return f"{base_url.rstrip('/')}/verify/{claim.number}?{query}"


def parse_qr_text(text: str) -> QrClaim:
    """Read a QR's claim back; raises ValueError (Chinese) when it is not one of ours."""
    parts = urlsplit(text.strip())
    path = parts.path.rstrip("/").split("/")
    fields = {key: values[0] for key, values in parse_qs(parts.query).items()}
    if len(path) < 2 or path[-2] != "verify" or not {"d", "l", "o", "n", "s"} <= fields.keys():
        raise ValueError("二维码内容不是本系统的证书验证链接")
    return QrClaim(path[-1], fields["d"], fields["l"], fields["o"], fields["n"], fields["s"])


def is_authentic(public_key: Ed25519PublicKey, claim: QrClaim) -> bool:
    try:
        public_key.verify(_decode(claim.signature), claim.message)
    except (InvalidSignature, ValueError):
        return False
    return True


def sign_file(private_key: Ed25519PrivateKey, data: bytes) -> bytes:
    """A detached signature (64 raw bytes) over a whole file's bytes: the signed bulk-check workbook carries
    one beside it, checkable by `registry verify-signature` or by OpenSSL with the published public key."""
    return private_key.sign(data)


def is_file_authentic(public_key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
