"""The agency's home page lists its batches waiting for results, approval or issuing, and nobody else's."""
import re

from registry.core.db import db
from registry.core.roles import Role


def test_the_agency_home_lists_its_batches_by_next_step(client, login, make_user, make_agency, make_batch,
                                                         approved_batch):
    from registry.certificates.operations import issue_batch

    agency = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    planned = make_batch(agency=agency)
    approved = approved_batch(agency=agency)
    issue_batch(None, approved_batch(agency=agency))
    someone_elses = make_batch()
    db.session.commit()
    login(make_user(Role.AGENCY, organization_id=agency.id))
    page = client.get("/dashboard").get_data(as_text=True)
    panel = re.search(r'<section class="home-panel" id="batches-waiting".*?</section>', page, re.S).group(0)
    text = re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", panel))
    assert "待录入成绩1" in text and "待审核0" in text and "待发证1" in text
    linked = re.findall(r'/assessment/batches/(\d+)"', panel)
    assert linked == [str(planned.id), str(approved.id)]  # same assessment day: in the order they were made
    assert str(someone_elses.id) not in linked


def test_other_roles_have_no_batch_panel(client, login, make_user):
    login(make_user(Role.ADMIN))
    assert "batches-waiting" not in client.get("/dashboard").get_data(as_text=True)
