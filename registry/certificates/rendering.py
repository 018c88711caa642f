"""A stored certificate as PDF: the app-side inputs of the pure renderer (key, public URL, full number)."""
import hashlib
import threading
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from reportlab.pdfgen.canvas import Canvas

from registry.certificates import pdf, signing
from registry.certificates.models import Certificate, CertificateStatus
from registry.people.operations import protector
from registry.people.photos import photo_data


# ReportLab subsets a TrueType font through one shared read position on the font face: a request and an
# export thread of the same process must not subset at once, or one file could carry the other's glyphs.
SUBSET_LOCK = threading.Lock()


class PhotoUnavailable(RuntimeError):
    """The snapshot names a holder photo this installation cannot load."""


@cache
def _private_key(text: str) -> Ed25519PrivateKey:
    return signing.load_private_key(text)


def signing_key() -> Ed25519PrivateKey:
    return _private_key(current_app.config["SIGNING_KEY"])


@cache
def _public_key(text: str):
    return _private_key(text).public_key()


def verify_key():
    """The public half of the signing key, derived once: every verify request used to derive it anew."""
    return _public_key(current_app.config["SIGNING_KEY"])


def public_key_pem() -> str:
    return signing.public_key_pem(signing_key())


def public_url() -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/")


def verify_url(number: str) -> str:
    """The page a reader types in by hand; the QR carries the same address plus the signed fields."""
    return f"{public_url()}/verify/{number}"


def photo_for(snapshot: dict) -> bytes | None:
    """The holder photo the snapshot names by SHA-256, or None: the PDF then draws the marked empty box.

    A named photo that cannot be found is an error rather than silently left out: a certificate rendered
    without it would not be the one issued.
    """
    digest = snapshot.get("photo_sha256")
    if not digest:
        return None
    data = photo_data(digest)
    if data is None:
        raise PhotoUnavailable(f"证书照片 {digest[:12]}… 不在照片库中")
    return data


def is_marked_revoked(certificate: Certificate) -> bool:
    return certificate.status is CertificateStatus.REVOKED


def page_arguments(snapshot: dict, revoked: bool = False) -> tuple:
    """Everything after the canvas that `pdf.draw_page` takes, for one certificate."""
    claim = signing.sign(signing_key(), snapshot)
    return (snapshot, protector().decrypt(snapshot["document_cipher"]), signing.qr_text(claim, public_url()),
            verify_url(snapshot["number"]), photo_for(snapshot), revoked)


def render_snapshot(snapshot: dict, revoked: bool = False) -> bytes:
    arguments = page_arguments(snapshot, revoked)
    with SUBSET_LOCK:
        return pdf.render_certificate(*arguments)


def render(certificate: Certificate) -> bytes:
    """The reprint: the issued file again, or — once revoked — the same page with the 已撤销 mark."""
    return render_snapshot(certificate.snapshot, revoked=is_marked_revoked(certificate))


def draw(canvas: Canvas, certificate: Certificate) -> None:
    """The same page as `render`, drawn onto a shared canvas (batch output: one page per certificate)."""
    pdf.draw_page(canvas, *page_arguments(certificate.snapshot, is_marked_revoked(certificate)))


def issued_sha256(snapshot: dict) -> str:
    """The SHA-256 stored at issue: of the file as issued, never with a status mark."""
    return hashlib.sha256(render_snapshot(snapshot)).hexdigest()
