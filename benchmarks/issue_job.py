"""Issuing a batch as a background job (发证任务) beside a raw baseline, and the job's peak memory.

"Ours" is what the issue button sets going: `issue_jobs.start_issue` (checks, the no-double-award look-up,
serials reserved) and its commit, then the task's work, `issue_certificates` — CHUNK certificates per
transaction, each with its snapshot and the cockpit's kept totals refreshed at its commit — run here in the
calling process, as the worker runs it. "Raw" is one executemany of the same rows (same numbers, same snapshot
keys, the holders read by one SELECT) into a copy of the certificates table without its constraints or
indexes, in one transaction: what writing them costs with no checks, no chunks, no totals. The PDFs are not
part of either: they are rendered afterwards by their own task (registry/certificates/issued_hash.py).
The batch of `--rows` passed candidates (default 10,000) is built through register_person/record_result first,
untimed. Peak memory (tracemalloc, Python heap) is measured in a run of its own on a second batch.
"""
from collections.abc import Iterator
from datetime import date, timedelta

import sqlalchemy as sa

from benchmarks.common import BenchmarkFailed, Options, Result, clocked, fresh_app, peak_memory
from registry.core.db import db

NAME = "issue_job"
DEFAULT_ROWS = 10_000
ISSUED_ON = date(2025, 6, 1)


def approved_batch(count: int, level: int, offset: int):
    from registry.assessment.operations import approve_batch, create_batch, record_result
    from registry.organizations.models import Agency, AgencyStatus, AgencyType
    from registry.organizations.operations import add_scope, create_agency
    from registry.people.identity import DocumentType, resident_id_check_char
    from registry.people.operations import register_person
    from registry.reference.models import Occupation

    occupation_id = db.session.scalar(sa.select(Occupation.id).where(Occupation.code == "6-18-02-04"))
    agency = db.session.scalar(sa.select(Agency).where(Agency.site_code == "900002"))
    if agency is None:
        agency = create_agency(None, name="开封基准测试职业技能评价中心", agency_type=AgencyType.SOCIAL,
                               ministry_code="0000", site_code="900002", filing_number="豫人社认定备〔基准〕2号",
                               filed_on=date(2023, 1, 1), county_code="410202", status=AgencyStatus.ACTIVE)
        add_scope(None, agency, occupation_id, None, 5, 3, date(2024, 1, 1), None)
    batch = create_batch(None, agency_id=agency.id, occupation_id=occupation_id, work_type=None, level=level,
                         assessed_on=date(2025, 5, 10), county_code="410221")
    for index in range(offset, offset + count):
        first17 = f"410221{date(1960, 1, 1) + timedelta(days=index // 900):%Y%m%d}{index % 900 + 100:03d}"
        person = register_person(None, DocumentType.RESIDENT_ID, first17 + resident_id_check_char(first17),
                                 f"考生{index}", "410221")
        record_result(None, batch, person, theory=85, practical=85)
        if index % 2000 == 1999:
            db.session.commit()
    approve_batch(None, batch)
    db.session.commit()
    return batch


class _NotQueued:
    """Stands in for the PDF-hash task the job queues at its end: rendering is not measured here."""

    def enqueue(self, *_args) -> bool:
        return False


def issue_as_the_button_does(batch) -> int:
    from registry.certificates import issue_jobs

    job = issue_jobs.start_issue(None, batch, ISSUED_ON)
    job_id = job.id
    db.session.info.pop("tasks_after_commit", None)  # run below, in this process, rather than queued
    db.session.commit()
    hashes, issue_jobs.fill_batch_hashes = issue_jobs.fill_batch_hashes, _NotQueued()
    try:
        issue_jobs.issue_certificates(job_id)
    finally:
        issue_jobs.fill_batch_hashes = hashes
    return job_id


def raw_issue(batch, first_serial: int) -> int:
    from registry.certificates.bulk_issue import holder_rows
    from registry.certificates.models import Certificate

    scratch = sa.Table("raw_certificates", sa.MetaData(),
                       *[sa.Column(column.name, column.type) for column in Certificate.__table__.columns])
    scratch.create(db.session.connection(), checkfirst=True)
    holders = db.session.execute(holder_rows(batch.id)).all()
    agency, occupation = batch.agency, batch.occupation
    prefix = f"{agency.agency_type.value}{agency.ministry_code}41{agency.site_code}{ISSUED_ON.year % 100:02d}{batch.level}"
    rows = []
    for rank, holder in enumerate(holders):
        number = f"{prefix}{first_serial + rank:06d}"
        rows.append({
            "id": rank + 1, "number": number, "kind": "skill_level", "status": "valid",
            "person_id": holder.person_id, "agency_id": agency.id, "batch_id": batch.id,
            "result_id": holder.result_id, "occupation_id": occupation.id, "level": batch.level,
            "issued_on": ISSUED_ON, "is_imported": False,
            "snapshot": {"title": "职业技能等级证书", "number": number, "name": holder.name,
                         "document_type": holder.document_type.label, "document_masked": holder.document_masked,
                         "document_cipher": holder.document_cipher, "occupation_name": occupation.name,
                         "occupation_code": occupation.code, "work_type": "--", "level": batch.level,
                         "level_label": "四级/中级工", "agency_name": agency.name,
                         "agency_filing_number": agency.filing_number, "issued_on": ISSUED_ON.isoformat(),
                         "photo_sha256": None},
        })
    db.session.execute(scratch.insert(), rows)
    db.session.commit()
    return len(rows)


def check_issued(batch_id: int, count: int) -> None:
    from registry.certificates.models import Certificate

    numbers = db.session.scalars(sa.select(Certificate.number).where(Certificate.batch_id == batch_id)).all()
    serials = sorted(int(number[-6:]) for number in numbers)
    if len(serials) != count or len(set(numbers)) != count or serials != list(range(serials[0], serials[0] + count)):
        raise BenchmarkFailed(f"batch {batch_id}: {len(numbers)} certificates, serials not 1…{count}")


def run(options: Options) -> Iterator[Result]:
    count = options.rows or DEFAULT_ROWS
    for backend in options.backends:
        with fresh_app(backend, options.workdir, f"issue-{backend.name}"):
            batch = approved_batch(count, level=4, offset=0)
            _job, seconds, cpu = clocked(lambda: issue_as_the_button_does(batch))
            check_issued(batch.id, count)
            _rows, raw_seconds, raw_cpu = clocked(lambda: raw_issue(batch, 1))
            other = approved_batch(count, level=5, offset=count)
            _job, peak = peak_memory(lambda: issue_as_the_button_does(other))
            check_issued(other.id, count)
            yield Result(NAME, backend.name, count, seconds, raw_seconds, peak_bytes=peak,
                         cpu_ratio=cpu / raw_cpu if backend.url is None and raw_cpu else None,
                         note=f"{seconds:.1f} s to issue {count:,} (start + {-(-count // 500)} chunks); "
                              "peak = Python heap of a second run")
