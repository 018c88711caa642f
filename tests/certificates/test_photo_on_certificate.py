"""The holder photo uploaded before issue is printed, and a later upload never changes the issued file."""
import hashlib
import io

import sqlalchemy as sa
from PIL import Image

from registry.assessment.models import AssessmentResult
from registry.certificates.operations import issue_batch
from registry.certificates.rendering import render as certificate_pdf
from registry.core.db import db
from registry.people.photos import upload_photo


def png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (240, 320), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_issued_certificate_keeps_the_photo_it_was_issued_with(approved_batch):
    batch = approved_batch(passed=1, failed=0)
    person = db.session.scalar(sa.select(AssessmentResult).where(AssessmentResult.batch_id == batch.id)).person
    first = upload_photo(None, person, png("navy"))
    db.session.commit()
    certificate = issue_batch(None, batch)[0]
    db.session.commit()
    assert certificate.snapshot["photo_sha256"] == first.sha256
    issued = certificate_pdf(certificate)
    assert b"/Subtype /Image" in issued and hashlib.sha256(issued).hexdigest() == certificate.pdf_sha256
    upload_photo(None, person, png("darkred"))
    db.session.commit()
    assert certificate_pdf(certificate) == issued
