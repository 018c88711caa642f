"""Historical certificates (存量证书): issued before the registry existed, imported by the administrator."""
import re
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import url_for

from registry.accounts.models import User
from registry.core.roles import Role
from registry.certificates.pdf import LAYOUT
from registry.certificates.models import Certificate, CertificateKind, CertificateStatus
from registry.certificates.numbering import (
    HENAN, NUMBER_FORMATS, SPECIAL_NUMBER, SPECIAL_PREFIX, normalize_number,
)
from registry.core.audit import record_event
from registry.core.changes import note_persons_changed
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.core.import_jobs import ImportJob, register_importer
from registry.core.imports import Importer, Outcome, RowError, RowOutcome
from registry.core.spreadsheets import Column, parse_date
from registry.organizations.models import Agency
from registry.people.masking import mask_document
from registry.people.person_rows import (
    COUNTY, COUNTY_ALIASES, DOCUMENT_ALIASES, DOCUMENT_NUMBER, DOCUMENT_TYPE, NAME, PersonRows, long_number_text,
    parse_document, parse_name, parse_rows, subject,
)
from registry.reference.models import LEVEL_LABELS, LEVEL_SPELLINGS, Occupation, SpecialItem

KIND, NUMBER, OCCUPATION_CODE, OCCUPATION_NAME = "证书种类", "证书编号", "职业编码", "职业名称"
LEVEL, ISSUED_ON, ISSUER = "等级", "发证日期", "发证机构"

HISTORY_COLUMNS = [
    Column("kind", KIND, aliases=("证书类型",)),
    Column("number", NUMBER, aliases=("证书号", "证书号码")),
    Column("document_type", DOCUMENT_TYPE, required=False),
    Column("document_number", DOCUMENT_NUMBER, aliases=DOCUMENT_ALIASES),
    Column("name", NAME, aliases=("持证人姓名",)),
    Column("county", COUNTY, aliases=COUNTY_ALIASES),
    Column("occupation_code", OCCUPATION_CODE, aliases=("职业代码",), required=False),
    Column("occupation_name", OCCUPATION_NAME, aliases=("职业（工种）",), required=False),
    Column("level", LEVEL, aliases=("技能等级", "职业资格等级"), required=False),
    Column("issued_on", ISSUED_ON, aliases=("发证时间",)),
    Column("issuer", ISSUER, aliases=("发证单位",)),
]
HISTORY_SAMPLE = [
    ["职业资格证书", "1541000000000001", "居民身份证", "11010519491231002X", "张三", "杞县", "6-18-02-04", "焊工",
     "三级/高级工", "2018-06-30", "开封市职业技能鉴定中心"],
    ["专项职业能力证书", "ZX-2019-0001", "居民身份证", "11010519491231002X", "张三", "杞县", "", "中式面点制作", "",
     "2019-05-20", "开封市职业技能鉴定中心"],
]

KINDS = {kind.label: kind for kind in CertificateKind} | {"其他": CertificateKind.OTHER}
OCCUPATION_CODE_FORMAT = re.compile(r"\d-\d{2}-\d{2}-\d{2}")
# The 16th character of a national-format number is its level digit (人社鉴发〔2019〕2号).
NUMBER_LEVEL_POSITION = 15
MAX_ISSUER = 120


LEVELS = LEVEL_SPELLINGS


def parse_kind(value: Any) -> CertificateKind:
    text = str(value or "").strip()
    if not text:
        raise RowError(KIND, "不能为空")
    if text not in KINDS:
        raise RowError(KIND, f"未知的证书种类：{text}（可填 {'、'.join(kind.label for kind in CertificateKind)}）")
    return KINDS[text]


def parse_number(kind: CertificateKind, value: Any) -> str:
    raw = long_number_text(value, NUMBER)
    if raw is None:
        raise RowError(NUMBER, "不能为空")
    try:
        number = normalize_number(kind, raw)
    except InvalidInput as error:
        raise RowError(NUMBER, error.message.split("：", 1)[-1] + _other_kind_hint(kind, raw)) from None
    if kind is CertificateKind.SPECIAL_PROFICIENCY and number.startswith(SPECIAL_PREFIX + HENAN) \
            and "-" not in number and not SPECIAL_NUMBER.fullmatch(number):
        # Numbered like this registry's own 专项 certificates: then it must be one in full (docs/GLOSSARY.md).
        raise RowError(NUMBER, f"{number} 以 ZX41 开头，应为本系统专项职业能力证书编号：18位，ZX41加站点序列码6位、"
                               f"年份2位、流水号6位")
    return number


def _other_kind_hint(kind: CertificateKind, raw: str) -> str:
    """A number that fits another kind's format: the 证书种类 column is the likelier mistake."""
    number = re.sub(r"\s+", "", raw).upper()
    for other, (pattern, _rule) in NUMBER_FORMATS.items():
        if other is not kind and pattern.fullmatch(number):
            return f"；该编号符合{other.label}的格式，请核对证书种类"
    return ""


def parse_level(kind: CertificateKind, number: str, value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value if value is not None else "").strip()
    if kind is CertificateKind.SPECIAL_PROFICIENCY:
        if text:
            raise RowError(LEVEL, "专项职业能力证书没有等级，应留空")
        return None
    if text.removesuffix("级") in ("0", "零"):
        raise RowError(LEVEL, f"等级码 {text} 不存在：等级只有 1–5（五级/初级工 至 一级/高级技师）")
    if text and text not in LEVELS:
        raise RowError(LEVEL, f"未知的等级：{text}（可填 1–5、三级、高级工 或 三级/高级工）")
    level = LEVELS.get(text)
    if kind is CertificateKind.SKILL_LEVEL:
        digit = number[NUMBER_LEVEL_POSITION]
        if digit not in "12345":
            raise RowError(NUMBER, f"第16位是等级码，应为1–5，实为“{digit}”")
        if level is not None and level != int(digit):
            raise RowError(LEVEL, f"{LEVEL_LABELS[level]} 与证书编号中的等级码 {digit}（{LEVEL_LABELS[int(digit)]}）不符")
        return int(digit)
    return level


def _check_number_year(fields: dict[str, Any]) -> None:
    """Positions 14–15 of a national-format number are its issue year (人社鉴发〔2019〕2号); positions 11–12
    of this registry's 专项 number."""
    number = fields["number"]
    if fields["kind"] is CertificateKind.SKILL_LEVEL:
        printed = number[13:15]
    elif fields["kind"] is CertificateKind.SPECIAL_PROFICIENCY and SPECIAL_NUMBER.fullmatch(number):
        printed = number[10:12]
    else:
        return
    expected = f"{fields['issued_on'].year % 100:02d}"
    if printed != expected:
        where = "第14–15位" if fields["kind"] is CertificateKind.SKILL_LEVEL else "第11–12位"
        raise RowError(NUMBER, f"{where}是发证年份，实为“{printed}”，与发证日期 {fields['issued_on'].isoformat()} "
                               f"不符（应为“{expected}”）")


def parse_issued_on(value: Any) -> date:
    if value is None:
        raise RowError(ISSUED_ON, "不能为空")
    try:
        issued_on = parse_date(value)
    except ValueError as error:
        raise RowError(ISSUED_ON, str(error)) from None
    if issued_on > date.today():
        raise RowError(ISSUED_ON, f"{issued_on.isoformat()} 晚于今天，不能是将来的日期")
    return issued_on


def parse_issuer(value: Any) -> str:
    issuer = str(value or "").strip()
    if not issuer:
        raise RowError(ISSUER, "不能为空（填写证书上印的发证机构名称）")
    if len(issuer) > MAX_ISSUER:
        raise RowError(ISSUER, f"最多{MAX_ISSUER}个字符")
    return issuer


class HistoryImporter(Importer):
    kind = "history"
    title = "导入历史证书"
    columns = HISTORY_COLUMNS

    def __init__(self, job: ImportJob):
        self.job = job
        self.actor = db.session.get(User, job.user_id)
        # Only the city decides which old certificates count: checked here too, not just by the view.
        if getattr(self.actor, "role", None) is not Role.ADMIN:
            raise Forbidden("only the administrator imports historical certificates")
        self.people = PersonRows()
        self.first_row_of_number: dict[tuple[CertificateKind, str], int] = {}
        self._occupations: dict[str, tuple[int, str, list[int]]] | None = None
        self._levels: dict[int, tuple[str, list[int]]] = {}
        self._agencies: dict[str, tuple[int, str]] | None = None
        self._items: dict[str, int] | None = None
        self.written = {"new_persons": 0, "certificates": 0}

    @property
    def target_url(self) -> str:
        return url_for("certificates.import_history")

    def _parse(self, row: int, values: dict[str, Any]) -> dict[str, Any]:
        kind = parse_kind(values["kind"])
        number = parse_number(kind, values["number"])
        document_type, document_number = parse_document(values)
        name = parse_name(values["name"])
        fields = {
            "kind": kind, "number": number, "document_type": document_type, "document_number": document_number,
            "name": name, "county_code": self.people.county(values["county"]),
            **self._subject(kind, values["occupation_code"], values["occupation_name"]),
            "level": parse_level(kind, number, values["level"]), "issued_on": parse_issued_on(values["issued_on"]),
            "issuer": parse_issuer(values["issuer"]), "digest": self.people.digest(document_type, document_number),
        }
        self._check_level_possible(fields)
        _check_number_year(fields)
        first = self.first_row_of_number.setdefault((kind, number), row)
        if first != row:
            raise RowError(NUMBER, f"与第 {first} 行证书编号重复")
        self.people.same_name(row, fields["digest"], name)
        return fields

    def _subject(self, kind: CertificateKind, code_value: Any, name_value: Any) -> dict[str, Any]:
        """The occupation; for a 专项职业能力 certificate, its item (no 大典 code), linked to the catalogue when
        the name is one of its items."""
        if kind is not CertificateKind.SPECIAL_PROFICIENCY:
            return self._occupation(code_value, name_value) | {"special_item_id": None}
        code, name = str(code_value or "").strip(), str(name_value or "").strip()
        if code:
            raise RowError(OCCUPATION_CODE, f"专项职业能力证书没有职业编码，应留空（项目名称填在“{OCCUPATION_NAME}”列），"
                                            f"实为 {code}")
        if not name:
            raise RowError(OCCUPATION_NAME, "专项职业能力证书须填写项目名称")
        if self._items is None:
            self._items = dict(db.session.execute(sa.select(SpecialItem.name, SpecialItem.id)).all())
        return {"occupation_id": None, "occupation_code": "", "occupation_name": name[:60],
                "special_item_id": self._items.get(name)}

    def _occupation(self, code_value: Any, name_value: Any) -> dict[str, Any]:
        code, name = str(code_value or "").strip(), str(name_value or "").strip()
        if not code:
            if not name:
                raise RowError(OCCUPATION_NAME, "未填职业编码时不能为空")
            return {"occupation_id": None, "occupation_code": "", "occupation_name": name[:60]}
        if not OCCUPATION_CODE_FORMAT.fullmatch(code):
            raise RowError(OCCUPATION_CODE, f"{code} 格式不正确，应为 d-dd-dd-dd，如 6-18-02-04")
        if self._occupations is None:
            # Ordered by edition, so a code found in several editions means the newest.
            rows = db.session.execute(sa.select(Occupation.code, Occupation.id, Occupation.name, Occupation.levels)
                                      .order_by(Occupation.edition))
            self._occupations = {row_code: (occupation_id, row_name, levels or [])
                                 for row_code, occupation_id, row_name, levels in rows}
            self._levels = {occupation_id: (row_name, levels) for occupation_id, row_name, levels
                            in self._occupations.values()}
        if code not in self._occupations:
            raise RowError(OCCUPATION_CODE, f"未知的职业编码：{code}")
        occupation_id, registered_name, _levels = self._occupations[code]
        # The name as printed wins: an old certificate may carry the occupation's former name.
        return {"occupation_id": occupation_id, "occupation_code": code, "occupation_name": name or registered_name}

    def _check_level_possible(self, fields: dict[str, Any]) -> None:
        """A level the occupation does not have (its levels as the administrator keeps them) never was awarded."""
        level, occupation_id = fields["level"], fields["occupation_id"]
        if level is None or occupation_id is None:
            return
        name, levels = self._levels[occupation_id]
        if not levels or level in levels:
            return
        allowed = f"（该职业可认定：{'、'.join(LEVEL_LABELS[value] for value in sorted(levels, reverse=True))}）"
        if fields["kind"] is CertificateKind.SKILL_LEVEL:
            raise RowError(NUMBER, f"第16位等级码 {level}（{LEVEL_LABELS[level]}）：{name} 没有该等级{allowed}")
        raise RowError(LEVEL, f"{name} 没有{LEVEL_LABELS[level]}{allowed}")

    def check_chunk(self, rows):
        parsed = parse_rows(rows, self._parse)
        clean = [fields for _row, fields in parsed if isinstance(fields, dict)]
        persons = self.people.find([fields["digest"] for fields in clean])
        holders = self._holders([fields["number"] for fields in clean])
        return [self._classify(row, fields, persons, holders) for row, fields in parsed]

    def _holders(self, numbers: list[str]) -> dict[tuple[CertificateKind, str], int]:
        rows = db.session.execute(sa.select(Certificate.kind, Certificate.number, Certificate.person_id)
                                  .where(Certificate.number.in_(numbers)))
        return {(kind, number): person_id for kind, number, person_id in rows}

    def _classify(self, row, fields, persons, holders) -> tuple[RowOutcome, Any]:
        if isinstance(fields, RowError):
            return fields.outcome(row), None
        who = subject(fields["document_type"], fields["document_number"], fields["name"])
        known = persons.get(fields["digest"])
        if known and (mismatch := self.people.name_mismatch(known, fields["name"])):
            return RowOutcome(row, Outcome.ERROR, mismatch.message, mismatch.column, who), None
        holder = holders.get((fields["kind"], fields["number"]))
        if holder is not None and known and holder == known.id:
            return RowOutcome(row, Outcome.SKIPPED, "该证书已导入，跳过", subject=who), None
        if holder is not None:
            return RowOutcome(row, Outcome.ERROR, f"{fields['kind'].label} {fields['number']} 已登记在另一人名下",
                              NUMBER, who), None
        if known is None:
            return RowOutcome(row, Outcome.NEW, f"新登记人员，导入{fields['kind'].label}", subject=who), fields
        return RowOutcome(row, Outcome.EXISTING, f"已登记人员，导入{fields['kind'].label}", subject=who), \
            fields | {"person_id": known.id, "cipher": known.document_cipher, "county_code": known.county_code}

    def write_chunk(self, payloads: list[dict]) -> None:
        # One holder may bring several certificates: register each new person once, with one cipher token
        # that the person and every snapshot share.
        new = {fields["digest"]: fields for fields in payloads if "person_id" not in fields}
        ciphers = {digest: self.people.encrypt(fields["document_number"]) for digest, fields in new.items()}
        ids = self.people.insert([{
            "document_type": fields["document_type"], "number": fields["document_number"], "digest": digest,
            "cipher": ciphers[digest], "name": fields["name"], "county_code": fields["county_code"],
        } for digest, fields in new.items()])
        db.session.execute(sa.insert(Certificate.__table__), [
            self._certificate(fields, fields.get("person_id") or ids[fields["digest"]],
                              fields.get("cipher") or ciphers[fields["digest"]])
            for fields in payloads
        ])
        note_persons_changed(fields.get("person_id") or ids[fields["digest"]] for fields in payloads)
        self.written["new_persons"] += len(new)
        self.written["certificates"] += len(payloads)

    def _certificate(self, fields: dict, person_id: int, cipher: str) -> dict:
        agency_id, filing_number = self._agency(fields["issuer"])
        return {
            "number": fields["number"], "kind": fields["kind"], "status": CertificateStatus.VALID,
            "person_id": person_id, "holder_county_code": fields["county_code"], "agency_id": agency_id,
            "occupation_id": fields["occupation_id"],
            "special_item_id": fields["special_item_id"],
            "level": fields["level"], "issued_on": fields["issued_on"], "is_imported": True,
            "snapshot": history_snapshot(fields, cipher, filing_number),
        }

    def _agency(self, issuer: str) -> tuple[int | None, str]:
        """A filed agency named exactly as printed; an issuer outside the registry leaves agency_id empty."""
        if self._agencies is None:
            rows = db.session.execute(sa.select(Agency.name, Agency.id, Agency.filing_number))
            self._agencies = {name: (agency_id, filing) for name, agency_id, filing in rows}
        return self._agencies.get(issuer, (None, ""))

    def finish(self, counts: dict[str, int]) -> None:
        record_event(self.actor, "import_history", "import_job", self.job.id, after={
            "file": self.job.filename, "sha256": self.job.file_sha256, **self.written,
            "skipped": counts.get("skipped", 0), "errors_skipped": counts.get("error", 0),
        })


def history_snapshot(fields: dict, cipher: str, filing_number: str) -> dict:
    """The same keys as an issued certificate's snapshot (registry.certificates.snapshot), from the row."""
    level = fields["level"]
    return {
        "layout": LAYOUT,
        "title": fields["kind"].label,
        "number": fields["number"],
        "name": fields["name"],
        # Not in the history file: the certificate printed elsewhere is not rebuilt from this snapshot.
        "gender": "",
        "document_type": fields["document_type"].label,
        "document_masked": mask_document(fields["document_type"], fields["document_number"]),
        "document_cipher": cipher,
        "occupation_name": fields["occupation_name"],
        "occupation_code": fields["occupation_code"],
        "work_type": "--",
        "level": level,
        "level_label": LEVEL_LABELS.get(level, ""),
        "agency_name": fields["issuer"],
        "agency_filing_number": filing_number,
        "agency_credit_code": "",
        "issued_on": fields["issued_on"].isoformat(),
        # Imported history was printed elsewhere: the registry holds no photo of it.
        "photo_sha256": None,
    }


register_importer(HistoryImporter.kind, HistoryImporter)
