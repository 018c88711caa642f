"""A batch's certificates as one multi-page PDF or a ZIP of single PDFs; large batches build in the task worker.

A large batch's file is written to instance/exports/<batch>-<key>.<format>, with a progress file beside it
while it is built. The key digests what the file holds (each certificate's id, status and issued hash, the
public URL and the public key), so a revocation or a correction leads to a new file, while asking again for
an unchanged batch serves the file already built. Every page is the certificate's own reprint; a ZIP entry
is, like a single download, that rendering with the registry's PDF signature appended (docs/VERIFICATION.md),
while the one-PDF print file stays unsigned. The files print full ID numbers: the folder and
the files are owner-only, and `purge_expired` deletes them after the retention period (a file deleted is
built again when asked for).
"""
import hashlib
import io
import json
import logging
import os
import time
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from registry.certificates import pdf, pdf_keys, rendering
from registry.certificates.models import Certificate, CertificateStatus
from registry.core import private_files
from registry.core.db import db
from registry.core.tasks import background_task

log = logging.getLogger(__name__)

PROGRESS_EVERY = 10
STALE_SECONDS = 300  # a progress file untouched this long was left by a worker that died
MEDIA_TYPES = {"pdf": "application/pdf", "zip": "application/zip"}

Progress = Callable[[int], None]


def batch_certificates(batch_id: int) -> list[Certificate]:
    """What a batch prints: all but superseded certificates (their corrections belong to the batch too)."""
    return list(db.session.scalars(
        sa.select(Certificate)
        .where(Certificate.batch_id == batch_id, Certificate.status != CertificateStatus.SUPERSEDED)
        .order_by(Certificate.number)
    ))


def inline_limit(fmt: str) -> int:
    """Above this many certificates a request would wait too long: the task worker builds the file."""
    limit = current_app.config["BATCH_OUTPUT_INLINE_LIMIT"]
    return min(limit, current_app.config["BATCH_ZIP_INLINE_LIMIT"]) if fmt == "zip" else limit


def entry_name(certificate: Certificate) -> str:
    return f"{certificate.number}.pdf"


def write_pdf(certificates: Sequence[Certificate], target: BinaryIO, progress: Progress) -> None:
    canvas = Canvas(target, pagesize=A4, invariant=True, pageCompression=1,
                    initialFontName=pdf.register_font())
    canvas.setTitle(f"{certificates[0].snapshot['title']} {certificates[0].number}–{certificates[-1].number}")
    canvas.setAuthor(certificates[0].snapshot["agency_name"])
    pdf.describe_file(canvas, certificates[0].snapshot["title"], certificates[0].snapshot["issued_on"])
    for done, certificate in enumerate(certificates, 1):
        rendering.draw(canvas, certificate)
        canvas.showPage()
        progress(done)
    with rendering.SUBSET_LOCK:
        canvas.save()


def write_zip(certificates: Sequence[Certificate], target: BinaryIO, progress: Progress) -> None:
    with zipfile.ZipFile(target, "w") as archive:
        for done, certificate in enumerate(certificates, 1):
            # The issue date as the entry's time keeps the archive itself the same bytes every time.
            info = zipfile.ZipInfo(entry_name(certificate), date_time=certificate.issued_on.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            # Each entry is the holder's file, which an agency may pass on as it is: signed like a single
            # download (the unsigned rendering, then the registry's PAdES signature).
            archive.writestr(info, pdf_keys.sign(rendering.render(certificate)))
            progress(done)


WRITERS: dict[str, Callable[[Sequence[Certificate], BinaryIO, Progress], None]] = {
    "pdf": write_pdf, "zip": write_zip}


def build_in_memory(certificates: Sequence[Certificate], fmt: str) -> bytes:
    buffer = io.BytesIO()
    WRITERS[fmt](certificates, buffer, lambda done: None)
    return buffer.getvalue()


@dataclass(frozen=True)
class Export:
    """One batch file on disk: built, being built, failed, or not yet asked for."""

    folder: Path
    batch_id: int
    fmt: str
    key: str

    @property
    def path(self) -> Path:
        return self.folder / f"{self.batch_id}-{self.key}.{self.fmt}"

    @property
    def progress_path(self) -> Path:
        return self.folder / f"{self.path.name}.progress.json"


def export_for(batch_id: int, certificates: Sequence[Certificate], fmt: str) -> Export:
    digest = hashlib.sha256(f"{rendering.public_url()}\n{rendering.public_key_pem()}\n".encode())
    for certificate in certificates:
        digest.update(f"{certificate.id}:{certificate.status.value}:{certificate.pdf_sha256}\n".encode())
    return Export(exports_folder(), batch_id, fmt, digest.hexdigest()[:16])


def exports_folder() -> Path:
    return private_files.private_folder(Path(current_app.config["INSTANCE_PATH"]) / "exports")


def status_of(export: Export) -> dict:
    """{"state": "ready" | "running" | "failed" | "absent", "done", "total", "message"}."""
    if export.path.exists():
        return {"state": "ready"}
    try:
        age = time.time() - export.progress_path.stat().st_mtime
        progress = json.loads(export.progress_path.read_text() or "{}")
    except FileNotFoundError:
        return {"state": "absent"}
    except json.JSONDecodeError:
        progress = {}
    if progress.get("failed"):
        return {"state": "failed", "message": progress.get("message", "")}
    if age > STALE_SECONDS:
        return {"state": "absent"}
    return {"state": "running", "done": progress.get("done", 0), "total": progress.get("total")}


def claim(export: Export, total: int) -> bool:
    """Let one request start the build: the progress file is created exclusively.

    Should two builds still run (a stale file removed twice), each writes its own part file and the last
    rename wins — harmless, because both write the same bytes.
    """
    if status_of(export)["state"] in ("ready", "running"):
        return False
    export.progress_path.unlink(missing_ok=True)
    try:
        with private_files.open_private(export.progress_path, exclusive=True) as handle:
            json.dump({"done": 0, "total": total}, handle)
    except FileExistsError:
        return False
    return True


def write_progress(export: Export, **progress) -> None:
    private_files.write_private(export.progress_path, json.dumps(progress, ensure_ascii=False))


def build(export: Export) -> None:
    """Write to a private part file, then move it into place in one step: a reader never sees half a file."""
    part = export.folder / f"{export.path.name}.{uuid.uuid4().hex}.part"
    try:
        certificates = batch_certificates(export.batch_id)
        total = len(certificates)

        def progress(done: int) -> None:
            if done % PROGRESS_EVERY == 0 or done == total:
                write_progress(export, done=done, total=total)

        with private_files.open_private(part, "wb") as target:
            WRITERS[export.fmt](certificates, target, progress)
        os.replace(part, export.path)
        export.progress_path.unlink(missing_ok=True)
        _remove_older_files(export)
    except Exception:  # a failed build must say so, never look like one still running
        log.exception("batch output %s failed", export.path.name)
        part.unlink(missing_ok=True)
        write_progress(export, failed=True, message="生成文件时发生内部错误，请稍后重试或联系管理员。")


def _remove_older_files(export: Export) -> None:
    """Files of the same batch and format built before a revocation or correction are never served again."""
    for path in export.folder.glob(f"{export.batch_id}-*.{export.fmt}"):
        if path != export.path:
            path.unlink(missing_ok=True)


def purge_expired(retention: timedelta, now: datetime | None = None) -> int:
    """Delete every file in the exports folder last written more than `retention` ago; how many went.

    A batch file is only a copy, built again on the next request; a progress file that old was left by a
    build that died.
    """
    cutoff = (now or datetime.now(UTC)) - retention
    folder = exports_folder()
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and private_files.modified_at(path) < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def give_up(batch_id: int, fmt: str, key: str, reason: str) -> None:
    write_progress(Export(exports_folder(), batch_id, fmt, key), failed=True, message=f"{reason}。")


@background_task(give_up=give_up)
def build_export(batch_id: int, fmt: str, key: str) -> None:
    """The task worker's side of a large batch's file."""
    build(Export(exports_folder(), batch_id, fmt, key))
