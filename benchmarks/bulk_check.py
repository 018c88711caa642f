"""Employer bulk check: a 1,000-row list (every outcome) through the public page and the API, end to end.

"Ours" is the whole request in the app's test client: the upload read, every row checked against the
register, the answer written as .xlsx, signed and (for the page) zipped beside its signature. There is no
raw counterpart: the [Holders & employers] issue sets an absolute bound, 1,000 rows in at most 2 s on this
machine. The register holds DEFAULT_ROWS certificates of one batch, a fifth revoked and a fifth corrected;
the list repeats them, as a fifth each valid, revoked, superseded, wrongly named and unknown. Each answer is
compared with the expected outcome (BenchmarkFailed otherwise). Best of RUNS (or --repeat).
"""
import io
import zipfile
from collections.abc import Iterator

import openpyxl

from benchmarks.certificate_pdf import issue_certificates
from benchmarks.common import BenchmarkFailed, Options, Result, clocked, fresh_app
from registry.core.db import db

NAME = "bulk_check"
DEFAULT_ROWS = 200  # certificates in the register; the list always has 1,000 rows
LIST_ROWS = 1000
LIMIT_SECONDS = 2.0
RUNS = 3


def the_list(certificates) -> list[tuple[str, str, str]]:
    """(number, name, expected outcome): the register's certificates each in one role, cycled to 1,000 rows."""
    from registry.certificates.operations import correct_certificate, revoke_certificate

    roles = ("valid", "revoked", "superseded", "name_mismatch", "not_found")
    rows = []
    for index, certificate in enumerate(certificates):
        role = roles[index % 5]
        name = certificate.snapshot["name"]
        if role == "revoked":
            revoke_certificate(None, certificate, "基准测试撤销")
        elif role == "superseded":
            correct_certificate(None, certificate, "基准测试更正", name=name + "更")
        elif role == "name_mismatch":
            name = "错" + name[1:]
        number = f"S9999{index:017d}" if role == "not_found" else certificate.number
        rows.append((number, name, role))
    db.session.commit()
    return [rows[index % len(rows)] for index in range(LIST_ROWS)]


def workbook_of(rows) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["证书编号", "姓名"])
    for number, name, _expected in rows:
        workbook.active.append([number, name])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def best_of(work, runs: int):
    timings = [clocked(work) for _ in range(runs)]
    return min(timings, key=lambda timing: timing[1])


def run(options: Options) -> Iterator[Result]:
    from registry.certificates.bulk_verification import ANSWERS

    backend = options.backends[0]
    runs = max(options.repeat, RUNS)
    with fresh_app(backend, options.workdir, f"{backend.name}-bulk-check") as app:
        app.config["RATELIMIT_ENABLED"] = False
        certificates, _seconds = issue_certificates(options.rows or DEFAULT_ROWS)
        rows = the_list(certificates)
        upload = workbook_of(rows)
        client = app.test_client()

        def page():
            response = client.post("/verify/bulk", data={"file": (io.BytesIO(upload), "list.xlsx")},
                                   content_type="multipart/form-data")
            archive = zipfile.ZipFile(io.BytesIO(response.data))
            data = archive.read(next(name for name in archive.namelist() if name.endswith(".xlsx")))
            sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
            return [row[3] for row in sheet.iter_rows(min_row=2, max_row=LIST_ROWS + 1, values_only=True)]

        def api():
            body = {"rows": [{"number": number, "name": name} for number, name, _ in rows]}
            return [item["outcome"] for item in client.post("/api/v1/certificates/bulk-check", json=body).json["rows"]]

        answers, page_seconds, page_cpu = best_of(page, runs)
        if answers != [ANSWERS[expected] for *_rest, expected in rows]:
            raise BenchmarkFailed("the page's workbook answers a row wrongly")
        outcomes, api_seconds, api_cpu = best_of(api, runs)
        if outcomes != [expected for *_rest, expected in rows]:
            raise BenchmarkFailed("the API answers a row wrongly")
    for label, seconds, cpu in (("bulk check, page (.xlsx upload → signed zip)", page_seconds, page_cpu),
                                ("bulk check, API (JSON → JSON + signed .xlsx)", api_seconds, api_cpu)):
        verdict = "ok" if seconds <= LIMIT_SECONDS else "OVER"
        note = f"{seconds:.3f} s wall, {cpu:.3f} s CPU for {LIST_ROWS:,} rows (≤ {LIMIT_SECONDS:g} s: {verdict})"
        yield Result(label, backend.name, LIST_ROWS, seconds, note=note)
