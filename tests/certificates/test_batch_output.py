"""Batch output: one multi-page PDF, a ZIP of the single PDFs, and the background build for large batches."""
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import time
import zipfile
from datetime import date

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.certificates import batch_output, pdf_keys, pdf_signature, rendering
from registry.certificates.operations import correct_certificate, issue_batch, revoke_certificate
from registry.certificates.pdf_signature import unsigned_prefix
from registry.core import background_files
from registry.core.db import db

ISSUED_ON = date(2025, 6, 1)


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def issued_batch(approved_batch):
    def factory(passed: int = 3, **values):
        batch = approved_batch(passed=passed, failed=1, **values)
        issue_batch(None, batch, ISSUED_ON)
        db.session.commit()
        return batch

    return factory


def page_count(data: bytes, tmp_path) -> int:
    path = tmp_path / "batch.pdf"
    path.write_bytes(data)
    tool = shutil.which("pdfinfo") or pytest.fail("pdfinfo is missing: scripts/system-deps installs it")
    info = subprocess.run([tool, str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def test_a_batch_prints_all_but_superseded_certificates_in_number_order(issued_batch, make_user):
    batch = issued_batch(passed=4)
    first, second, *_ = batch_output.batch_certificates(batch.id)
    revoke_certificate(make_user(Role.ADMIN), first, "考试作弊")
    replacement = correct_certificate(None, second, "姓名录入错误", name="张更正", issued_on=ISSUED_ON)
    db.session.commit()
    printed = batch_output.batch_certificates(batch.id)
    assert [c.number for c in printed] == sorted(c.number for c in printed)
    assert second not in printed and replacement in printed and first in printed and len(printed) == 4


def test_the_multi_page_pdf_has_one_page_per_certificate(issued_batch, tmp_path):
    batch = issued_batch(passed=5)
    certificates = batch_output.batch_certificates(batch.id)
    data = batch_output.build_in_memory(certificates, "pdf")
    assert page_count(data, tmp_path) == 5
    assert data == batch_output.build_in_memory(certificates, "pdf")


def test_zip_entries_are_the_single_certificate_files(issued_batch, make_user):
    batch = issued_batch(passed=3)
    certificates = batch_output.batch_certificates(batch.id)
    revoke_certificate(make_user(Role.ADMIN), certificates[0], "考试作弊")
    db.session.commit()
    data = batch_output.build_in_memory(certificates, "zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [f"{c.number}.pdf" for c in certificates]
        for certificate in certificates:
            entry = archive.read(f"{certificate.number}.pdf")
            assert unsigned_prefix(entry) == rendering.render(certificate)
            report = pdf_signature.inspect(entry, pdf_keys.chain())
            assert report is not None and report.intact and report.whole_file and report.ours


def export_of(batch, fmt: str = "pdf") -> batch_output.Export:
    return batch_output.export_for(batch.id, batch_output.batch_certificates(batch.id), fmt)


def test_a_background_build_leaves_the_file_and_no_progress(issued_batch, tmp_path):
    batch = issued_batch(passed=3)
    export = export_of(batch, "zip")
    assert batch_output.status_of(export) == {"state": "absent"}
    assert batch_output.claim(export, 3)
    assert batch_output.status_of(export) == {"state": "running", "done": 0, "total": 3}
    assert not batch_output.claim(export, 3), "a second request must not start a second build"
    batch_output.build_export.enqueue(export.batch_id, export.fmt, export.key)
    assert batch_output.status_of(export) == {"state": "ready"}
    assert not export.progress_path.exists() and not list(export.path.parent.glob("*.part"))
    with zipfile.ZipFile(export.path) as archive:
        assert len(archive.namelist()) == 3


def test_a_revocation_makes_a_new_file_and_the_old_one_goes(issued_batch, make_user):
    batch = issued_batch(passed=2)
    before = export_of(batch)
    batch_output.claim(before, 2)
    batch_output.build(before)
    revoke_certificate(make_user(Role.ADMIN), batch_output.batch_certificates(batch.id)[0], "考试作弊")
    db.session.commit()
    after = export_of(batch)
    assert after.key != before.key and batch_output.status_of(after) == {"state": "absent"}
    batch_output.claim(after, 2)
    batch_output.build(after)
    assert after.path.exists() and not before.path.exists()


def test_a_failed_build_says_so_and_may_be_retried(issued_batch, monkeypatch):
    batch = issued_batch(passed=2)
    export = export_of(batch)

    def broken(certificates, target, progress):
        target.write(b"half a file")
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(batch_output.WRITERS, "pdf", broken)
    batch_output.claim(export, 2)
    batch_output.build(export)
    status = batch_output.status_of(export)
    assert status["state"] == "failed" and "内部错误" in status["message"]
    assert not export.path.exists() and not list(export.path.parent.glob("*.part"))
    monkeypatch.undo()
    assert batch_output.claim(export, 2)
    batch_output.build(export)
    assert batch_output.status_of(export) == {"state": "ready"}


def test_a_progress_file_left_by_a_dead_worker_is_taken_over(issued_batch):
    batch = issued_batch(passed=1)
    export = export_of(batch)
    export.progress_path.write_text(json.dumps({"done": 0, "total": 1}))
    long_ago = time.time() - background_files.STALE_SECONDS - 5
    os.utime(export.progress_path, (long_ago, long_ago))
    assert batch_output.status_of(export) == {"state": "absent"}
    assert batch_output.claim(export, 1)


def test_batch_files_are_owner_only_and_purged_after_the_retention_period(issued_batch, runner):
    # They print full ID numbers.
    old_batch, new_batch = issued_batch(passed=1), issued_batch(passed=1)
    old, new = export_of(old_batch), export_of(new_batch, "zip")
    for export in (old, new):
        batch_output.claim(export, 1)
        batch_output.build(export)
    assert stat.S_IMODE(old.path.parent.stat().st_mode) == 0o700
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in old.path.parent.iterdir()} == {
        old.path.name: 0o600, new.path.name: 0o600}
    eight_days_ago = time.time() - 8 * 86400
    os.utime(old.path, (eight_days_ago, eight_days_ago))
    result = runner.invoke(args=["purge-files"])
    assert result.exit_code == 0, result.output
    assert "1 个批量证书文件（保留 7 天）" in result.output
    assert not old.path.exists() and new.path.exists()
    assert batch_output.status_of(old) == {"state": "absent"}, "a purged file is built again when asked"


def test_the_build_is_queued_for_the_task_worker(issued_batch, task_queue):
    batch = issued_batch(passed=3)
    assert task_queue() == 1, "the issued files' hashes, taken after the issue"
    export = export_of(batch)
    assert batch_output.claim(export, 3)
    assert batch_output.build_export.enqueue(export.batch_id, export.fmt, export.key)
    assert not batch_output.build_export.enqueue(export.batch_id, export.fmt, export.key), "queued once"
    assert batch_output.status_of(export)["state"] == "running"
    assert task_queue() == 1
    assert batch_output.status_of(export) == {"state": "ready"}
    expected = batch_output.build_in_memory(batch_output.batch_certificates(batch.id), "pdf")
    assert export.path.read_bytes() == expected


# --- the download views ---
@pytest.fixture
def agency_client(issued_batch, make_user, login):
    def factory(passed: int = 3):
        batch = issued_batch(passed=passed)
        return login(make_user(Role.AGENCY, organization_id=batch.agency_id)), batch

    return factory


def test_a_small_batch_downloads_as_one_pdf_page_per_certificate(agency_client, tmp_path):
    from registry.core.audit import AuditEvent

    client, batch = agency_client(passed=4)
    response = client.get(f"/assessment/batches/{batch.id}/certificates.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert page_count(response.data, tmp_path) == len(batch_output.batch_certificates(batch.id)) == 4
    # Each holder's full number is printed: one reveal per person, as the person page logs it.
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "reveal_document")).all()
    certificates = batch_output.batch_certificates(batch.id)
    assert sorted((event.entity_type, event.entity_id) for event in events) == sorted(
        ("person", str(certificate.person_id)) for certificate in certificates)
    assert {(event.after["file"], event.after["batch"]) for event in events} == {("pdf", batch.id)}


def test_zip_entries_equal_the_single_downloads(agency_client):
    client, batch = agency_client(passed=3)
    response = client.get(f"/assessment/batches/{batch.id}/certificates.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        for certificate in batch_output.batch_certificates(batch.id):
            # Both are the same rendering with a signature appended (each signature made when asked for).
            single = unsigned_prefix(client.get(f"/certificates/{certificate.id}/pdf").data)
            assert unsigned_prefix(archive.read(f"{certificate.number}.pdf")) == single
            assert hashlib.sha256(single).hexdigest() == certificate.pdf_sha256


def test_the_batch_page_links_its_output_once_certificates_are_issued(agency_client, approved_batch, login):
    client, batch = agency_client(passed=2)
    html = client.get(f"/assessment/batches/{batch.id}").get_data(as_text=True)
    for suffix in ("certificates.pdf", "certificates.zip"):
        url = f"/assessment/batches/{batch.id}/{suffix}"
        assert f'href="{url}"' in html
        assert client.get(url).status_code == 200
    unissued = approved_batch(agency=batch.agency, passed=1, failed=0)
    html = client.get(f"/assessment/batches/{unissued.id}").get_data(as_text=True)
    assert "certificates.pdf" not in html and "certificates.zip" not in html


def test_a_batch_without_certificates_says_so(approved_batch, make_user, login):
    batch = approved_batch(passed=1, failed=0)
    client = login(make_user(Role.ADMIN))
    response = client.get(f"/assessment/batches/{batch.id}/certificates.zip", follow_redirects=True)
    assert "该批次还没有证书，发证后才能下载。" in response.get_data(as_text=True)


def test_a_large_batch_is_built_in_the_background_with_progress(app, agency_client, task_queue):
    client, batch = agency_client(passed=3)
    task_queue()  # the issued files' hashes, taken after the issue
    app.config.update(BATCH_OUTPUT_INLINE_LIMIT=2)
    url = f"/assessment/batches/{batch.id}/certificates.pdf"
    first = client.get(url)
    assert first.status_code == 202
    page = first.get_data(as_text=True)
    assert "共 3 份证书" in page and f"{url}/progress" in page
    assert client.get(f"{url}/progress").json == {"state": "running", "done": 0, "total": 3}
    assert client.get(url).status_code == 202, "asking again while it is queued queues nothing more"
    assert task_queue() == 1
    assert client.get(f"{url}/progress").json == {"state": "ready"}
    ready = client.get(url)
    assert ready.status_code == 200 and ready.headers["Cache-Control"] == "no-store"
    assert ready.data == batch_output.build_in_memory(batch_output.batch_certificates(batch.id), "pdf")


def test_a_zip_is_queued_sooner_than_the_print_file_since_each_entry_is_signed(app, agency_client, task_queue):
    client, batch = agency_client(passed=3)
    app.config.update(BATCH_OUTPUT_INLINE_LIMIT=200, BATCH_ZIP_INLINE_LIMIT=2)
    assert client.get(f"/assessment/batches/{batch.id}/certificates.pdf").status_code == 200
    assert client.get(f"/assessment/batches/{batch.id}/certificates.zip").status_code == 202


def test_a_failed_background_build_offers_a_retry(app, agency_client, monkeypatch):
    client, batch = agency_client(passed=3)
    app.config.update(BATCH_OUTPUT_INLINE_LIMIT=2)
    monkeypatch.setitem(batch_output.WRITERS, "zip", lambda *arguments: 1 / 0)
    url = f"/assessment/batches/{batch.id}/certificates.zip"
    failed = client.get(url)
    assert failed.status_code == 202 and "生成文件时发生内部错误" in failed.get_data(as_text=True)
    assert f"{url}?retry=1" in failed.get_data(as_text=True)
    assert client.get(url).status_code == 202, "a failure is shown, not retried on every reload"
    monkeypatch.undo()
    retried = client.get(f"{url}?retry=1")
    assert retried.status_code == 200 and retried.mimetype == "application/zip"


@pytest.mark.parametrize("suffix", ["certificates.pdf", "certificates.zip", "certificates.pdf/progress"])
def test_another_agency_gets_404(issued_batch, make_user, make_agency, make_institution, login, suffix):
    batch = issued_batch(passed=1)
    stranger = login(make_user(Role.AGENCY, organization_id=make_agency().id))
    assert stranger.get(f"/assessment/batches/{batch.id}/{suffix}").status_code == 404
    stranger.post("/logout")
    school = login(make_user(Role.INSTITUTION, organization_id=make_institution().id))
    assert school.get(f"/assessment/batches/{batch.id}/{suffix}").status_code == 403
