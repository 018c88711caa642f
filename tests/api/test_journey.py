"""The whole path through the API alone: class → 1,000 enrolments → completion → batch → results → issue →
public verification → the cockpit counts the new holders."""
from datetime import date, timedelta

import pytest

from registry.core.roles import Role
from tests.helpers import resident_id

TODAY = date.today()
TRAINEES = 1000


@pytest.fixture
def tokens(make_user, make_institution, make_agency, token_for):
    agency = make_agency(scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    return {
        "institution": token_for(make_user(Role.INSTITUTION, organization_id=make_institution().id)),
        "agency": token_for(make_user(Role.AGENCY, organization_id=agency.id)),
        "county": token_for(make_user(Role.COUNTY, county_code="410221")),
    }


def test_the_whole_journey_through_the_api(api, tokens, client):
    school, agency, county = tokens["institution"], tokens["agency"], tokens["county"]
    before = api.get("/api/v1/stats/coverage?county=410221", token=county).get_json()["counties"][0]

    created = api.post("/api/v1/classes", token=school, json={
        "name": "API 全流程焊工班", "occupation_code": "6-18-02-04", "training_type": "employment",
        "is_subsidised": True, "planned_hours": 80, "starts_on": (TODAY - timedelta(days=30)).isoformat(),
        "ends_on": TODAY.isoformat(), "county_code": "410221"})
    class_id = created.get_json()["id"]
    assert api.post(f"/api/v1/classes/{class_id}/status", token=school, json={"status": "running"}).status_code == 200

    roster = [{"document_number": resident_id(n, born=date(1970, 1, 1) + timedelta(days=n * 7)), "name": f"学员{n}", "key_groups": "农村劳动力" if n % 2 else ""}
              for n in range(1, TRAINEES + 1)]
    dry = api.post(f"/api/v1/classes/{class_id}/enrolments", token=school, json={"rows": roster}).get_json()
    assert dry["counts"] == {"new": TRAINEES}
    enrolled = api.post(f"/api/v1/classes/{class_id}/enrolments", token=school,
                        json={"rows": roster, "dry_run": False}, headers={"Idempotency-Key": "journey-roster"})
    assert enrolled.status_code == 200 and enrolled.get_json()["counts"] == {"new": TRAINEES}

    completions = [{"document_number": row["document_number"], "status": "结业", "completed_on": TODAY.isoformat(),
                    "attended_hours": 80} for row in roster]
    done = api.post(f"/api/v1/classes/{class_id}/completions", token=school,
                    json={"rows": completions, "dry_run": False}).get_json()
    assert done["counts"] == {"updated": TRAINEES}

    batch = api.post("/api/v1/batches", token=agency, json={
        "occupation_code": "6-18-02-04", "level": 4, "assessed_on": TODAY.isoformat(), "county_code": "410221",
        "training_class_id": class_id})
    assert batch.status_code == 201, batch.get_json()
    batch_id = batch.get_json()["id"]
    results = [{"document_number": row["document_number"], "name": row["name"], "theory": 80,
                "practical": 50 if n % 10 == 0 else 75} for n, row in enumerate(roster, 1)]
    entered = api.post(f"/api/v1/batches/{batch_id}/results", token=agency,
                       json={"rows": results, "dry_run": False}).get_json()
    assert entered["counts"] == {"existing": TRAINEES}
    assert api.post(f"/api/v1/batches/{batch_id}/approve", token=agency).get_json()["status"] == "approved"
    issued = api.post(f"/api/v1/batches/{batch_id}/issue", token=agency, json={}).get_json()
    assert issued["issued"] == 900

    listed = api.get(f"/api/v1/batches/{batch_id}/certificates?per_page=200&page=5", token=agency).get_json()
    assert listed["total"] == 900 and len(listed["items"]) == 100
    number = listed["items"][-1]["number"]
    verdict = client.get(f"/api/v1/certificates/{number}").get_json()  # public: no token
    assert verdict["outcome"] == "valid"

    after = api.get("/api/v1/stats/coverage?county=410221", token=county).get_json()["counties"][0]
    assert after["holders"] - before["holders"] == 900
    assert after["by_level"]["4"] - before["by_level"]["4"] == 900
    assert after["enrolments"] - before["enrolments"] == TRAINEES
    assert after["completions"] - before["completions"] == TRAINEES
    assert after["subsidised_enrolments"] - before["subsidised_enrolments"] == TRAINEES

    revoked = api.post(f"/api/v1/certificates/{number}/revoke", token=agency, json={"reason": "复核发现成绩录入错误"})
    assert revoked.get_json()["status"] == "revoked"
    assert client.get(f"/api/v1/certificates/{number}").get_json()["outcome"] == "revoked"
    replacement = api.post(f"/api/v1/certificates/{listed['items'][0]['number']}/correct", token=agency,
                           json={"reason": "姓名有误", "name": "学员更正"})
    assert replacement.status_code == 201 and replacement.get_json()["holder_name"] == "学员更正"
    final = api.get("/api/v1/stats/coverage?county=410221", token=county).get_json()["counties"][0]
    assert final["holders"] - before["holders"] == 899
