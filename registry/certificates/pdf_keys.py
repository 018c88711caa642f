"""The registry's PDF signing key and certificate chain (PDF签名证书), from the files the configuration names.

Development and tests: when neither file exists, a key and a chain of the registry's own are generated
into them (logged as a warning, like the other generated keys). Production names both files
(REGISTRY_PDF_SIGNING_KEY_FILE, REGISTRY_PDF_SIGNING_CHAIN_FILE) and the app refuses to start without them
(registry.core.config.pdf_signing_files).
"""
import logging
import threading
from pathlib import Path

from flask import current_app

from registry.certificates import pdf_signature
from registry.certificates.pdf import REGISTRY_NAME

log = logging.getLogger(__name__)
_GENERATING = threading.Lock()


def _files() -> tuple[Path, Path]:
    return Path(current_app.config["PDF_SIGNING_KEY_FILE"]), Path(current_app.config["PDF_SIGNING_CHAIN_FILE"])


def _pem() -> tuple[bytes, bytes]:
    key_file, chain_file = _files()
    with _GENERATING:
        if not key_file.exists() and not chain_file.exists():
            key_pem, chain_pem = pdf_signature.generate_development_chain(REGISTRY_NAME)
            key_file.parent.mkdir(parents=True, exist_ok=True)
            chain_file.write_bytes(chain_pem)
            key_file.write_bytes(key_pem)
            key_file.chmod(0o600)
            log.warning("PDF signing key not configured: generated a development chain into %s. Production sets "
                        "REGISTRY_PDF_SIGNING_KEY_FILE and REGISTRY_PDF_SIGNING_CHAIN_FILE (docs/DEPLOYMENT.md).",
                        key_file.parent)
    return key_file.read_bytes(), chain_file.read_bytes()


def signer():
    """pyHanko's signer for the configured key and chain (cached per file content)."""
    return pdf_signature.load_signer(*_pem())


def chain() -> list:
    """The configured chain, signer first, root last: what an uploaded file's signature is checked against."""
    return pdf_signature.chain_of(_pem()[1])


def sign(data: bytes) -> bytes:
    return pdf_signature.sign_pdf(data, signer())
