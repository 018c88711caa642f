"""Share links: the issuing agency (or admin) creates one for a holder; it shows the full name until it expires
or is revoked (410), counts each view, is audited, stores only a hash of its token; other agencies and county
officials cannot make or revoke one."""
import hashlib
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.assessment.operations import approve_batch, record_result
from registry.certificates import share_links
from registry.certificates.models import ShareLink
from registry.certificates.operations import issue_batch, revoke_certificate
from registry.core.audit import AuditEvent
from registry.core.db import db, utcnow
from registry.core.errors import Forbidden, InvalidInput
from registry.core.roles import Role


@pytest.fixture
def agency(make_agency):
    return make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])


@pytest.fixture
def certificate(agency, make_batch, make_person):
    batch = make_batch(agency=agency)
    record_result(None, batch, make_person(name="欧阳明华", county_code="410221"), theory=85, practical=90)
    approve_batch(None, batch)
    issued = issue_batch(None, batch, date(2025, 6, 1))[0]
    db.session.commit()
    return issued


@pytest.fixture
def clerk(make_user, agency):
    return make_user(Role.AGENCY, organization_id=agency.id)


def page(response) -> str:
    return response.get_data(as_text=True)


def create_through_the_page(client, certificate, days=30) -> str:
    response = client.post(f"/certificates/{certificate.id}/share-links", data={"days": days})
    assert response.status_code == 200, page(response)
    match = re.search(r'value="(http://[^"]+/share/([^"]+))"', page(response))
    assert match, "the new link is shown on the answer"
    return match.group(2)


def test_the_agency_creates_a_link_that_shows_the_full_name_and_counts_views(client, login, clerk, certificate):
    login(clerk)
    token = create_through_the_page(client, certificate, days=7)
    link = db.session.scalar(sa.select(ShareLink))
    # Only the hash is kept.
    assert link.token_sha256 == hashlib.sha256(token.encode()).hexdigest() and token not in str(link.__dict__)
    assert timedelta(days=6, hours=23) < share_links.expires_at(link) - utcnow() <= timedelta(days=7)
    client.post("/logout")
    visitor = client.application.test_client()
    for _ in range(2):
        shown = visitor.get(f"/share/{token}")
        assert shown.status_code == 200 and "欧阳明华" in page(shown) and "证书当前状态：有效" in page(shown)
        assert shown.headers["Cache-Control"] == "no-store"
    db.session.refresh(link)
    assert link.view_count == 2 and link.last_viewed_at is not None
    created = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "share_link"))
    assert created.action == "create" and created.actor_id == clerk.id
    assert created.after["certificate"] == certificate.number and token not in str(created.after)


def test_a_revoked_link_answers_410_in_chinese_and_the_revocation_is_audited(client, login, clerk, certificate):
    login(clerk)
    token = create_through_the_page(client, certificate)
    link = db.session.scalar(sa.select(ShareLink))
    response = client.post(f"/certificates/{certificate.id}/share-links/{link.id}/revoke")
    assert response.status_code == 302
    gone = client.get(f"/share/{token}")
    assert gone.status_code == 410 and "该分享链接已于" in page(gone) and "被撤销" in page(gone)
    assert "欧阳明华" not in page(gone)
    db.session.refresh(link)
    assert link.view_count == 0 and link.revoked_by_id == clerk.id
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "share_link")).all()
    assert actions == ["create", "revoke"]
    listing = client.get(f"/certificates/{certificate.id}/share-links")
    assert "已撤销" in page(listing)


def test_an_expired_link_answers_410_and_an_unknown_one_404(client, certificate):
    link, token = share_links.create_share_link(None, certificate, 1)
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    gone = client.get(f"/share/{token}")
    assert gone.status_code == 410 and "过期" in page(gone) and "欧阳明华" not in page(gone)
    assert client.get(f"/share/{token}x").status_code == 404


@pytest.mark.parametrize("days", [0, 91, -1])
def test_the_expiry_is_one_to_ninety_days(certificate, days):
    with pytest.raises(InvalidInput, match="1 到 90 天"):
        share_links.create_share_link(None, certificate, days)


def test_the_page_refuses_more_than_ninety_days_in_chinese(client, login, clerk, certificate):
    login(clerk)
    response = client.post(f"/certificates/{certificate.id}/share-links", data={"days": 91})
    assert "应为 1 到 90 天" in page(response) and db.session.scalar(sa.select(sa.func.count(ShareLink.id))) == 0


def test_another_agency_and_a_county_official_cannot_create_or_revoke(client, login, make_user, make_agency,
                                                                       certificate):
    link, _token = share_links.create_share_link(None, certificate, 30)
    db.session.commit()
    stranger = make_user(Role.AGENCY, organization_id=make_agency().id)
    county = make_user(Role.COUNTY, county_code="410221")
    for user in (stranger, county):
        with pytest.raises(Forbidden):
            share_links.create_share_link(user, certificate, 30)
        with pytest.raises(Forbidden):
            share_links.revoke_share_link(user, link)
    login(county)
    # The county reads the certificate, and so its links, but has no form and no revoke button.
    listing = client.get(f"/certificates/{certificate.id}/share-links")
    assert listing.status_code == 200 and "创建分享链接" not in page(listing) and "撤销</button>" not in page(listing)
    assert client.post(f"/certificates/{certificate.id}/share-links", data={"days": 5}).status_code == 403
    assert client.post(f"/certificates/{certificate.id}/share-links/{link.id}/revoke").status_code == 403
    client.post("/logout")
    login(stranger)
    assert client.get(f"/certificates/{certificate.id}/share-links").status_code == 404
    db.session.refresh(link)
    assert link.revoked_at is None


def test_only_a_valid_certificate_gets_a_link_and_a_shared_one_revoked_later_says_so(client, certificate):
    link, token = share_links.create_share_link(None, certificate, 30)
    revoke_certificate(None, certificate, "材料造假")
    db.session.commit()
    shown = client.get(f"/share/{token}")
    assert shown.status_code == 200 and "证书当前状态：已撤销" in page(shown)
    with pytest.raises(InvalidInput, match="只能为有效证书创建分享链接"):
        share_links.create_share_link(None, certificate, 30)


def test_tokens_are_unguessable_and_differ(certificate):
    tokens = {share_links.create_share_link(None, certificate, 30)[1] for _ in range(5)}
    assert len(tokens) == 5 and all(len(token) >= 43 for token in tokens)
