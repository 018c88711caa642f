"""Assessment endpoints: scope, rules from the operations, and the error shape."""
from datetime import date

import pytest

from registry.core.roles import Role
from registry.certificates.operations import issue_batch
from registry.core.db import db


@pytest.fixture
def agency_token(agency, make_user, token_for):
    return token_for(make_user(Role.AGENCY, organization_id=agency.id))


def test_a_batch_outside_the_filed_scope_is_refused_naming_the_field(api, agency_token):
    response = api.post("/api/v1/batches", token=agency_token, json={
        "occupation_code": "6-18-02-04", "level": 1, "assessed_on": "2025-05-10", "county_code": "410221"})
    body = response.get_json()
    assert response.status_code == 422 and body["details"][0]["field"] == "level" and "备案" in body["message"]


def test_lists_are_scoped_and_paginated(api, agency, agency_token, make_batch, make_agency, make_user, token_for):
    for _ in range(3):
        make_batch(agency=agency)
    make_batch()  # another agency's
    page = api.get("/api/v1/batches?per_page=2&page=2", token=agency_token).get_json()
    assert page["total"] == 3 and len(page["items"]) == 1
    assert api.get("/api/v1/batches?level=9", token=agency_token).status_code == 400


def test_certificates_outside_scope_are_404_and_county_cannot_write(api, approved_batch, agency, agency_token,
                                                                     make_user, make_agency, token_for):
    certificate = issue_batch(None, approved_batch(agency=agency, passed=1, failed=0))[0]
    db.session.commit()
    stranger = token_for(make_user(Role.AGENCY, organization_id=make_agency().id))
    assert api.post(f"/api/v1/certificates/{certificate.number}/revoke", token=stranger,
                    json={"reason": "x"}).status_code == 404
    county = token_for(make_user(Role.COUNTY, county_code="410221"))
    assert api.post(f"/api/v1/certificates/{certificate.number}/revoke", token=county,
                    json={"reason": "x"}).status_code == 403
    empty = api.post(f"/api/v1/certificates/{certificate.number}/revoke", token=agency_token, json={"reason": ""})
    assert empty.status_code == 422 and "reason" in empty.get_json()["message"]
    assert api.post("/api/v1/certificates/NOPE/revoke", token=agency_token, json={"reason": "x"}).status_code == 404


def test_issuing_twice_is_refused(api, approved_batch, agency, agency_token):
    batch = approved_batch(agency=agency, passed=2, failed=0)
    assert api.post(f"/api/v1/batches/{batch.id}/issue", token=agency_token, json={}).get_json()["issued"] == 2
    again = api.post(f"/api/v1/batches/{batch.id}/issue", token=agency_token, json={})
    assert again.status_code == 422 and "已审核的批次" in again.get_json()["message"]


def test_the_pdf_is_the_issued_file_and_the_download_is_logged(api, approved_batch, agency, agency_token,
                                                               make_user, make_agency, token_for):
    import hashlib

    import sqlalchemy as sa

    from registry.core.audit import AuditEvent

    certificate = issue_batch(None, approved_batch(agency=agency, passed=1, failed=0))[0]
    db.session.commit()
    response = api.get(f"/api/v1/certificates/{certificate.number}/pdf", token=agency_token)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    # Signed on the way out: the stored hash is of the unsigned rendering the signed file begins with.
    from registry.certificates.pdf_signature import unsigned_prefix

    assert hashlib.sha256(unsigned_prefix(response.data)).hexdigest() == certificate.pdf_sha256 != \
        hashlib.sha256(response.data).hexdigest()
    logged = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "reveal_document",
                                                           AuditEvent.entity_id == str(certificate.person_id)))
    assert logged is not None
    stranger = token_for(make_user(Role.AGENCY, organization_id=make_agency().id))
    assert api.get(f"/api/v1/certificates/{certificate.number}/pdf", token=stranger).status_code == 404
