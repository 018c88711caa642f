"""Oversight pages: scope per role, the public directory, thresholds and the forms' messages."""
from datetime import date, timedelta

import sqlalchemy as sa

from registry.core.db import db
from registry.core.roles import Role
from registry.oversight import operations
from registry.oversight.models import SamplingAudit, SignalInstance, SignalSetting, SupervisionRecord
from tests.helpers import resident_id


def signal(county_code: str, summary: str) -> SignalInstance:
    instance = SignalInstance(signal="late_results", subject_key=summary, county_code=county_code, summary=summary)
    db.session.add(instance)
    db.session.commit()
    return instance


def test_a_county_official_sees_and_handles_only_their_countys_signals(client, login, make_user):
    ours, theirs = signal("410221", "杞县的预警"), signal("410222", "通许县的预警")
    county = make_user(Role.COUNTY, county_code="410221")
    login(county)
    page = client.get("/oversight/signals").get_data(as_text=True)
    assert "杞县的预警" in page and "通许县的预警" not in page
    assert client.get(f"/oversight/signals/{theirs.id}").status_code == 404
    response = client.post(f"/oversight/signals/{ours.id}", data={"status": "explained", "owner_id": county.id,
                                                                  "note": "机构已说明"})
    assert response.status_code == 302
    assert db.session.get(SignalInstance, ours.id).status.value == "explained"
    refused = client.post(f"/oversight/signals/{ours.id}", data={"status": "dismissed", "owner_id": county.id,
                                                                 "note": ""})
    assert "说明：不能为空" in refused.get_data(as_text=True)


def test_the_admin_sets_thresholds_and_bad_values_save_nothing(client, login, make_user):
    login(make_user(Role.ADMIN))
    from registry.oversight.signals import THRESHOLDS

    values = {key: f"{threshold.default:g}" for key, threshold in THRESHOLDS.items()}
    bad = client.post("/oversight/thresholds", data=values | {"late_days": "0", "min_age": "abc"})
    text = bad.get_data(as_text=True)
    assert "成绩录入滞后：认定结束后超过的天数：应在 1–3650 之间" in text and "应为数字" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignalSetting)) == 0
    assert client.post("/oversight/thresholds", data=values | {"late_days": "60"}).status_code == 302
    assert db.session.get(SignalSetting, "late_days").value == 60


def test_the_public_directory_lists_filed_agencies_without_personal_data(client, make_agency, make_user):
    agency = make_agency(name="公开的评价中心", scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", "2027-12-31")])
    make_agency(name="另一家机构")
    make_user(Role.AGENCY, organization_id=agency.id, username="secret-login")
    page = client.get("/directory").get_data(as_text=True)
    assert "公开的评价中心" in page and "焊工" in page and "2027-12-31" in page and "正常" in page
    assert "secret-login" not in page
    found = client.get("/directory?q=焊工").get_data(as_text=True)
    assert "公开的评价中心" in found and "另一家机构" not in found


def test_a_county_reads_the_agencies_and_institutions_working_in_it(client, login, make_user, make_agency,
                                                                    make_batch, make_class, make_institution):
    filed_here = make_agency(name="本县备案机构", county_code="410221")
    working_here = make_agency(name="来本县认定的机构", county_code="410202",
                               scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    make_batch(agency=working_here, county_code="410221")
    elsewhere = make_agency(name="外县机构", county_code="410202")
    make_class(make_institution(name="本县开班的学校", county_code="410202"), county_code="410221")
    make_institution(name="外县学校", county_code="410202")
    login(make_user(Role.COUNTY, county_code="410221"))
    page = client.get("/oversight/agencies").get_data(as_text=True)
    assert "本县备案机构" in page and "来本县认定的机构" in page and "外县机构" not in page
    assert "本县开班的学校" in page and "外县学校" not in page
    assert client.get(f"/oversight/agencies/{filed_here.id}").status_code == 200
    assert client.get(f"/oversight/agencies/{elsewhere.id}").status_code == 404
    assert client.post(f"/admin/agencies/{filed_here.id}/edit").status_code == 403  # read, not edit


def test_the_admin_suspends_an_agency_through_the_supervision_form(client, login, make_user, make_agency):
    agency = make_agency()
    login(make_user(Role.ADMIN))
    missing = client.post(f"/oversight/agencies/{agency.id}/supervision", data={
        "visited_on": date.today().isoformat(), "findings": "档案缺失", "outcome": "suspended"})
    assert "结论为“暂停”时必须给出整改期限" in missing.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionRecord)) == 0
    done = client.post(f"/oversight/agencies/{agency.id}/supervision", data={
        "visited_on": date.today().isoformat(), "findings": "档案缺失", "outcome": "suspended",
        "correction_due_on": (date.today() + timedelta(days=30)).isoformat()})
    assert done.status_code == 302
    page = client.get(f"/oversight/agencies/{agency.id}").get_data(as_text=True)
    assert "暂停" in page and "档案缺失" in page


def test_an_agency_keeps_its_roster_and_records_batch_assessors_in_scope(client, login, make_user, agency,
                                                                         make_batch):
    login(make_user(Role.AGENCY, organization_id=agency.id))
    welding = agency.scopes[0].occupation_id
    added = client.post(f"/oversight/agencies/{agency.id}/assessors", data={
        "name": "周考评", "document_number": resident_id(5, "19750101"), "certificate_number": "KP-5",
        "occupation_id": welding, "lowest_level": 5, "highest_level": 4})
    assert added.status_code == 302
    page = client.get(f"/oversight/agencies/{agency.id}").get_data(as_text=True)
    assert "周考评" in page and resident_id(5, "19750101") not in page and "********" in page
    batch = make_batch(agency=agency, level=3)
    assessor_id = db.session.scalar(sa.text("SELECT id FROM assessors"))
    refused = client.post(f"/oversight/batches/{batch.id}/assessors", data={"assessor_id": assessor_id})
    assert "周考评 的考评范围不含 焊工 三级/高级工" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.text("SELECT count(*) FROM batch_assessors")) == 0


def test_audit_pages_show_each_role_only_its_own(client, login, make_user, approved_batch, make_agency):
    from registry.certificates.operations import issue_batch

    ours = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    theirs = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    for agency in (ours, theirs):
        issue_batch(None, approved_batch(agency=agency, passed=2, failed=0), date(2025, 5, 20))
    db.session.commit()
    county = make_user(Role.COUNTY, county_code="410221")
    audits = [operations.start_audit(county, agency, date(2025, 1, 1), date(2025, 12, 31), 1)
              for agency in (ours, theirs)]
    db.session.commit()
    login(make_user(Role.AGENCY, organization_id=ours.id))
    listing = client.get("/oversight/audits").get_data(as_text=True)
    assert f"抽查 #{audits[0].id}" in listing and f"抽查 #{audits[1].id}" not in listing
    assert client.get(f"/oversight/audits/{audits[1].id}").status_code == 404
    login(make_user(Role.COUNTY, county_code="410222"))
    assert client.get(f"/oversight/audits/{audits[0].id}").status_code == 404
    assert "暂无抽查" in client.get("/oversight/audits").get_data(as_text=True)


def test_an_official_draws_a_sample_through_the_form(client, login, make_user, approved_batch, agency):
    from registry.certificates.operations import issue_batch

    issue_batch(None, approved_batch(agency=agency, passed=2, failed=0), date(2025, 5, 20))
    db.session.commit()
    login(make_user(Role.COUNTY, county_code="410221"))
    form = {"agency_id": agency.id, "period_from": "2025-01-01", "period_to": "2025-12-31"}
    too_many = client.post("/oversight/audits/new", data=form | {"sample_size": 3})
    assert "只发放了 2 本证书，不能抽查 3 本" in too_many.get_data(as_text=True)
    empty = client.post("/oversight/audits/new", data=form | {"period_to": "2025-01-31", "sample_size": 1})
    assert "没有发放证书，无可抽查" in empty.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SamplingAudit)) == 0
    drawn = client.post("/oversight/audits/new", data=form | {"sample_size": 2, "seed": 42})
    assert drawn.status_code == 302
    assert db.session.scalar(sa.select(SamplingAudit.seed)) == 42


def test_the_cockpit_card_counts_open_signals_and_audits_per_county_and_agency(client, login, make_user, agency,
                                                                               approved_batch):
    from registry.certificates.operations import issue_batch
    from registry.oversight.models import SignalStatus

    issue_batch(None, approved_batch(agency=agency, passed=2, failed=0), date(2025, 5, 20))
    county = make_user(Role.COUNTY, county_code="410221")
    for number, status in enumerate((SignalStatus.OPEN, SignalStatus.EXPLAINED, SignalStatus.DISMISSED)):
        db.session.add(SignalInstance(signal="late_results", subject_key=str(number), county_code="410221",
                                      agency_id=agency.id, summary="s", status=status))
    signal("410222", "外县")
    operations.start_audit(county, agency, date(2025, 1, 1), date(2025, 12, 31), 1)
    db.session.commit()
    login(county)
    page = client.get("/stats").get_data(as_text=True)
    card = page[page.index("oversight-heading"):]
    assert "<td>410221</td><td>2</td><td>1</td>" in card
    assert f"<td>{agency.name}</td><td>2</td><td>1</td>" in card and "410222" not in card
