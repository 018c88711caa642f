"""Every route × every role: who gets the page, who gets 403, who is sent to sign in.

A route added without an entry here fails `test_every_route_has_an_entry`.
Scope rules inside a role (one institution against another) are tested in each area's own tests.
"""
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

import sqlalchemy as sa

from registry.core.roles import Role
from registry.api.models import ApiToken
from registry.certificates import share_links
from registry.core.db import db

PUBLIC = "public"
ADMIN = frozenset({Role.ADMIN})
EVERY_ROLE = frozenset(Role)
TRAINING_READERS = frozenset({Role.ADMIN, Role.COUNTY, Role.INSTITUTION})
TRAINING_WRITERS = frozenset({Role.ADMIN, Role.INSTITUTION})
ASSESSMENT_READERS = frozenset({Role.ADMIN, Role.COUNTY, Role.AGENCY})
ASSESSMENT_WRITERS = frozenset({Role.ADMIN, Role.AGENCY})
STATS_READERS = frozenset({Role.ADMIN, Role.COUNTY})


@dataclass(frozen=True)
class Entry:
    path: str
    allowed: frozenset | str
    method: str = "GET"
    # Roles that pass the role gate but not the scope rule for this particular record: 404, not 403.
    out_of_scope: frozenset = frozenset()


ROUTES: dict[str, Entry] = {
    "static": Entry("/static/registry.css", PUBLIC),
    "core.healthz": Entry("/healthz", PUBLIC),
    "core.home": Entry("/", PUBLIC),
    "dashboard.index": Entry("/dashboard", EVERY_ROLE),
    "core.audit_log": Entry("/admin/audit", ADMIN),
    "core.edit_settings": Entry("/admin/settings", ADMIN),
    "accounts.login": Entry("/login", PUBLIC),
    "accounts.logout": Entry("/logout", EVERY_ROLE, "POST"),
    "accounts.list_users": Entry("/admin/users", ADMIN),
    "accounts.create_user": Entry("/admin/users/new", ADMIN),
    "accounts.edit_user": Entry("/admin/users/{admin_id}/edit", ADMIN),
    "accounts.lift_sign_in_lock": Entry("/admin/users/sign-in-locks/lift", ADMIN, "POST"),
    "accounts.confirm_password": Entry("/account/confirm-password", EVERY_ROLE),
    "organizations.list_agencies": Entry("/admin/agencies", ADMIN),
    "organizations.create_agency": Entry("/admin/agencies/new", ADMIN),
    "organizations.agency_detail": Entry("/admin/agencies/{agency_id}", ADMIN),
    "organizations.edit_agency": Entry("/admin/agencies/{agency_id}/edit", ADMIN),
    "organizations.add_scope": Entry("/admin/agencies/{agency_id}/scopes", ADMIN, "POST"),
    "organizations.remove_scope": Entry("/admin/agencies/{agency_id}/scopes/{scope_id}/remove", ADMIN, "POST"),
    "organizations.add_special_filing": Entry("/admin/agencies/{agency_id}/special-items", ADMIN, "POST"),
    "organizations.withdraw_special_filing": Entry(
        "/admin/agencies/{agency_id}/special-items/{special_item_id}/withdraw", ADMIN, "POST"),
    "organizations.list_institutions": Entry("/admin/institutions", ADMIN),
    "reference.special_items": Entry("/admin/special-items", ADMIN),
    "reference.set_special_item_status": Entry("/admin/special-items/{special_item_id}/active", ADMIN, "POST"),
    "organizations.create_institution": Entry("/admin/institutions/new", ADMIN),
    "organizations.edit_institution": Entry("/admin/institutions/{institution_id}/edit", ADMIN),
    "reference.list_occupations": Entry("/admin/occupations", ADMIN),
    "reference.create_occupation": Entry("/admin/occupations/new", ADMIN),
    "reference.edit_occupation": Entry("/admin/occupations/{occupation_id}/edit", ADMIN),
    "reference.list_targets": Entry("/admin/targets", ADMIN),
    "reference.edit_target": Entry("/admin/targets/edit", ADMIN),
    "reference.split_target": Entry("/admin/targets/split", ADMIN, "POST"),
    "reference.list_counties": Entry("/admin/counties", ADMIN),
    "reference.edit_county": Entry("/admin/counties/410221/edit", ADMIN),
    "reference.employment": Entry("/admin/employment", ADMIN),
    "people.search": Entry("/people", EVERY_ROLE),
    # The world's trainee is in the county user's county and the institution's class; the agency has no result.
    "people.person_detail": Entry("/people/{person_id}", EVERY_ROLE - {Role.AGENCY},
                                  out_of_scope=frozenset({Role.AGENCY})),
    "people.reveal_document": Entry("/people/{person_id}/reveal", ADMIN, "POST"),
    # Photos: the administrator, and an agency for its own candidates (the world's trainee is not one).
    "people.upload_photo": Entry("/people/{person_id}/photo", ADMIN, out_of_scope=frozenset({Role.AGENCY})),
    "stats.cockpit": Entry("/stats", STATS_READERS),
    "api.coverage": Entry("/api/v1/stats/coverage", STATS_READERS),
    "stats.drilldown": Entry("/stats/drilldowns/level", STATS_READERS),
    "stats.funnel_page": Entry("/stats/funnel", STATS_READERS),
    "stats.funnel_leaks": Entry("/stats/funnel/never_assessed", STATS_READERS),
    "stats.funnel_leak_export_progress": Entry("/stats/funnel/never_assessed/export-progress?format=xlsx",
                                               STATS_READERS),
    "stats.export_counties": Entry("/stats/counties.xlsx", STATS_READERS),
    # The county user's own county; another county is 403 (tests/stats/test_views.py).
    "stats.county_report": Entry("/stats/counties/410221/report.pdf", STATS_READERS),
    "stats.city_report": Entry("/stats/report.pdf", ADMIN),
    "stats.county_targets": Entry("/stats/targets", ADMIN),
    "stats.counted_kinds": Entry("/stats/counted-kinds", ADMIN),
    "api.openapi_json": Entry("/api/v1/openapi.json", PUBLIC),
    "api.docs_page": Entry("/api/docs", PUBLIC),
    "public_api.signing_key": Entry("/api/v1/signing-key", PUBLIC),
    "api.list_classes": Entry("/api/v1/classes", TRAINING_READERS),
    "api.create_class": Entry("/api/v1/classes", TRAINING_WRITERS, "POST"),
    "api.get_class": Entry("/api/v1/classes/{class_id}", TRAINING_READERS),
    "api.change_status": Entry("/api/v1/classes/{class_id}/status", TRAINING_WRITERS, "POST"),
    "api.enrol": Entry("/api/v1/classes/{class_id}/enrolments", TRAINING_WRITERS, "POST"),
    "api.complete": Entry("/api/v1/classes/{class_id}/completions", TRAINING_WRITERS, "POST"),
    "api.list_batches": Entry("/api/v1/batches", ASSESSMENT_READERS),
    "api.create_batch": Entry("/api/v1/batches", ASSESSMENT_WRITERS, "POST"),
    "api.get_batch": Entry("/api/v1/batches/{batch_id}", ASSESSMENT_READERS),
    "api.submit_results": Entry("/api/v1/batches/{batch_id}/results", ASSESSMENT_WRITERS, "POST"),
    "api.approve": Entry("/api/v1/batches/{batch_id}/approve", ASSESSMENT_WRITERS, "POST"),
    "api.issue": Entry("/api/v1/batches/{batch_id}/issue", ASSESSMENT_WRITERS, "POST"),
    "api.batch_certificates": Entry("/api/v1/batches/{batch_id}/certificates", ASSESSMENT_READERS),
    "api.certificate_pdf": Entry("/api/v1/certificates/{certificate_number}/pdf", ASSESSMENT_READERS),
    "api.revoke": Entry("/api/v1/certificates/{certificate_number}/revoke", ASSESSMENT_WRITERS, "POST"),
    "api.correct": Entry("/api/v1/certificates/{certificate_number}/correct", ASSESSMENT_WRITERS, "POST"),
    "api.drilldown": Entry("/api/v1/stats/drilldowns/level", STATS_READERS),
    "api.funnel": Entry("/api/v1/stats/funnel", STATS_READERS),
    "api_tokens.list_tokens": Entry("/account/tokens", EVERY_ROLE),
    # Each user revokes only their own: the token here is the administrator's.
    "api_tokens.revoke_token": Entry("/account/tokens/{token_id}/revoke", ADMIN, "POST",
                                     out_of_scope=EVERY_ROLE - {Role.ADMIN}),
    "verify.search": Entry("/verify", PUBLIC),
    "verify.certificate": Entry("/verify/{certificate_number}", PUBLIC),
    "verify.upload": Entry("/verify/upload", PUBLIC),
    "verify.holder_credential": Entry("/verify/{certificate_number}/credential.jwt?{qr_query}", PUBLIC),
    "verify.status_list": Entry("/credentials/status/0", PUBLIC),
    "verify.issuer": Entry("/credentials/issuer", PUBLIC),
    "verify.bulk_check": Entry("/verify/bulk", PUBLIC),
    "verify.bulk_template": Entry("/verify/bulk/template.xlsx", PUBLIC),
    # Public, and an empty body is a bad list (400): checked as an API call anyone may make.
    "api.bulk_check": Entry("/api/v1/certificates/bulk-check", PUBLIC, "POST"),
    "sharing.shared": Entry("/share/{share_token}", PUBLIC),
    "sharing.share_links_page": Entry("/certificates/{certificate_id}/share-links", ASSESSMENT_READERS),
    "sharing.revoke_link": Entry("/certificates/{certificate_id}/share-links/{share_link_id}/revoke",
                                 ASSESSMENT_WRITERS, "POST"),
    "public_api.verify_certificate": Entry("/api/v1/certificates/{certificate_number}", PUBLIC),
    # The world's batch is the agency user's, held in the county user's county, approved and issued.
    "assessment.list_batches": Entry("/assessment/batches", ASSESSMENT_READERS),
    "assessment.create_batch": Entry("/assessment/batches/new", ASSESSMENT_WRITERS),
    "assessment.create_special_batch_page": Entry("/assessment/batches/new-special", ASSESSMENT_WRITERS),
    "assessment.eligibility_rules": Entry("/admin/eligibility", ADMIN),
    "assessment.batch_detail": Entry("/assessment/batches/{batch_id}", ASSESSMENT_READERS),
    "assessment.edit_batch": Entry("/assessment/batches/{batch_id}/edit", ASSESSMENT_WRITERS),
    "assessment.record_result": Entry("/assessment/batches/{batch_id}/results", ASSESSMENT_WRITERS, "POST"),
    "assessment.approve_batch": Entry("/assessment/batches/{batch_id}/approve", ASSESSMENT_WRITERS, "POST"),
    "certificates.issue": Entry("/assessment/batches/{batch_id}/issue", ASSESSMENT_WRITERS),
    "certificates.issue_progress": Entry("/assessment/batches/{batch_id}/issue/progress", ASSESSMENT_READERS),
    "assessment.import_results": Entry("/assessment/batches/{batch_id}/results/upload", ASSESSMENT_WRITERS),
    "assessment.results_template": Entry("/assessment/templates/results.xlsx", ASSESSMENT_WRITERS),
    "certificates.list_certificates": Entry("/certificates", ASSESSMENT_READERS),
    "certificates.certificate_detail": Entry("/certificates/{certificate_id}", ASSESSMENT_READERS),
    "certificates.revoke": Entry("/certificates/{certificate_id}/revoke", ASSESSMENT_WRITERS),
    "certificates.correct": Entry("/certificates/{certificate_id}/correct", ASSESSMENT_WRITERS),
    "certificates.import_history": Entry("/certificates/history", ADMIN),
    "certificates.history_template": Entry("/certificates/history/template.xlsx", ADMIN),
    "certificates.public_key": Entry("/certificates/public-key.pem", PUBLIC),
    "certificates.certificate_pdf": Entry("/certificates/{certificate_id}/pdf", ASSESSMENT_READERS),
    "certificates.certificate_credential": Entry("/certificates/{certificate_id}/credential.jwt", ASSESSMENT_READERS),
    "certificates.batch_pdf": Entry("/assessment/batches/{batch_id}/certificates.pdf", ASSESSMENT_READERS),
    "certificates.batch_zip": Entry("/assessment/batches/{batch_id}/certificates.zip", ASSESSMENT_READERS),
    "certificates.batch_output_progress": Entry("/assessment/batches/{batch_id}/certificates.zip/progress",
                                                ASSESSMENT_READERS),
    "training.list_classes": Entry("/training/classes", TRAINING_READERS),
    "training.create_class": Entry("/training/classes/new", TRAINING_WRITERS),
    "training.class_detail": Entry("/training/classes/{class_id}", TRAINING_READERS),
    "training.edit_class": Entry("/training/classes/{class_id}/edit", TRAINING_WRITERS),
    "training.change_status": Entry("/training/classes/{class_id}/status", TRAINING_WRITERS, "POST"),
    "training.enroll": Entry("/training/classes/{class_id}/enrollments", TRAINING_WRITERS, "POST"),
    "training.complete_all": Entry("/training/classes/{class_id}/complete-all", TRAINING_WRITERS, "POST"),
    "training.complete_enrollment": Entry("/training/enrollments/{enrollment_id}/complete", TRAINING_WRITERS,
                                          "POST"),
    "training.drop_enrollment": Entry("/training/enrollments/{enrollment_id}/drop", TRAINING_WRITERS, "POST"),
    "training.list_trainees": Entry("/training/trainees", TRAINING_READERS),
    "training.import_roster": Entry("/training/classes/{class_id}/roster", TRAINING_WRITERS),
    "training.import_completions": Entry("/training/classes/{class_id}/completions", TRAINING_WRITERS),
    "training.import_template": Entry("/training/templates/roster.xlsx", TRAINING_WRITERS),
    # Oversight: the world's signal and audit are the county user's county's; the audit samples the agency's.
    "oversight.list_signals": Entry("/oversight/signals", STATS_READERS),
    "oversight.signal_detail": Entry("/oversight/signals/{signal_id}", STATS_READERS),
    "oversight.thresholds": Entry("/oversight/thresholds", ADMIN),
    "oversight.list_audits": Entry("/oversight/audits", ASSESSMENT_READERS),
    "oversight.create_audit": Entry("/oversight/audits/new", STATS_READERS),
    "oversight.audit_detail": Entry("/oversight/audits/{audit_id}", ASSESSMENT_READERS),
    "oversight.record_finding": Entry("/oversight/audits/{audit_id}/items/{audit_item_id}/finding", STATS_READERS,
                                      "POST"),
    "oversight.answer_item": Entry("/oversight/audits/{audit_id}/items/{audit_item_id}/answer",
                                   frozenset({Role.AGENCY}), "POST"),
    "oversight.close_audit": Entry("/oversight/audits/{audit_id}/close", STATS_READERS, "POST"),
    "oversight.list_agencies": Entry("/oversight/agencies", ASSESSMENT_READERS),
    "oversight.agency_detail": Entry("/oversight/agencies/{agency_id}", ASSESSMENT_READERS),
    "oversight.record_supervision": Entry("/oversight/agencies/{agency_id}/supervision", ADMIN, "POST"),
    "oversight.add_assessor": Entry("/oversight/agencies/{agency_id}/assessors", ASSESSMENT_WRITERS, "POST"),
    "oversight.batch_assessors": Entry("/oversight/batches/{batch_id}/assessors", ASSESSMENT_READERS),
    "oversight.directory": Entry("/directory", PUBLIC),
    "stats.public": Entry("/figures", PUBLIC),
    # A job's report names persons: only its uploader (here the institution user) and the administrator.
    "imports.job_detail": Entry("/imports/{job_id}", EVERY_ROLE - {Role.COUNTY, Role.AGENCY},
                                out_of_scope=frozenset({Role.COUNTY, Role.AGENCY})),
    "imports.job_progress": Entry("/imports/{job_id}/progress", EVERY_ROLE - {Role.COUNTY, Role.AGENCY},
                                  out_of_scope=frozenset({Role.COUNTY, Role.AGENCY})),
    "imports.error_rows": Entry("/imports/{job_id}/errors.xlsx", EVERY_ROLE - {Role.COUNTY, Role.AGENCY},
                                out_of_scope=frozenset({Role.COUNTY, Role.AGENCY})),
    "imports.commit_job": Entry("/imports/{job_id}/commit", EVERY_ROLE - {Role.COUNTY, Role.AGENCY}, "POST",
                                out_of_scope=frozenset({Role.COUNTY, Role.AGENCY})),
}

ROLES = [None, *Role]


def test_every_route_has_an_entry(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ROUTES.keys())
    assert not missing, f"routes without an access-matrix entry: {missing}"
    stale = sorted(ROUTES.keys() - endpoints)
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


@pytest.fixture
def world(app, make_user, make_agency, make_institution, make_class, make_person, approved_batch):
    """One user per role, scoped to real organisations, and the ids the paths need."""
    from registry.core.db import db
    from registry.training.operations import enroll_person

    agency = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    institution = make_institution()
    # In the county user's county, so every training reader may see it.
    training_class = make_class(institution, county_code="410221")
    enrollment = enroll_person(None, training_class, make_person())
    db.session.commit()
    users = {
        Role.ADMIN: make_user(Role.ADMIN),
        Role.COUNTY: make_user(Role.COUNTY, county_code="410221"),
        Role.AGENCY: make_user(Role.AGENCY, organization_id=agency.id),
        Role.INSTITUTION: make_user(Role.INSTITUTION, organization_id=institution.id),
    }
    ids = {
        "admin_id": users[Role.ADMIN].id,
        "agency_id": agency.id,
        "scope_id": agency.scopes[0].id,
        "institution_id": institution.id,
        "occupation_id": agency.scopes[0].occupation_id,
        "class_id": training_class.id,
        "enrollment_id": enrollment.id,
        "person_id": enrollment.person_id,
        "job_id": _roster_job(users[Role.INSTITUTION], training_class).id,
    }
    ids["tokens"] = {role: _token(user) for role, user in users.items()}
    ids["token_id"] = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == users[Role.ADMIN].id))
    certificate = _certificate(approved_batch(agency=agency, passed=1, failed=0))
    ids |= {"certificate_number": certificate.number, "certificate_id": certificate.id,
            "batch_id": certificate.batch_id, "qr_query": _qr_query(certificate)}
    link, share_token = share_links.create_share_link(None, certificate, 30)
    db.session.commit()
    ids |= {"share_link_id": link.id, "share_token": share_token}
    ids |= _oversight(users[Role.COUNTY], agency)
    ids["special_item_id"] = _special_filing(agency)
    return users, ids


def _special_filing(agency) -> int:
    from registry.organizations.special_filing import file_special_item
    from registry.reference.models import SpecialItem

    item_id = db.session.scalar(sa.select(SpecialItem.id).where(SpecialItem.code == "KF-ZX-001"))
    file_special_item(None, agency, item_id, date(2024, 1, 1))
    db.session.commit()
    return item_id


def _oversight(county_user, agency) -> dict:
    from registry.oversight.models import SignalInstance
    from registry.oversight.operations import start_audit

    signal = SignalInstance(signal="late_results", subject_key="matrix", county_code="410221", summary="matrix")
    db.session.add(signal)
    audit = start_audit(county_user, agency, date.today() - timedelta(days=1), date.today(), 1)
    db.session.commit()
    return {"signal_id": signal.id, "audit_id": audit.id, "audit_item_id": audit.items[0].id}


def _token(user) -> str:
    from registry.api.tokens import create_token

    _token, secret = create_token(user, "matrix", date.today() + timedelta(days=5))
    db.session.commit()
    return secret


def _qr_query(certificate) -> str:
    """The signed fields of the certificate's printed QR code: the holder's proof for the credential download."""
    from urllib.parse import urlsplit

    from registry.certificates import signing
    from registry.certificates.rendering import signing_key

    return urlsplit(signing.qr_text(signing.sign(signing_key(), certificate.snapshot), "http://x")).query


def _certificate(batch):
    from registry.certificates.operations import issue_batch

    certificate = issue_batch(None, batch)[0]
    db.session.commit()
    return certificate


def _roster_job(user, training_class):
    from registry.core import import_jobs

    job = import_jobs.create_job(user, "roster", training_class.id, "roster.csv", "证件号码,姓名\n".encode())
    db.session.commit()
    import_jobs.check_job(job.id)
    return job


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.value if role else "anonymous")
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_role_gets_what_the_matrix_says(app, client, login, world, endpoint, role):
    users, ids = world
    entry = ROUTES[endpoint]
    api = entry.path.startswith("/api/v1/") and entry.allowed != PUBLIC
    headers = {}
    if role is not None and api:  # programs call with a token; a browser session may only read
        headers["Authorization"] = f"Bearer {ids['tokens'][role]}"
    elif role is not None:
        login(users[role])
    response = client.open(entry.path.format(**ids), method=entry.method, headers=headers)
    if entry.allowed == PUBLIC and entry.method == "POST" and entry.path.startswith("/api/v1/"):
        assert response.status_code not in (401, 403, 404, 500), response.status_code
    elif api and role is not None and role in entry.allowed:
        assert response.status_code not in (401, 403, 404, 500), response.get_json()  # an empty body: 415/422
    elif entry.allowed == PUBLIC or (role is not None and role in entry.allowed):
        assert response.status_code in (200, 302), response.status_code
        assert "/login" not in response.headers.get("Location", "") or endpoint in ("core.home", "accounts.logout")
    elif role is None and entry.path.startswith("/api/"):
        assert response.status_code == 401  # a program cannot follow a redirect to a sign-in page
    elif role is None:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif role in entry.out_of_scope:
        assert response.status_code == 404
    else:
        assert response.status_code == 403
