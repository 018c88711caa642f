"""Public verification (证书查询): what anyone may learn from a certificate number, a QR code or a PDF file.

Read-only. Names and document numbers leave here masked only; the encrypted number is never touched.
"""
import hashlib
import io
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader
from sqlalchemy.orm import aliased, joinedload

from registry.certificates import pdf_keys, pdf_signature, signing
from registry.certificates.issued_hash import issued_sha256_of
from registry.certificates.models import Certificate, CertificateKind, CertificateStatus
from registry.certificates.numbering import OPAQUE_NUMBER
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.plain_select import PlainSelect
from registry.organizations.models import Agency
from registry.people.masking import mask_name
from registry.reference.models import LEVEL_LABELS

log = logging.getLogger(__name__)

OUTCOMES = {
    "valid": "证书有效",
    "revoked": "证书已撤销",
    "superseded": "证书已更正，已被新证书替代",
    "not_found": "未找到该证书编号",
}
EXACT_WORDING = "与签发文件完全一致"
DIFFERENT_WORDING = "文件与签发的证书不一致"
UPLOAD_MAX_BYTES = 5 * 1024 * 1024
NAME_LENGTH = 60  # the longest holder name a check takes (page and API)
# A certificate is one page; a long document is read no further than this.
PAGES_READ = 3
# Certificates without a stored hash (registry.certificates.issued_hash) rendered for one upload, at most.
RENDERED_AT_MOST = 2
CHINA = timezone(timedelta(hours=8))

# (key, label) in the order the certificate prints them; the document number and name only ever masked.
PRINTED_FIELDS = (
    ("title", "证书名称"), ("name_masked", "姓名"), ("document_type", "证件类型"), ("document_masked", "证件号码"),
    ("occupation_name", "职业名称"), ("work_type", "工种/职业方向"), ("level_label", "职业技能等级"),
    ("number", "证书编号"), ("agency_name", "评价机构"), ("issued_on", "发证日期"),
)
# 专项职业能力证书 print their item where the occupation goes, and have no 工种 or level.
SPECIAL_PRINTED_FIELDS = (
    ("title", "证书名称"), ("name_masked", "姓名"), ("document_type", "证件类型"), ("document_masked", "证件号码"),
    ("occupation_name", "专项职业能力"), ("occupation_code", "项目编码"), ("number", "证书编号"),
    ("agency_name", "评价机构"), ("issued_on", "发证日期"),
)
VERIFY_PATH = re.compile(r"/verify/([A-Za-z0-9-]{4,40})")
SKILL_NUMBER = re.compile(r"(?<![A-Z0-9])[YS][0-9]{21}(?![0-9])")


def parse_number(raw: str) -> str:
    """What a visitor typed, tolerantly: full-width characters, spaces and lower case are all accepted."""
    number = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(raw or ""))).upper()
    pattern, rule = OPAQUE_NUMBER
    if not number:
        raise InvalidInput("number", "证书编号：请填写证书编号")
    if not pattern.fullmatch(number):
        raise InvalidInput("number", f"证书编号：格式不正确，{rule}")
    return number


def same_name(typed: str, printed: str) -> bool:
    def plain(text: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))

    return plain(typed) == plain(printed)


def printed_fields(certificate: Certificate) -> dict[str, str]:
    """Every printed field, from the frozen snapshot; imported history without one uses the record."""
    snapshot = certificate.snapshot or {}
    if not snapshot.get("name"):
        person = certificate.person
        snapshot = snapshot | {"name": person.name, "document_type": person.document_type.label,
                               "document_masked": person.document_masked}
    level = snapshot.get("level", certificate.level)
    return {
        "title": snapshot.get("title") or certificate.kind.label,
        "kind": certificate.kind.label,
        "number": certificate.number,
        "name_masked": mask_name(snapshot["name"]),
        "document_type": snapshot.get("document_type") or "—",
        "document_masked": snapshot.get("document_masked") or "—",
        # The record is read only where the snapshot is silent: each related row read is a query per request.
        "occupation_name": snapshot.get("occupation_name") or _on_record(certificate, "occupation", "name"),
        "occupation_code": snapshot.get("occupation_code") or _on_record(certificate, "occupation", "code"),
        "work_type": snapshot.get("work_type") or "--",
        "level": level,
        "level_label": snapshot.get("level_label") or LEVEL_LABELS.get(level, "—"),
        "agency_name": snapshot.get("agency_name") or _on_record(certificate, "agency", "name"),
        "agency_filing_number": snapshot.get("agency_filing_number")
        or _on_record(certificate, "agency", "filing_number"),
        "issued_on": snapshot.get("issued_on") or certificate.issued_on.isoformat(),
    }


def _on_record(certificate: Certificate, relation: str, attribute: str) -> str:
    related = getattr(certificate, relation)
    return getattr(related, attribute) if related else "—"


@dataclass(frozen=True)
class Verdict:
    """The answer to "is certificate <number> genuine?", with everything the public page shows."""

    number: str
    outcome: str
    certificate: "Certificate | CertificateFacts | None" = None
    # None when no name was given.
    name_matches: bool | None = None

    @property
    def wording(self) -> str:
        return OUTCOMES[self.outcome]

    @cached_property
    def fields(self) -> dict[str, str]:
        return printed_fields(self.certificate) if self.certificate else {}

    @property
    def labelled_fields(self) -> list[tuple[str, str]]:
        fields = self.fields
        if not fields:
            return []
        special = self.certificate.kind is CertificateKind.SPECIAL_PROFICIENCY
        return [(label, fields[key]) for key, label in (SPECIAL_PRINTED_FIELDS if special else PRINTED_FIELDS)]

    @property
    def agency(self) -> dict | None:
        agency = self.certificate.agency if self.certificate else None
        if agency is None:
            return None
        return {"name": agency.name, "filing_number": agency.filing_number,
                "filed_on": agency.filed_on.isoformat(), "status": agency.status.value,
                "status_label": agency.status.label}

    @property
    def revocation(self) -> dict | None:
        if self.outcome != "revoked":
            return None
        revoked_at = self.certificate.revoked_at
        # SQLite hands back naive UTC; the public reads a date in China's time.
        aware = revoked_at if revoked_at.tzinfo else revoked_at.replace(tzinfo=timezone.utc)
        return {"revoked_on": aware.astimezone(CHINA).date().isoformat(),
                "reason": self.certificate.revocation_reason}

    @property
    def replacement_number(self) -> str | None:
        if self.outcome != "superseded":
            return None
        return self.certificate.superseded_by.number

    def as_json(self) -> dict:
        fields = self.fields
        return {
            "number": self.number, "outcome": self.outcome, "message": self.wording,
            "status": self.certificate.status.value if self.certificate else None,
            "certificate": fields or None,
            "agency": self.agency, "revocation": self.revocation,
            "replacement": {"number": self.replacement_number} if self.replacement_number else None,
            "name_matches": self.name_matches,
        }


# The same string may in theory number two kinds; the national skill certificate wins, then the oldest.
# Every verdict shows the agency, so it comes in the same query; the replacement (rare) loads on demand.
# Built once: building the statement took as long as running it, on the public API's busiest path.
BY_NUMBER = (
    sa.select(Certificate).where(Certificate.number == sa.bindparam("number"))
    .options(joinedload(Certificate.agency))
    .order_by((Certificate.kind != CertificateKind.SKILL_LEVEL), Certificate.id).limit(1)
)


def find_certificate(number: str) -> Certificate | None:
    return db.session.scalars(BY_NUMBER, {"number": number}).first()


@dataclass(frozen=True)
class CertificateFacts:
    """What a verdict reads of an issued certificate, from one row: the attributes of Certificate it uses."""

    id: int
    number: str
    kind: CertificateKind
    status: CertificateStatus
    level: int | None
    issued_on: date
    snapshot: dict
    revoked_at: datetime | None
    revocation_reason: str | None
    agency: SimpleNamespace | None
    superseded_by: SimpleNamespace | None


_REPLACEMENT = aliased(Certificate)
# The public API's busiest path: building two ORM objects took most of its time (docs/BENCHMARKS.md,
# verify_api), so a verdict on an issued certificate reads one plain row instead, on a plain cursor.
FACTS_BY_NUMBER = PlainSelect(
    sa.select(Certificate.id, Certificate.number, Certificate.kind, Certificate.status, Certificate.level, Certificate.issued_on,
              Certificate.snapshot, Certificate.revoked_at, Certificate.revocation_reason,
              Agency.name.label("agency_name"), Agency.filing_number, Agency.filed_on,
              Agency.status.label("agency_status"), _REPLACEMENT.number.label("replacement_number"))
    .outerjoin(Agency, Agency.id == Certificate.agency_id)
    .outerjoin(_REPLACEMENT, _REPLACEMENT.id == Certificate.superseded_by_id)
    .where(Certificate.number == sa.bindparam("number"))
    .order_by((Certificate.kind != CertificateKind.SKILL_LEVEL), Certificate.id).limit(1)
)


def _facts(row) -> CertificateFacts:
    agency = None
    if row.agency_name is not None:
        agency = SimpleNamespace(name=row.agency_name, filing_number=row.filing_number, filed_on=row.filed_on,
                                 status=row.agency_status)
    replacement = SimpleNamespace(number=row.replacement_number) if row.replacement_number else None
    return CertificateFacts(row.id, row.number, row.kind, row.status, row.level, row.issued_on, row.snapshot or {},
                            row.revoked_at, row.revocation_reason, agency, replacement)


def _facts_row(number: str):
    # Committed data only, on a connection of its own (registry/core/plain_select.py): every caller is a
    # public page or call that writes nothing before it verifies.
    return FACTS_BY_NUMBER.first(db.engine, number=number)


def verify_number(number: str, name: str | None = None) -> Verdict:
    """Raises InvalidInput for a malformed number; an unknown one is the `not_found` outcome."""
    number = parse_number(number)
    row = _facts_row(number)
    if row is None:
        return Verdict(number, "not_found")
    # Imported history has no frozen snapshot: its record (person, occupation) fills the gaps.
    certificate = _facts(row) if (row.snapshot or {}).get("name") else find_certificate(number)
    name_matches = None
    if name and name.strip():
        printed = (certificate.snapshot or {}).get("name") or certificate.person.name
        name_matches = same_name(name, printed)
    return Verdict(number, certificate.status.value, certificate, name_matches)


# --- the QR code's claim --------------------------------------------------------------------------------

QR_FIELDS = ("d", "l", "o", "n", "s")


def check_qr(public_key: Ed25519PublicKey, verdict: Verdict, args: Mapping[str, str]) -> bool | None:
    """None when the address carries no QR claim; otherwise whether it is ours and says what the record says.

    A claim with a good signature that disagrees with the record still fails: only the pair counts.
    """
    if not any(key in args for key in QR_FIELDS):
        return None
    claim = signing.QrClaim(verdict.number, *(args.get(key, "") for key in QR_FIELDS))
    if not signing.is_authentic(public_key, claim) or verdict.certificate is None:
        return False
    snapshot = verdict.certificate.snapshot or {}
    if not snapshot.get("name"):
        return False
    return signing.claim_for(snapshot, claim.signature) == claim


QR_FIELD_LABELS = {"issued_on": "发证日期", "level": "等级", "occupation_code": "职业编码",
                   "masked_name": "姓名"}


def qr_differences(verdict: Verdict, args: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(field, what the QR says, what the record says) for each signed field the QR states differently.
    Empty when they agree: then the signature itself is what is not genuine."""
    if verdict.certificate is None or not (verdict.certificate.snapshot or {}).get("name"):
        return []
    claim = signing.QrClaim(verdict.number, *(args.get(key, "") for key in QR_FIELDS))
    record = signing.claim_for(verdict.certificate.snapshot)
    return [(label, getattr(claim, field), getattr(record, field)) for field, label in QR_FIELD_LABELS.items()
            if getattr(claim, field) != getattr(record, field)]


# --- a visitor's PDF ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UploadVerdict:
    sha256: str
    is_exact: bool
    certificate: Certificate | None
    # The first certificate number read from the file, registered or not.
    claimed_number: str | None
    # The file's PDF signature (PAdES), None when it has none (files downloaded before files were signed).
    signature: pdf_signature.SignatureReport | None = None

    @property
    def outcome(self) -> str:
        if self.is_exact:
            return "exact"
        return "different" if self.certificate else "unknown"

    @property
    def wording(self) -> str:
        if self.is_exact:
            return EXACT_WORDING
        if self.certificate:
            return f"{DIFFERENT_WORDING}：文件声称是证书 {self.certificate.number}，但内容与签发文件不同"
        if self.claimed_number:
            return f"{DIFFERENT_WORDING}：文件中的证书编号 {self.claimed_number} 未在本系统登记"
        return f"{DIFFERENT_WORDING}：文件中没有找到本系统签发的证书编号"


def check_upload(data: bytes, max_bytes: int = UPLOAD_MAX_BYTES) -> None:
    if not data:
        raise InvalidInput("file", "文件：请选择要上传的 PDF 文件")
    if len(data) > max_bytes:
        raise InvalidInput("file", f"文件：大小 {len(data) / 1048576:.1f} MB，超过 {max_bytes / 1048576:g} MB 上限")
    # The header may follow a little junk (PDF 1.7 §7.5.2 readers accept it within the first 1024 bytes).
    if b"%PDF-" not in data[:1024]:
        raise InvalidInput("file", "文件：上传的文件不是 PDF")


def verify_upload(data: bytes, max_bytes: int = UPLOAD_MAX_BYTES) -> UploadVerdict:
    """Byte for byte against the SHA-256 stored at issue; else name the certificate the file claims to be.

    The stored hash is of the unsigned rendering. A file with the registry's valid signature over the whole
    of it is compared by what it signs: the unsigned rendering it begins with (docs/VERIFICATION.md).
    """
    check_upload(data, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    signature = pdf_signature.inspect(data, pdf_keys.chain()) if b"/ByteRange" in data else None
    digests = {digest}
    if signature is not None and signature.is_valid:
        digests.add(hashlib.sha256(pdf_signature.unsigned_prefix(data)).hexdigest())
    claimed = claimed_numbers(data)
    registered = [certificate for number in claimed if (certificate := find_certificate(number))]
    exact = next((certificate for certificate in registered if certificate.pdf_sha256 in digests), None)
    if exact is None:
        # Issued in bulk and never rendered: no stored hash yet, so the file as issued is rendered to compare —
        # for the first few numbers only, or one upload naming hundreds would cost seconds of rendering.
        unrendered = [certificate for certificate in registered if certificate.pdf_sha256 is None]
        exact = next((certificate for certificate in unrendered[:RENDERED_AT_MOST]
                      if issued_sha256_of(certificate) in digests), None)
    if exact is None and not registered:
        # Unreadable text still may be an issued file; the hash alone then finds it (only a stored one).
        exact = db.session.scalars(
            sa.select(Certificate).where(Certificate.pdf_sha256.in_(sorted(digests))).limit(1)).first()
    if exact is not None:
        return UploadVerdict(digest, True, exact, exact.number, signature)
    return UploadVerdict(digest, False, next(iter(registered), None), next(iter(claimed), None), signature)


def claimed_numbers(data: bytes) -> list[str]:
    """Certificate numbers the file names: the printed verify address first, then national-format ones."""
    text = pdf_text(data)
    found = [match.upper() for match in VERIFY_PATH.findall(text)] + SKILL_NUMBER.findall(text.upper())
    return list(dict.fromkeys(found))


def pdf_text(data: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages[:PAGES_READ]]
        title = (reader.metadata or {}).get("/Title") or ""
    # A stranger's file can break a PDF parser in any way: that is an answer ("no number found"), not a 500.
    except Exception as error:
        log.info("uploaded PDF could not be read: %s", error)
        return ""
    return "\n".join([*pages, str(title)])
