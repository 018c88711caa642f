"""The frozen content of a certificate: every printed field, fixed at issue (人社鉴发〔2021〕1号)."""
from datetime import date

from registry.certificates.models import CertificateKind
from registry.certificates.pdf import LAYOUT, SPECIAL_TITLE
from registry.organizations.models import Agency
from registry.people.models import Person
from registry.people.photos import current_photo
from registry.reference.models import LEVEL_LABELS, Occupation, SpecialItem

TITLE = "职业技能等级证书"


def batch_snapshot(holder, batch, issued_on: date, number: str, photo_sha256: str | None) -> dict:
    """The snapshot of a certificate of `batch`: its occupation and level, or its 专项职业能力 item."""
    if batch.special_item is not None:
        return special_snapshot(holder, batch.special_item, batch.agency, issued_on, number, photo_sha256)
    return frozen_snapshot(holder, batch.occupation, batch.work_type, batch.level, batch.agency, issued_on, number,
                           photo_sha256)


def special_snapshot(person, item: SpecialItem, agency: Agency, issued_on: date, number: str,
                     photo_sha256: str | None) -> dict:
    """专项职业能力证书: the same keys as a skills-level certificate's, the item where the occupation goes
    (the lists and the API read one shape); no 工种, no level. The PDF and verify page label them as the item."""
    return frozen_snapshot(person, None, None, None, agency, issued_on, number, photo_sha256) | {
        "title": SPECIAL_TITLE, "occupation_name": item.name, "occupation_code": item.code,
        "level": None, "level_label": "",
    }


def batch_certificate_columns(batch) -> dict:
    """What a certificate of `batch` records besides its holder and number: kind, occupation, level or item,
    and the county where it was assessed (one of the two counties that supervise it)."""
    if batch.special_item_id is not None:
        return {"kind": CertificateKind.SPECIAL_PROFICIENCY, "occupation_id": None, "level": None,
                "special_item_id": batch.special_item_id, "batch_county_code": batch.county_code}
    return {"kind": CertificateKind.SKILL_LEVEL, "occupation_id": batch.occupation_id, "level": batch.level,
            "special_item_id": None, "batch_county_code": batch.county_code}


def snapshot_for(person: Person, occupation: Occupation, work_type: str | None, level: int, agency: Agency,
                 issued_on: date, number: str) -> dict:
    """Plain values only: later edits to the person, occupation or agency never reach an issued certificate.

    The full document number is printed on the certificate, so it is frozen too — encrypted, like every
    stored ID number; the masked form serves every page that shows the certificate.
    """
    photo = current_photo(person.id)
    return frozen_snapshot(person, occupation, work_type, level, agency, issued_on, number,
                           photo.sha256 if photo else None)


def frozen_snapshot(person, occupation: Occupation | None, work_type: str | None, level: int | None, agency: Agency,
                    issued_on: date, number: str, photo_sha256: str | None) -> dict:
    """`snapshot_for` with the holder's current photo already looked up, so a bulk issue can look up a whole
    batch's photos in one query (registry.certificates.bulk_issue). `person` needs only name, gender,
    document_type, document_masked and document_cipher: a Person, or a row of those columns."""
    gender = getattr(person, "gender", None)
    return {
        "layout": LAYOUT,
        "title": TITLE,
        "number": number,
        "name": person.name,
        "gender": gender.label if gender else "",
        "document_type": person.document_type.label,
        "document_masked": person.document_masked,
        "document_cipher": person.document_cipher,
        "occupation_name": occupation.name if occupation else "",
        "occupation_code": occupation.code if occupation else "",
        "work_type": work_type or "--",
        "level": level,
        "level_label": LEVEL_LABELS.get(level, ""),
        "agency_name": agency.name,
        "agency_filing_number": agency.filing_number,
        "agency_credit_code": agency.credit_code or "",
        "issued_on": issued_on.isoformat(),
        # The photo as it was at issue: a later upload never changes an issued certificate.
        "photo_sha256": photo_sha256,
    }
