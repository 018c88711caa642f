"""Roster import (学员名单导入): the whole upload → dry run → commit path beside Core executemany of its rows.

"Ours" is what a user triggers: an import job for a class, its dry run (`check_job`) and its commit
(`commit_job`), enqueued as the upload and commit views enqueue them (run at once: immediate mode). "Raw" inserts the
very rows the import stored — ciphertexts, hashes and masked numbers copied out of the first database —
into a fresh database of the same kind with `conn.execute(table.insert(), batch)`, 1,000 rows a batch, in
one transaction. Encrypting and hashing ID numbers is the import's own work, so it counts against us.
"""
import csv
import io
import random
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from statistics import median
from typing import BinaryIO

import openpyxl
import sqlalchemy as sa

from benchmarks.common import Backend, BenchmarkFailed, Options, Result, clocked, fresh_app, peak_memory, timed
from registry.core.db import db
from registry.people.identity import resident_id_check_char
from registry.people.models import KEY_GROUP_LABELS, Person
from registry.training.models import Enrollment

NAME = "roster_import"
DEFAULT_ROWS = 100_000
RATIO_LIMIT = 3.0  # the [Training] issue: at most 3× Core executemany of the same final rows
BATCH = 1000
CLASS_STARTS, CLASS_ENDS = date(2025, 3, 1), date(2025, 4, 30)
HEADER = ["证件类型", "证件号码", "姓名", "性别", "所在县区", "手机号码", "重点群体", "入班日期"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅新民春花海燕晓东文斌利辉鹏亮俊凤琴云"
GROUP_CHOICES = ["", "", "", "农村劳动力", "农村劳动力", "农村劳动力、脱贫劳动力", "退役军人", "失业人员", "农民工",
                 "高校毕业生", "农民工，农村劳动力"]
GROUP_BITS = {label: int(group) for group, label in KEY_GROUP_LABELS.items()}
DATE_SPELLINGS = (date.isoformat, lambda day: f"{day.year}/{day.month}/{day.day}",
                  lambda day: f"{day.year}年{day.month}月{day.day}日")


def roster(count: int, seed: int = 2025) -> tuple[list[list[str]], dict[str, tuple]]:
    """Rows as an institution would type them, and what each should become: number → (name, groups, date)."""
    rows, expected = [], {}
    for row, number, facts in roster_rows(count, seed):
        rows.append(row)
        expected[number] = facts
    return rows, expected


def roster_rows(count: int, seed: int = 2025) -> Iterator[tuple[list[str], str, tuple]]:
    """Each row, its ID number and what it should become, one at a time (a million rows held: GBs)."""
    rng = random.Random(seed)
    born_span = (date(2004, 12, 31) - date(1960, 1, 1)).days
    seen: set[str] = set()
    while len(seen) < count:
        born = date(1960, 1, 1) + timedelta(rng.randrange(born_span))
        first17 = f"410221{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = first17 + resident_id_check_char(first17)
        if number in seen:
            continue
        seen.add(number)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        gender = rng.choice(("", "男" if int(first17[16]) % 2 else "女"))
        phone = rng.choice(("", f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"))
        groups = rng.choice(GROUP_CHOICES)
        enrolled_on = CLASS_STARTS + timedelta(rng.randrange(20))
        county = rng.choice(("杞县", "杞县", "杞县", "410221", ""))  # blank: the class's county
        row = ["居民身份证", number, name, gender, county, phone, groups, rng.choice(DATE_SPELLINGS)(enrolled_on)]
        bits = sum(GROUP_BITS[label] for label in re.split(r"[、，]", groups) if label)
        yield row, number, (name, bits, enrolled_on)


def csv_to_file(path: Path, count: int, seed: int) -> int:
    """The roster of `count` rows written as a CSV file row by row; its size in bytes."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row, _number, _facts in roster_rows(count, seed):
            writer.writerow(row)
    return path.stat().st_size


def csv_file(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *rows])
    return buffer.getvalue().encode("utf-8")


def xlsx_file(rows: list[list[str]]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in [HEADER, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def make_class():
    """An institution, its user and a running class in 杞县, made through the operations the pages call."""
    from registry.core.roles import Role
    from registry.accounts.operations import create_user
    from registry.organizations.credit_code import credit_code_check_char
    from registry.organizations.models import InstitutionKind
    from registry.organizations.operations import create_institution
    from registry.reference.models import Occupation
    from registry.training.models import ClassStatus, TrainingType
    from registry.training.operations import change_class_status, create_class

    credit_first17 = "52410221MJ0000001"
    institution = create_institution(None, name="杞县职业技能培训学校（基准测试）",
                                     credit_code=credit_first17 + credit_code_check_char(credit_first17),
                                     kind=InstitutionKind.PRIVATE_SCHOOL, county_code="410221")
    user = create_user(None, "bench-school", "benchmark-password-1", Role.INSTITUTION,
                       organization_id=institution.id)
    occupation_id = db.session.scalar(sa.select(Occupation.id).where(Occupation.code == "6-18-02-04"))
    training_class = create_class(
        user, institution_id=institution.id, name="焊工培训班（基准测试）", occupation_id=occupation_id,
        work_type=None, target_level=None, training_type=TrainingType.EMPLOYMENT, program_key=None,
        is_subsidised=True, planned_hours=80, starts_on=CLASS_STARTS, ends_on=CLASS_ENDS, county_code="410221")
    change_class_status(user, training_class, ClassStatus.RUNNING)
    db.session.commit()
    return user, training_class


def import_roster(user, training_class, data: bytes | BinaryIO, filename: str,
                  count: int) -> dict[str, float]:
    """Dry run, then commit, as the views start them; the wall-clock and CPU seconds of each."""
    from flask import current_app

    from registry.core import import_jobs
    from registry.core.import_jobs import ImportJob, JobStatus

    # A run larger than the server's limits on uploads measures what the import would do, were they raised.
    config = current_app.config
    config["IMPORT_MAX_ROWS"] = max(config["IMPORT_MAX_ROWS"], count)
    config["IMPORT_MAX_BYTES"] = max(config["IMPORT_MAX_BYTES"], 200 * count)
    # The institution's budget of look-ups outside its records (50,000 an hour) refused half of a 100k-row
    # roster: this measures the import, not the budget, so the budget covers the dry run and the commit.
    config["PERSON_LOOKUP_LIMITS"] = f"{2 * count + 1000}/hour"

    job_id = import_jobs.create_job(user, "roster", training_class.id, filename, data).id
    db.session.commit()

    def outcome(status: JobStatus) -> None:
        job = db.session.get(ImportJob, job_id, populate_existing=True)
        if job.status is not status or job.counts != {"new": count}:
            raise BenchmarkFailed(f"{filename}: {job.status} {job.counts} {job.message}")

    _, check, check_cpu = clocked(lambda: import_jobs.check_job.enqueue(job_id))
    outcome(JobStatus.CHECKED)

    def commit() -> None:
        if not import_jobs.claim_for_commit(job_id, skip_errors=False):
            raise BenchmarkFailed(f"{filename}: the checked job could not be claimed for commit")
        db.session.commit()
        import_jobs.commit_job.enqueue(job_id)

    _, commit_seconds, commit_cpu = clocked(commit)
    outcome(JobStatus.COMMITTED)
    return {"check": check, "check_cpu": check_cpu, "commit": commit_seconds, "commit_cpu": commit_cpu}


def verify(training_class, expected: dict[str, tuple]) -> None:
    """Every row became the person and enrolment it describes, and nothing else was written."""
    from registry.people.operations import protector

    lookup = protector().lookup_hash
    wanted = {lookup("resident_id", number): facts for number, facts in expected.items()}
    stored = db.session.execute(
        sa.select(Person.document_hash, Person.name, Person.key_groups, Enrollment.enrolled_on)
        .join(Enrollment, Enrollment.person_id == Person.id).where(Enrollment.class_id == training_class.id))
    found = {digest: (name, groups, enrolled_on) for digest, name, groups, enrolled_on in stored}
    persons = db.session.scalar(sa.select(sa.func.count()).select_from(Person))
    enrollments = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment))
    if persons != len(expected) or enrollments != len(expected):
        raise BenchmarkFailed(f"expected {len(expected)} persons and enrolments, found {persons} and {enrollments}")
    if found != wanted:
        wrong = next(digest for digest in wanted if found.get(digest) != wanted[digest])
        raise BenchmarkFailed(f"stored {found.get(wrong)}, expected {wanted[wrong]}")
    for cipher, digest in db.session.execute(sa.select(Person.document_cipher, Person.document_hash).limit(100)):
        if lookup("resident_id", protector().decrypt(cipher)) != digest:
            raise BenchmarkFailed("a stored ciphertext does not decrypt to its person's number")


def final_rows(training_class) -> tuple[list[dict], list[dict]]:
    persons = db.session.execute(sa.select(Person.__table__).order_by(Person.id)).mappings()
    enrollments = db.session.execute(sa.select(Enrollment.__table__)
                                     .where(Enrollment.class_id == training_class.id)).mappings()
    return [dict(row) for row in persons], [dict(row) for row in enrollments]


def insert_raw(persons: list[dict], enrollments: list[dict]) -> tuple[float, float]:
    """Plain Core executemany of the same rows in one transaction; times the inserts and the commit."""
    def insert() -> None:
        with db.engine.begin() as connection:
            for table, rows in ((Person.__table__, persons), (Enrollment.__table__, enrollments)):
                for start in range(0, len(rows), BATCH):
                    connection.execute(table.insert(), rows[start:start + BATCH])

    _, seconds, cpu = clocked(insert)
    if db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) != len(enrollments):
        raise BenchmarkFailed("the raw insert did not store every enrolment")
    return seconds, cpu


def protection_cost(numbers: list[str]) -> tuple[float, float]:
    """Seconds to encrypt and to hash these numbers: work the import must do and the baseline is spared."""
    from registry.people.operations import protector

    _, encrypting = timed(lambda: [protector().encrypt(number) for number in numbers])
    _, hashing = timed(lambda: [protector().lookup_hash("resident_id", number) for number in numbers])
    return encrypting, hashing


def csv_run(backend: Backend, options: Options, label: str, rows, expected, data: bytes) -> dict[str, float]:
    """One side-by-side pair, each side on a fresh database; seconds by what they measure."""
    with fresh_app(backend, options.workdir, f"{label}-ours"):
        user, training_class = make_class()
        seconds = import_roster(user, training_class, data, "名单.csv", len(rows))
        verify(training_class, expected)
        seconds["encrypting"], seconds["hashing"] = protection_cost(list(expected))
        persons, enrollments = final_rows(training_class)
    with fresh_app(backend, options.workdir, f"{label}-raw"):
        _user, raw_class = make_class()
        for enrollment in enrollments:
            enrollment["class_id"] = raw_class.id
        seconds["raw"], seconds["raw_cpu"] = insert_raw(persons, enrollments)
    return seconds


def csv_results(backend: Backend, options: Options, count: int) -> Iterator[Result]:
    rows, expected = roster(count)
    data = csv_file(rows)
    runs = [csv_run(backend, options, f"{backend.name}-csv-{run}", rows, expected, data)
            for run in range(options.repeat)]
    t = {key: median(run[key] for run in runs) for key in runs[0]}
    # PostgreSQL does the raw side's work in its own process, out of our CPU clock's sight.
    in_process = backend.url is None
    cpu = {"commit": t["commit_cpu"] / t["raw_cpu"], "both": (t["check_cpu"] + t["commit_cpu"]) / t["raw_cpu"],
           "check": t["check_cpu"] / t["raw_cpu"]} if in_process else {}
    note = f"CSV {len(data) / 2**20:.1f} MB"
    if len(runs) > 1:
        ratios = sorted(run["commit"] / run["raw"] for run in runs)
        note += f"; median of {len(runs)} pairs, ratios {ratios[0]:.2f}–{ratios[-1]:.2f}×"
    yield Result("roster CSV commit", backend.name, count, t["commit"], t["raw"], limit=RATIO_LIMIT, note=note,
                 cpu_ratio=cpu.get("commit"))
    yield Result("roster CSV dry run + commit", backend.name, count, t["check"] + t["commit"], t["raw"],
                 cpu_ratio=cpu.get("both"))
    yield Result("roster CSV dry run alone", backend.name, count, t["check"], t["raw"], cpu_ratio=cpu.get("check"))
    for key, label in (("encrypting", "Fernet encrypt (inside commit)"), ("hashing", "HMAC look-up hash (each pass)")):
        yield Result(f"  {label}", backend.name, count, t[key],
                     note=f"{t[key] / count * 1e6:.1f} µs/row, {t[key] / t['commit']:.0%} of the commit")


def memory_results(backend: Backend, options: Options, count: int) -> Iterator[Result]:
    """Dry run + commit under tracemalloc at a tenth of the rows and at all of them: flat means not ×10.

    The upload comes as the upload view hands it over: an open file (werkzeug spools any upload over
    500 KB to a temporary file), so what the import reads of it counts, and the generated file does not.
    """
    peaks = []
    for size in (max(count // 10, 1), count):
        path = options.workdir / f"{backend.name}-memory-{size}.csv"
        file_bytes = csv_to_file(path, size, seed=size)
        with fresh_app(backend, options.workdir, f"{backend.name}-memory-{size}"), path.open("rb") as upload:
            user, training_class = make_class()
            seconds, peak = peak_memory(lambda: import_roster(user, training_class, upload, "名单.csv", size))
        path.unlink()
        peaks.append(peak)
        note = f"tracemalloc peak of upload + dry run + commit, the {file_bytes / 2**20:.1f} MB CSV streamed"
        if len(peaks) == 2:
            note += f"; ×{peaks[1] / peaks[0]:.1f} for ×{count // max(count // 10, 1)} rows"
        yield Result("roster CSV memory (traced, slower)", backend.name, size, seconds["check"] + seconds["commit"],
                     peak_bytes=peak, note=note)


def xlsx_results(backend: Backend, options: Options, count: int) -> Iterator[Result]:
    """An .xlsx is bounded by openpyxl's parsing: the raw side here is one read-only pass over the file."""
    rows, expected = roster(count, seed=7)
    data = xlsx_file(rows)
    with fresh_app(backend, options.workdir, f"{backend.name}-xlsx"):
        user, training_class = make_class()
        seconds = import_roster(user, training_class, data, "名单.xlsx", count)
        verify(training_class, expected)

    def read_only_pass() -> int:
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        return sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True))

    _, parse = timed(read_only_pass)
    note = "raw = openpyxl read-only pass alone; the import parses the file once per run"
    yield Result("roster .xlsx commit", backend.name, count, seconds["commit"], parse, note=note)
    yield Result("roster .xlsx dry run + commit", backend.name, count, seconds["check"] + seconds["commit"], parse)


def run(options: Options) -> Iterator[Result]:
    count = options.rows or DEFAULT_ROWS
    for backend in options.backends:
        yield from csv_results(backend, options, count)
        yield from memory_results(backend, options, count)
        yield from xlsx_results(backend, options, max(count // 5, 1))
