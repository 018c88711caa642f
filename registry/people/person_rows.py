"""The person cells every import shares (证件类型, 证件号码, 姓名, 所在县区) and finding or registering them in bulk.

An import answers its uploader row by row, so what it says about a registered person is disclosure: about a
person outside the uploader's scope (registry/people/scopes.py) a dry run says exactly what it says about a
number nobody has (new, with the name the row gave), so guessing numbers and names against it confirms
nothing. The commit is a write with the uploader's name on it: there the person is enrolled (or scored) if
the row's name is the registered one, and the row refused, without the registered name, if it is not.
Every number outside the scope that an import looks up is counted (for the audit log) and charged to the
uploader's budget (PERSON_LOOKUP_LIMITS); past it those rows are refused.
"""
from collections import Counter
from typing import Any, NamedTuple

import sqlalchemy as sa

from registry.core.roles import Role
from registry.core import ratelimit
from registry.core.db import db
from registry.core.first_rows import FirstRows
from registry.core.imports import RowError
from registry.people.identity import (
    DocumentType, Gender, InvalidDocument, normalize_document, resident_id_facts,
)
from registry.people.masking import mask_document, mask_name
from registry.people.models import Person
from registry.people.operations import protector
from registry.people.scopes import readable_persons
from registry.reference.models import County

DOCUMENT_TYPE, DOCUMENT_NUMBER, NAME, COUNTY = "证件类型", "证件号码", "姓名", "所在县区"
DOCUMENT_ALIASES = ("身份证号", "身份证号码", "证件号")
COUNTY_ALIASES = ("县区", "户籍县区", "所在县区代码")

DOCUMENT_TYPES = {document_type.label: document_type for document_type in DocumentType} | {
    "身份证": DocumentType.RESIDENT_ID, "居住证": DocumentType.HMT_RESIDENCE_PERMIT}
# The number every downloadable template's sample row gives (GB 11643's own example): a row still holding it is
# the sample, copied into the data, and is refused rather than registering 张三.
SAMPLE_DOCUMENT_NUMBER = "11010519491231002X"
SAMPLE_ROW = "是模板中的示例号码：请删除示例行（或填写学员本人的证件号码）后再导入"
# Excel keeps 15 significant digits: a longer number typed into a number cell has already lost its tail.
EXCEL_DIGITS = 15


def long_number_text(value: Any, column: str) -> str | None:
    """The text of a cell holding a long identifier; refused when Excel has turned it into a number."""
    if isinstance(value, float) or (isinstance(value, int) and len(str(value)) > EXCEL_DIGITS):
        raise RowError(column, "被 Excel 存成了数字，末尾几位已丢失；请将该列设为“文本”后重新录入")
    text = "" if value is None else str(value).strip()
    return text or None


def parse_document(values: dict[str, Any]) -> tuple[DocumentType, str]:
    label = str(values.get("document_type") or "").strip()
    document_type = DOCUMENT_TYPES.get(label or "居民身份证")
    if document_type is None:
        raise RowError(DOCUMENT_TYPE, f"未知的证件类型：{label}（可填 {'、'.join(t.label for t in DocumentType)}）")
    raw = long_number_text(values.get("document_number"), DOCUMENT_NUMBER)
    if raw is None:
        raise RowError(DOCUMENT_NUMBER, "不能为空")
    if raw.upper() == SAMPLE_DOCUMENT_NUMBER:
        raise RowError(DOCUMENT_NUMBER, SAMPLE_ROW)
    try:
        return document_type, normalize_document(document_type, raw)
    except InvalidDocument as error:
        raise RowError(DOCUMENT_NUMBER, error.message) from None


def identity_facts(document_type: DocumentType, number: str) -> tuple[Gender | None, Any]:
    """Sex and birth date stated by a resident ID number parse_document returned; nothing for other documents."""
    if document_type is not DocumentType.RESIDENT_ID:
        return None, None
    return resident_id_facts(number)


def parse_name(value: Any) -> str:
    name = str(value or "").strip()
    if not name:
        raise RowError(NAME, "不能为空")
    if len(name) > 60:
        raise RowError(NAME, "最多60个字符")
    return name


def subject(document_type: DocumentType, number: str, name: str = "") -> str:
    """Who a row is about, masked, for the import report."""
    masked = mask_document(document_type, number)
    return f"{mask_name(name)} {masked}" if name else masked


class KnownPerson(NamedTuple):
    id: int
    name: str
    key_groups: int
    document_cipher: str
    county_code: str  # a certificate imported for the person records it (its county's list reads it)
    is_visible: bool = True  # within the uploader's scope: they may be told about this person


NAME_MISMATCH = "与该证件号码已登记的姓名不符，请核对证件号码和姓名"


class PersonRows:
    """One import's view of the persons its rows name: keyed hashes, repeats in the file, look-up, bulk insert."""

    def __init__(self, actor=None):
        """`actor` is the uploader; without one (the CLI, the demo) and for an administrator every person is
        in scope."""
        self.protector = protector()
        self.first_rows = FirstRows()
        self.first_name_of: dict[str, tuple[int, str]] = {}
        self._counties: dict[str, str] | None = None
        self.actor = actor
        self.scope = None if actor is None or actor.role is Role.ADMIN else readable_persons(actor)
        self.lookups: Counter[str] = Counter({"out_of_scope": 0, "out_of_scope_registered": 0, "refused": 0})
        self.refused: set[str] = set()

    def digest(self, document_type: DocumentType, number: str) -> str:
        return self.protector.lookup_hash(document_type.value, number)

    def claim(self, row: int, digest: str) -> None:
        """The same person twice in one file is an error on the later row, naming the first."""
        first = self.first_rows.claim(row, digest)
        if first != row:
            raise RowError(DOCUMENT_NUMBER, f"与第 {first} 行是同一人（证件号码重复）")

    def same_name(self, row: int, digest: str, name: str) -> None:
        """Where a person may appear on several rows (one per certificate), every row must give one name."""
        first, first_name = self.first_name_of.setdefault(digest, (row, name))
        if first_name != name:
            raise RowError(NAME, f"与第 {first} 行同一证件号码的姓名（{mask_name(first_name)}）不符")

    def county(self, value: Any, default: str | None = None) -> str:
        """'杞县' or '410221' → '410221'; retired codes and names resolve to their successor."""
        text = str(value or "").strip()
        if not text and default:
            return default
        if not text:
            raise RowError(COUNTY, "不能为空（填写县区名称或6位代码，如 杞县 或 410221）")
        if self._counties is None:
            self._counties = {}
            for county in db.session.scalars(sa.select(County).where(County.kind != "city")):
                self._counties[county.code] = self._counties[county.name] = county.current_code
        if text not in self._counties:
            raise RowError(COUNTY, f"未知的县区：{text}（填写县区名称或6位代码，如 杞县 或 410221）")
        return self._counties[text]

    def find(self, digests: list[str]) -> dict[str, KnownPerson]:
        """The registered persons these numbers name, each marked in or out of the uploader's scope; the
        numbers outside it are counted and charged to the uploader's budget (see the module's docstring)."""
        if not digests:
            return {}
        columns = [Person.document_hash, Person.id, Person.name, Person.key_groups, Person.document_cipher,
                   Person.county_code]
        if self.scope is not None:
            columns.append(self.scope)
        rows = db.session.execute(sa.select(*columns).where(Person.document_hash.in_(digests)))
        found = {digest: KnownPerson(*known[:5], bool(known[5]) if len(known) > 5 else True)
                 for digest, *known in rows}
        if self.scope is not None:
            self._charge([digest for digest in dict.fromkeys(digests)
                          if digest not in found or not found[digest].is_visible], found)
        return found

    def _charge(self, outside: list[str], found: dict[str, KnownPerson]) -> None:
        # Unknown numbers count too: a budget spent only on registered ones would itself tell them apart.
        self.lookups["out_of_scope"] += len(outside)
        self.lookups["out_of_scope_registered"] += sum(digest in found for digest in outside)
        if outside and not ratelimit.spend("PERSON_LOOKUP_LIMITS", f"user:{self.actor.id}", len(outside)):
            self.refused.update(outside)
            self.lookups["refused"] += len(outside)

    def refusal(self, digest: str) -> RowError | None:
        """Why a row goes unanswered: its number is outside the scope and the uploader's budget is spent."""
        if digest not in self.refused:
            return None
        return RowError(DOCUMENT_NUMBER, f"查询过于频繁：本账号查询本单位记录以外的证件号码已超过上限"
                                         f"（{ratelimit.described('PERSON_LOOKUP_LIMITS')}），请稍后再试")

    def answerable(self, known: KnownPerson | None, committing: bool) -> KnownPerson | None:
        """The person a row may be answered about: none, in a dry run, for a person outside the scope."""
        if known is not None and not known.is_visible and not committing:
            return None
        return known

    @property
    def new_note(self) -> str:
        """Added to "new person" answers where the scope is limited: such a row may name someone registered
        elsewhere, which only the commit finds out."""
        return "" if self.scope is None else "（如该证件号码已在他处登记，提交时核对姓名）"

    @staticmethod
    def name_mismatch(known: KnownPerson, name: str) -> RowError | None:
        if known.name == name:
            return None
        if not known.is_visible:  # at commit, about someone outside the scope: never their registered name
            return RowError(NAME, NAME_MISMATCH)
        return RowError(NAME, f"与该证件号码已登记的姓名（{mask_name(known.name)}）不符")

    def lookup_facts(self) -> dict[str, int]:
        """For the audit log: how many numbers outside the scope were looked up, never the numbers."""
        return dict(self.lookups)

    def insert(self, rows: list[dict]) -> dict[str, int]:
        """Register new persons with one Core executemany, not an ORM object per row: 6–7× faster
        (design/MEASURED.md). Each row needs document_type, number, digest, name and county_code; a
        `cipher` already made for the row is stored as is, so a snapshot can hold the very same token."""
        if not rows:
            return {}
        values = [self._values(f) for f in rows]
        table = Person.__table__
        result = db.session.execute(table.insert().returning(table.c.document_hash, table.c.id), values)
        return dict(result.all())

    def _values(self, f: dict) -> dict:
        # A roster row brings the facts it already derived; other schemas leave them to be derived here.
        gender, birth_on = (None, None) if "birth_on" in f else identity_facts(f["document_type"], f["number"])
        return {
            "document_type": f["document_type"], "document_cipher": f.get("cipher") or self.encrypt(f["number"]),
            "document_hash": f["digest"], "document_masked": mask_document(f["document_type"], f["number"]),
            "name": f["name"], "gender": f.get("gender") or gender, "birth_on": f.get("birth_on") or birth_on,
            "county_code": f["county_code"], "phone": f.get("phone"), "key_groups": f.get("key_groups", 0),
        }

    def encrypt(self, number: str) -> str:
        return self.protector.encrypt(number)


def cells_subject(values: dict[str, Any]) -> str:
    """Who a row is about as its own cells say (name and number masked), for an error found before the row
    could be read whole: the clerk finds the person in the file without counting rows. It repeats only what
    the uploader wrote, so it tells them nothing about anyone registered."""
    name = str(values.get("name") or "").strip()[:60]
    number = values.get("document_number")
    number = "" if number is None or isinstance(number, float) else str(number).strip()
    # An unknown type is masked as 其他 would be: more of the number hidden, never less.
    document_type = DOCUMENT_TYPES.get(str(values.get("document_type") or "").strip() or "居民身份证",
                                       DocumentType.OTHER)
    return " ".join(part for part in (mask_name(name), mask_document(document_type, number)) if part)


def parse_rows(rows: list[tuple[int, dict]], parse) -> list[tuple[int, dict | RowError]]:
    """Each row's parsed fields, or the RowError that names its first bad cell and whom the row names."""
    parsed: list[tuple[int, dict | RowError]] = []
    for row, values in rows:
        try:
            parsed.append((row, parse(row, values)))
        except RowError as error:
            error.subject = error.subject or cells_subject(values)
            parsed.append((row, error))
    return parsed
