"""Encryption at rest (document numbers, uploaded files) and keyed look-up hashes (PIPL Art. 28, 51)."""

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_DATA_KEY_BYTES = 32
# Distinct labels make the two sub-keys independent: leaking the look-up key reveals nothing
# about the encryption key, and the other way round.
_ENCRYPTION_INFO = b"registry.people.document-number.encryption.v1"
_LOOKUP_INFO = b"registry.people.document-number.lookup.v1"
# Files (uploaded rosters and results, full of ID numbers) get a key of their own: a file's token can never
# be passed off as a document number's, nor the other way round.
_FILE_INFO = b"registry.files.encryption.v1"


def generate_data_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(_DATA_KEY_BYTES)).decode("ascii")


def _decode_data_key(data_key: str) -> bytes:
    try:
        raw = base64.b64decode(data_key, altchars=b"-_", validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ValueError("data key must be url-safe base64 (use generate_data_key())") from None
    if len(raw) != _DATA_KEY_BYTES:
        raise ValueError(f"data key must decode to {_DATA_KEY_BYTES} bytes, got {len(raw)}")
    return raw


def _derive(master: bytes, info: bytes) -> bytes:
    # The master key is already uniformly random, so HKDF needs no salt here.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class DocumentProtector:
    """Encrypts document numbers and computes the hashes used to find them again."""

    def __init__(self, data_key: str):
        master = _decode_data_key(data_key)
        fernet_key = base64.urlsafe_b64encode(_derive(master, _ENCRYPTION_INFO))
        # MultiFernet so that a key rotation can later prepend a new key and still read old tokens.
        self._fernet = MultiFernet([Fernet(fernet_key)])
        self._file_fernet = MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(master, _FILE_INFO)))])
        self._lookup_key = _derive(master, _LOOKUP_INFO)

    def encrypt(self, number: str) -> str:
        return self._fernet.encrypt(number.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")

    def encrypt_file(self, data: bytes) -> bytes:
        return self._file_fernet.encrypt(data)

    def decrypt_file(self, token: bytes) -> bytes:
        """The file's bytes; cryptography.fernet.InvalidToken if it was encrypted under another data key."""
        return self._file_fernet.decrypt(token)

    def lookup_hash(self, document_type: str, number: str) -> str:
        # The type is part of the message so equal numbers of different document kinds never collide.
        message = f"{document_type}:{number}".encode("utf-8")
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()
