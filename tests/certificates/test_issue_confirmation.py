"""Before issuing, the page lists who will get a certificate (names, masked IDs) and who has no photo; an
administrator's setting decides whether those without a photo may be issued at all."""
import pytest

from registry.certificates.operations import issue_batch
from registry.core import settings
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.roles import Role


@pytest.fixture
def batch(approved_batch):
    return approved_batch(passed=2, failed=1)


def test_the_confirmation_lists_names_masked_ids_and_missing_photos(batch, make_user, login):
    client = login(make_user(Role.AGENCY, organization_id=batch.agency_id))
    html = client.get(f"/assessment/batches/{batch.id}/issue").get_data(as_text=True)
    from registry.certificates.operations import issuable_results

    for result in issuable_results(batch):
        assert f"{result.person.name}</td>" in html and result.person.document_masked in html
    assert "2 人尚未采集照片" in html and 'id="recipients"' in html


def test_the_setting_refuses_issuing_without_photos(batch, make_user, login):
    admin = login(make_user(Role.ADMIN))
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "允许为未采集照片的人员发证" in page and "checked" in page  # allowed by default
    from tests.conftest import csrf_token_from

    admin.post("/admin/settings", data={"csrf_token": csrf_token_from(page)})
    assert not settings.flag(settings.ISSUE_WITHOUT_PHOTO)
    with pytest.raises(InvalidInput, match="不允许为未采集照片的人员发证"):
        issue_batch(None, batch)
    db.session.rollback()
