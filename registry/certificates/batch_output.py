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
from registry.core import background_files
from registry.core.background_files import claim, status_of, write_progress  # noqa: F401 (this module's API)
from registry.core.db import db
from registry.core.tasks import background_task

log = logging.getLogger(__name__)

PROGRESS_EVERY = 10
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
class Export(background_files.BackgroundFile):
    """One batch file on disk: built, being built, failed, or not yet asked for."""

    batch_id: int = 0
    fmt: str = "pdf"
    key: str = ""


def export_for(batch_id: int, certificates: Sequence[Certificate], fmt: str) -> Export:
    digest = hashlib.sha256(f"{rendering.public_url()}\n{rendering.public_key_pem()}\n".encode())
    for certificate in certificates:
        digest.update(f"{certificate.id}:{certificate.status.value}:{certificate.pdf_sha256}\n".encode())
    return export_of(batch_id, fmt, digest.hexdigest()[:16])


def export_of(batch_id: int, fmt: str, key: str) -> Export:
    path = background_files.exports_folder() / f"{batch_id}-{key}.{fmt}"
    return Export(path, batch_id, fmt, key)


def build(export: Export) -> None:
    certificates = batch_certificates(export.batch_id)
    progress = background_files.progress_every(export, len(certificates), PROGRESS_EVERY)
    if background_files.build(export, lambda target: WRITERS[export.fmt](certificates, target, progress)):
        _remove_older_files(export)


def _remove_older_files(export: Export) -> None:
    """Files of the same batch and format built before a revocation or correction are never served again."""
    for path in export.path.parent.glob(f"{export.batch_id}-*.{export.fmt}"):
        if path != export.path:
            path.unlink(missing_ok=True)


def give_up(batch_id: int, fmt: str, key: str, reason: str) -> None:
    write_progress(export_of(batch_id, fmt, key), failed=True, message=f"{reason}。")


@background_task(give_up=give_up)
def build_export(batch_id: int, fmt: str, key: str) -> None:
    """The task worker's side of a large batch's file."""
    build(export_of(batch_id, fmt, key))
