"""The PDF digital signature (PAdES, PDF数字签名) of a certificate file: sign, and read a signature back.

Pure: no Flask, no database. The signature is an incremental update appended to the deterministic
rendering, so the unsigned file is a byte prefix of the signed one: the SHA-256 stored at issue stays the
hash of the unsigned rendering (docs/VERIFICATION.md), and each download is signed afresh at that moment.
pyHanko writes the signature (ETSI.CAdES.detached, SHA-256), which Acrobat, Foxit and poppler's `pdfsig` read.
"""
import asyncio
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

log = logging.getLogger(__name__)
FIELD_NAME = "登记系统签名"
REASON = "开封市职业技能证书登记系统签发"
LOCATION = "开封市"
DEVELOPMENT_YEARS = 10


def generate_development_chain(name: str) -> tuple[bytes, bytes]:
    """A private key and a chain (signer, then a root of its own) for development and tests: PEM bytes.

    ECDSA P-256: every PDF reader checks it and the key is made in a millisecond. Production configures a
    chain issued by a real certificate authority instead (docs/DEPLOYMENT.md).
    """
    root_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    start = datetime.now(timezone.utc) - timedelta(days=1)
    end = start + timedelta(days=365 * DEVELOPMENT_YEARS)
    root_name = _name(f"{name}（开发用根证书）")
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(root_key, hashes.SHA256()))
    signer = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(root_name)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(start).not_valid_after(end)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
              .sign(root_key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    chain_pem = signer.public_bytes(serialization.Encoding.PEM) + root.public_bytes(serialization.Encoding.PEM)
    return key_pem, chain_pem


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@cache
def load_signer(key_pem: bytes, chain_pem: bytes) -> signers.SimpleSigner:
    """The signer of a key and its chain (signer certificate first); raises ValueError when they do not fit."""
    chain = list(load_certs_from_pemder_data(chain_pem))
    if not chain:
        raise ValueError("证书链文件中没有证书")
    signer = signers.SimpleSigner(signing_cert=chain[0], signing_key=load_private_key_from_pemder_data(key_pem, None),
                                  cert_registry=SimpleCertificateStore.from_certs(chain))
    key_public = serialization.load_pem_private_key(key_pem, None).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key_public != chain[0].public_key.dump():
        raise ValueError("私钥与证书链第一张证书的公钥不符")
    return signer


def chain_of(chain_pem: bytes) -> list[asn1_x509.Certificate]:
    return list(load_certs_from_pemder_data(chain_pem))


def sign_pdf(data: bytes, signer: signers.SimpleSigner) -> bytes:
    """The file with the registry's signature appended; `data` is left untouched as the signed file's prefix."""
    metadata = signers.PdfSignatureMetadata(field_name=FIELD_NAME, subfilter=fields.SigSeedSubFilter.PADES,
                                            md_algorithm="sha256", reason=REASON, location=LOCATION)
    return outside_event_loop(signers.sign_pdf, IncrementalPdfFileWriter(io.BytesIO(data)), metadata,
                              signer=signer).getvalue()


def outside_event_loop(function, *args, **kwargs):
    """Call one of pyHanko's synchronous functions. Each starts an event loop of its own (asyncio.run), which
    fails in a thread already running one — a caller that drives Playwright's synchronous API, say — so such a
    caller has the call made on a short-lived thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


@dataclass(frozen=True)
class SignatureReport:
    """What the first signature of a file says: 有效 only when intact, covering the whole file, and made
    with a certificate of the registry's own chain."""

    intact: bool
    whole_file: bool
    ours: bool
    signer_name: str
    signed_at: str | None

    @property
    def is_valid(self) -> bool:
        return self.intact and self.whole_file and self.ours

    @property
    def wording(self) -> str:
        if not self.intact:
            return "PDF数字签名无效：签名后文件内容被改动过"
        if not self.whole_file:
            return "PDF数字签名之后文件又被追加修改，签名不覆盖整个文件"
        if not self.ours:
            return f"PDF数字签名不是本系统的签名（签名人：{self.signer_name}）"
        return f"PDF数字签名有效：由本系统签名（{self.signer_name}），签名后文件未被改动"


def inspect(data: bytes, chain: list[asn1_x509.Certificate]) -> SignatureReport | None:
    """The file's first signature checked against `chain` (the registry's, root last); None when unsigned.

    A stranger's file may break the parser in any way: that reads as a broken signature, not a 500.
    """
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_signatures
        if not embedded:
            return None
        signature = embedded[0]
        context = ValidationContext(trust_roots=[chain[-1]], other_certs=chain[:-1], allow_fetching=False)
        status = outside_event_loop(validate_pdf_signature, signature, context)
    except Exception as error:
        log.info("uploaded PDF signature could not be read: %s", error)
        return SignatureReport(False, False, False, "—", None)
    signer_cert = signature.signer_cert
    ours = signer_cert.dump() == chain[0].dump() and bool(status.trusted)
    signed_at = status.signer_reported_dt.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M") \
        if status.signer_reported_dt else None
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    return SignatureReport(bool(status.intact and status.valid), whole, ours,
                           signer_cert.subject.native.get("common_name", "—"), signed_at)


def unsigned_prefix(data: bytes) -> bytes:
    """The file before its first incremental update: for a signed certificate, the deterministic rendering."""
    end = data.find(b"%%EOF")
    if end < 0:
        return data
    # ReportLab ends its file with one newline after %%EOF; pyHanko's update starts right after it.
    end += len(b"%%EOF")
    if data[end:end + 2] == b"\r\n":
        return data[:end + 2]
    return data[:end + 1] if data[end:end + 1] in (b"\r", b"\n") else data[:end]
