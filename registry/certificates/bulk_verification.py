"""Employer bulk verification (批量核查): up to 1,000 (certificate number, name) pairs answered at once.

Read-only and kept nowhere: the upload is read in memory, answered, and the answer (an .xlsx signed with the
registry's Ed25519 key, the signature beside it) goes back to the client; no row, file or audit record
remains. A name is compared, never revealed: a wrong one answers 姓名不符 and nothing about the holder.
"""
import io
import re
import zipfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.certificates import signing
from registry.certificates.models import Certificate, CertificateKind
from registry.certificates.verification import CHINA, NAME_LENGTH, parse_number, same_name
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.spreadsheet_files import write_xlsx
from registry.core.spreadsheets import Column, SpreadsheetError, open_sheet
from registry.people.models import Person

MAX_ROWS = 1000
UPLOAD_MAX_BYTES = 2 * 1024 * 1024
# A list of many bad rows is shown in part: the first ones name the pattern, the count says how many.
ERRORS_SHOWN = 20
COLUMNS = [Column("number", "证书编号", ("证书号", "证书号码")), Column("name", "姓名", ("持证人姓名", "持证人"))]
ANSWERS = {"valid": "有效", "revoked": "已撤销", "superseded": "已被替代", "name_mismatch": "姓名不符",
           "not_found": "未找到"}
HEADERS = ["行号", "证书编号", "所填姓名", "核查结果"]
TITLE = "证书批量核查结果"
# A digit or an invisible character is never part of a name: most often the columns were swapped.
NOT_IN_A_NAME = re.compile(r"[0-9\x00-\x1f\x7f]")
IN_CHUNKS_OF = 500  # numbers per query: well under every database's limit on bound parameters


class BulkCheckError(ValueError):
    """The list cannot be checked as given; .messages name each bad row in Chinese. Nothing was checked."""

    def __init__(self, messages: list[str]):
        super().__init__("；".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Query:
    row: int  # the row number as the file shows it (or the item's place in a JSON list, from 1)
    number: str
    name: str


@dataclass(frozen=True)
class Answer:
    row: int
    number: str
    name: str
    outcome: str

    @property
    def label(self) -> str:
        return ANSWERS[self.outcome]

    def as_json(self) -> dict:
        return {"row": self.row, "number": self.number, "outcome": self.outcome, "result": self.label}


# --- reading the list -------------------------------------------------------------------------------------

def queries_from_upload(data: bytes, filename: str) -> list[Query]:
    """An .xlsx or CSV with the columns 证书编号 and 姓名 (any order, a title row above allowed)."""
    try:
        sheet = open_sheet(data, filename, COLUMNS, max_bytes=UPLOAD_MAX_BYTES, max_rows=MAX_ROWS)
        rows = list(sheet.rows())
    except SpreadsheetError as error:
        raise BulkCheckError([_upload_problem(error.message)]) from None
    return _checked([(number, row["number"], row["name"]) for number, row in rows], "行")


def queries_from_json(items: object) -> list[Query]:
    """A JSON list of {"number": …, "name": …}; the n-th item is called 第 n 条 in messages."""
    if not isinstance(items, list):
        raise BulkCheckError(["请求内容：rows 应为列表，每一项含 number（证书编号）和 name（姓名）"])
    if len(items) > MAX_ROWS:
        raise BulkCheckError([f"第 {MAX_ROWS + 1} 条：超过每次最多核查 {MAX_ROWS} 条的上限（共 {len(items)} 条），请分批提交"])
    triples = []
    for place, item in enumerate(items, 1):
        item = item if isinstance(item, dict) else {}
        triples.append((place, item.get("number"), item.get("name")))
    return _checked(triples, "条")


def _upload_problem(message: str) -> str:
    if message.startswith("行数过多：超过"):
        where = re.search(r"第 (\d+) 行是", message)
        row = f"第 {where[1]} 行：" if where else ""
        return f"{row}超过每次最多核查 {MAX_ROWS} 行的上限，请把名单分成多个文件"
    return message


def _checked(triples: Iterable[tuple[int, object, object]], unit: str) -> list[Query]:
    queries, errors = [], []
    for row, raw_number, raw_name in triples:
        where = f"第 {row} {unit}"
        number = name = None
        try:
            number = parse_number("" if raw_number is None else str(raw_number))
        except InvalidInput as error:
            errors.append(f"{where}：{error.message}")
        name_text = unicodedata.normalize("NFKC", "" if raw_name is None else str(raw_name)).strip()
        if not name_text:
            errors.append(f"{where}：姓名：请填写持证人姓名")
        elif len(name_text) > NAME_LENGTH:
            errors.append(f"{where}：姓名：最多 {NAME_LENGTH} 个字")
        elif NOT_IN_A_NAME.search(name_text):
            errors.append(f"{where}：姓名：含有数字或不可见字符，请检查是否与证书编号列填反")
        else:
            name = name_text
        if number and name:
            queries.append(Query(row, number, name))
    if errors:
        shown = errors[:ERRORS_SHOWN]
        if len(errors) > ERRORS_SHOWN:
            shown.append(f"另有 {len(errors) - ERRORS_SHOWN} 处错误未列出")
        raise BulkCheckError(shown)
    if not queries:
        raise BulkCheckError(["文件中没有数据行：请在“证书编号”“姓名”两列下逐行填写"])
    return queries


# --- answering ---------------------------------------------------------------------------------------------

# Only what an answer needs: the status and the printed name (imported history without a snapshot name
# falls back to the person's record). Skill-level certificates first, then the oldest, as a single check does.
_FACTS = (
    sa.select(Certificate.number, Certificate.status, Certificate.snapshot["name"].as_string().label("printed"),
              Person.name.label("recorded"))
    .join(Person, Person.id == Certificate.person_id)
    .where(Certificate.number.in_(sa.bindparam("numbers", expanding=True)))
    .order_by(Certificate.number, (Certificate.kind != CertificateKind.SKILL_LEVEL), Certificate.id)
)


def answer(queries: list[Query]) -> list[Answer]:
    numbers = sorted({query.number for query in queries})
    found: dict[str, tuple] = {}
    for start in range(0, len(numbers), IN_CHUNKS_OF):
        for row in db.session.execute(_FACTS, {"numbers": numbers[start:start + IN_CHUNKS_OF]}):
            found.setdefault(row.number, (row.status, row.printed or row.recorded))
    return [Answer(query.row, query.number, query.name, _outcome(query, found.get(query.number)))
            for query in queries]


def _outcome(query: Query, facts: tuple | None) -> str:
    if facts is None:
        return "not_found"
    status, printed = facts
    # A wrong name learns nothing of the certificate, not even whether it was revoked.
    if not same_name(query.name, printed):
        return "name_mismatch"
    return status.value


def counts(answers: list[Answer]) -> dict[str, int]:
    tally = dict.fromkeys(ANSWERS, 0)
    for item in answers:
        tally[item.outcome] += 1
    return tally


@dataclass(frozen=True)
class SignedResult:
    """The answer as a workbook, its detached Ed25519 signature (64 raw bytes) and when it was made."""

    workbook: bytes
    signature: bytes
    checked_at: datetime

    @property
    def filename(self) -> str:
        return f"{TITLE}_{self.checked_at:%Y%m%d%H%M%S}.xlsx"


def signed_workbook(private_key: Ed25519PrivateKey, answers: list[Answer],
                    now: datetime | None = None) -> SignedResult:
    checked_at = (now or datetime.now(CHINA)).astimezone(CHINA)
    rows = [[item.row, item.number, item.name, item.label] for item in answers]
    rows.append([])
    rows.append(["核查时间", checked_at.strftime("%Y-%m-%d %H:%M:%S"), "签名", "同名 .sig 文件（Ed25519）"])
    data = write_xlsx(HEADERS, rows, TITLE)
    return SignedResult(data, signing.sign_file(private_key, data), checked_at)


def zipped(result: SignedResult) -> bytes:
    """The page's download: the workbook and its signature side by side, as the signature file's name says."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(result.filename, result.workbook)
        archive.writestr(result.filename + ".sig", result.signature)
    return buffer.getvalue()
