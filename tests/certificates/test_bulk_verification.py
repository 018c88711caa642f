"""Employer bulk verification: every outcome over 1,000 rows, signed answer, bad lists named by row, nothing kept,
names never revealed, the row budget."""
import base64
import io
import zipfile
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from registry.assessment.operations import approve_batch, record_result
from registry.certificates import bulk_verification as bulk
from registry.certificates import signing
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.certificates.rendering import signing_key
from registry.core.db import db
from tests.helpers import xlsx_bytes

MISSING = "S000041900001254999999"


@pytest.fixture
def issued(make_batch, make_person):
    """Four certificates: valid, revoked, superseded (and its valid replacement)."""
    batch = make_batch()
    for name in ("张三明", "李四光", "王五强"):
        record_result(None, batch, make_person(name=name), theory=85, practical=90)
    approve_batch(None, batch)
    by_name = {certificate.snapshot["name"]: certificate for certificate in issue_batch(None, batch, date(2025, 6, 1))}
    valid, revoked, corrected = by_name["张三明"], by_name["李四光"], by_name["王五强"]
    revoke_certificate(None, revoked, "冒名顶替参加认定")
    correct_certificate(None, corrected, "姓名录入错误", name="王五刚")
    db.session.commit()
    return {"valid": (valid.number, "张三明"), "revoked": (revoked.number, "李四光"),
            "superseded": (corrected.number, "王五强"),
            # One character different from the printed name.
            "name_mismatch": (valid.number, "张三民"), "not_found": (MISSING, "赵六")}


def row_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                for name, table in db.metadata.tables.items()}


def thousand_rows(issued) -> list[tuple[str, str, str]]:
    """(number, name, expected outcome) × 1,000, every outcome 200 times, interleaved."""
    outcomes = list(bulk.ANSWERS)
    return [(*issued[outcomes[index % 5]], outcomes[index % 5]) for index in range(bulk.MAX_ROWS)]


def upload(client, data: bytes, filename: str = "名单.xlsx"):
    return client.post("/verify/bulk", data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def unzip(response) -> tuple[bytes, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    workbook_name = next(name for name in names if name.endswith(".xlsx"))
    assert workbook_name + ".sig" in names
    return archive.read(workbook_name), archive.read(workbook_name + ".sig")


def test_a_thousand_row_upload_answers_each_outcome_in_a_signed_workbook(client, issued):
    rows = thousand_rows(issued)
    before = row_counts()
    response = upload(client, xlsx_bytes([row[:2] for row in rows], ["证书编号", "姓名"]))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    workbook, signature = unzip(response)
    assert signing.is_file_authentic(signing_key().public_key(), workbook, signature)
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    answered = [row for row in sheet.iter_rows(min_row=2, values_only=True) if isinstance(row[0], int)]
    assert [row[3] for row in answered] == [bulk.ANSWERS[row[2]] for row in rows]
    assert [row[0] for row in answered] == list(range(2, bulk.MAX_ROWS + 2))
    # The answer shows what was typed, never the printed name behind a wrong one.
    text = " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)
    assert "张三民" in text and "张三明" in text and "王五刚" not in text
    assert row_counts() == before  # nothing stored, not even an audit record


def test_the_api_answers_a_json_list_with_the_same_outcomes_and_a_checkable_signature(client, issued):
    rows = thousand_rows(issued)
    response = client.post("/api/v1/certificates/bulk-check",
                           json={"rows": [{"number": number, "name": name} for number, name, _ in rows]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [item["outcome"] for item in body["rows"]] == [row[2] for row in rows]
    assert body["counts"] == dict.fromkeys(bulk.ANSWERS, 200)
    workbook = base64.b64decode(body["workbook"]["content_base64"])
    signature = base64.b64decode(body["workbook"]["signature_base64"])
    public_key = signing.load_public_key(client.get("/api/v1/signing-key").get_data(as_text=True))
    assert signing.is_file_authentic(public_key, workbook, signature)
    assert not signing.is_file_authentic(public_key, workbook[:-1] + bytes([workbook[-1] ^ 1]), signature)
    assert "王五刚" not in response.get_data(as_text=True)


def test_the_api_takes_an_uploaded_csv_too(client, issued):
    csv = f"证书编号,姓名\n{issued['valid'][0]},张三明\n{MISSING},赵六\n".encode()
    response = client.post("/api/v1/certificates/bulk-check", data={"file": (io.BytesIO(csv), "list.csv")},
                           content_type="multipart/form-data")
    assert [item["result"] for item in response.get_json()["rows"]] == ["有效", "未找到"]


def test_1001_rows_are_refused_naming_the_row(client, issued):
    rows = [issued["valid"]] * (bulk.MAX_ROWS + 1)
    response = upload(client, xlsx_bytes(rows, ["证书编号", "姓名"]))
    assert response.status_code == 400
    assert "第 1002 行：超过每次最多核查 1000 行的上限" in response.get_data(as_text=True)
    api = client.post("/api/v1/certificates/bulk-check",
                      json={"rows": [{"number": number, "name": name} for number, name in rows]})
    assert api.status_code == 400 and "第 1001 条" in api.get_json()["message"]


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"%PDF-1.7 not a list", "名单.xlsx", "文件不是 Excel (.xlsx) 或 CSV 表格"),
    ("证书号码,电话\nS000041800001254000001,123\n".encode(), "名单.csv", "缺少列：姓名"),
    ("证书编号,姓名\nS000/418,张三\n".encode(), "名单.csv", "第 2 行：证书编号：格式不正确"),
    ("证书编号,姓名\nS000041800001254000001,\n".encode(), "名单.csv", "第 2 行：姓名：请填写持证人姓名"),
    ("姓名,证书编号\n张三,S000041800001254000001\n13800138000,S000041800001254000001\n".encode(), "名单.csv",
     "第 3 行：姓名：含有数字或不可见字符"),
    ("证书编号,姓名\n".encode(), "名单.csv", "文件中没有数据行"),
])
def test_bad_lists_are_refused_in_chinese_naming_the_row_and_nothing_is_kept(client, issued, data, filename, message):
    before = row_counts()
    response = upload(client, data, filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts() == before


def test_an_empty_upload_asks_for_a_file(client):
    response = client.post("/verify/bulk", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "请选择要上传的名单" in response.get_data(as_text=True)


def test_the_page_and_its_template_need_no_sign_in(client):
    page = client.get("/verify/bulk")
    assert page.status_code == 200 and "批量核查" in page.get_data(as_text=True)
    template = client.get("/verify/bulk/template.xlsx")
    header = next(openpyxl.load_workbook(io.BytesIO(template.data)).active.iter_rows(values_only=True))
    assert header[:2] == ("证书编号", "姓名")


def test_rows_are_charged_to_the_clients_budget(client, app, issued):
    app.config["VERIFY_BULK_ROW_LIMITS"] = "5/hour"
    rows = {"rows": [{"number": issued["valid"][0], "name": "张三明"}] * 3}
    assert client.post("/api/v1/certificates/bulk-check", json=rows).status_code == 200
    refused = client.post("/api/v1/certificates/bulk-check", json=rows)
    assert refused.status_code == 429 and refused.get_json()["error"] == "rate_limited"
    page = upload(client, xlsx_bytes([issued["valid"]], ["证书编号", "姓名"]))
    assert page.status_code == 429 and "查询过于频繁" in page.get_data(as_text=True)
    other = app.test_client().post("/api/v1/certificates/bulk-check", json=rows,
                                   environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200
