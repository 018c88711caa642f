"""Training through the API: the same rules and row outcomes as the pages, in one error shape."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.core.db import db
from registry.training.models import ClassStatus, Enrollment, TrainingClass
from tests.helpers import resident_id

TODAY = date.today()
NEW_CLASS = {"name": "API 焊工班", "occupation_code": "6-18-02-04", "training_type": "employment",
             "is_subsidised": True, "planned_hours": 80, "starts_on": (TODAY - timedelta(days=10)).isoformat(),
             "ends_on": (TODAY + timedelta(days=20)).isoformat(), "county_code": "410221"}


def rows(count: int, start: int = 1) -> list[dict]:
    return [{"document_number": resident_id(n), "name": f"学员{n}", "key_groups": "农村劳动力"}
            for n in range(start, start + count)]


@pytest.fixture
def institution_user(make_institution, make_user):
    return make_user(Role.INSTITUTION, organization_id=make_institution().id)


@pytest.fixture
def token(institution_user, token_for):
    return token_for(institution_user)


@pytest.fixture
def running_class(api, token):
    created = api.post("/api/v1/classes", token=token, json=NEW_CLASS)
    assert created.status_code == 201, created.get_json()
    class_id = created.get_json()["id"]
    assert api.post(f"/api/v1/classes/{class_id}/status", token=token, json={"status": "running"}).status_code == 200
    return class_id


def test_create_list_and_read_a_class(api, token, running_class, institution_user):
    listed = api.get("/api/v1/classes?status=running&per_page=10", token=token).get_json()
    assert listed["total"] == 1 and listed["page"] == 1 and listed["per_page"] == 10
    item = listed["items"][0]
    assert item["id"] == running_class and item["institution_id"] == institution_user.institution_id
    assert item["occupation_code"] == "6-18-02-04" and item["is_subsidised"] is True
    assert api.get(f"/api/v1/classes/{running_class}", token=token).get_json()["name"] == "API 焊工班"


def test_bulk_enrolment_dry_run_then_commit_then_idempotent_repeat(api, token, running_class):
    path = f"/api/v1/classes/{running_class}/enrolments"
    payload = rows(3) + [{"document_number": "410221199001010010", "name": "错号"}]
    dry = api.post(path, token=token, json={"rows": payload})
    body = dry.get_json()
    assert dry.status_code == 200 and body["dry_run"] is True and body["committed"] is False
    assert body["counts"] == {"new": 3, "error": 1}
    assert body["rows"][3]["row"] == 4 and body["rows"][3]["column"] == "证件号码" and "校验码" in body["rows"][3]["message"]
    assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 0

    refused = api.post(path, token=token, json={"rows": payload, "dry_run": False})
    assert refused.status_code == 422 and refused.get_json()["error"] == "rows_invalid"
    assert refused.get_json()["details"][0]["row"] == 4
    assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 0

    headers = {"Idempotency-Key": "roster-2025-03"}
    request = {"rows": payload, "dry_run": False, "skip_errors": True}
    first = api.post(path, token=token, json=request, headers=headers)
    assert first.status_code == 200 and first.get_json()["committed"] is True
    again = api.post(path, token=token, json=request, headers=headers)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 3
    other = api.post(path, token=token, json={"rows": rows(1, 50), "dry_run": False}, headers=headers)
    assert other.status_code == 422 and other.get_json()["error"] == "idempotency_key_reused"
    plain_repeat = api.post(path, token=token, json={"rows": rows(3), "dry_run": False}).get_json()
    assert plain_repeat["counts"] == {"skipped": 3}  # the importer's own rule: nobody is enrolled twice


def test_bulk_completion(api, token, running_class):
    api.post(f"/api/v1/classes/{running_class}/enrolments", token=token, json={"rows": rows(2), "dry_run": False})
    done = api.post(f"/api/v1/classes/{running_class}/completions", token=token, json={"dry_run": False, "rows": [
        {"document_number": resident_id(1), "status": "结业", "completed_on": TODAY.isoformat(), "attended_hours": 80},
        {"document_number": resident_id(2), "status": "退出"}]})
    assert done.status_code == 200 and done.get_json()["counts"] == {"updated": 2}


@pytest.mark.parametrize("data, content_type, status, error", [
    ("{not json", "application/json", 400, "malformed_json"),
    ("rows=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ('{"rows": "all"}', "application/json", 422, "invalid"),
    ('{"rows": []}', "application/json", 422, "invalid"),
    ('{"rows": [{"document_number": "1", "shoe_size": 42}]}', "application/json", 422, "invalid"),
    ('{"rows": [{}], "dry_run": "yes"}', "application/json", 422, "invalid"),
    ('[1, 2]', "application/json", 422, "invalid"),
])
def test_bad_bodies_get_the_error_shape_and_write_nothing(api, token, running_class, data, content_type, status,
                                                          error):
    response = api.post(f"/api/v1/classes/{running_class}/enrolments", token=token, data=data,
                        content_type=content_type)
    body = response.get_json()
    assert response.status_code == status and body["error"] == error
    assert set(body) == {"error", "message", "details"} and body["message"]
    assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 0


def test_a_missing_field_is_named_in_chinese(api, token):
    response = api.post("/api/v1/classes", token=token, json={key: value for key, value in NEW_CLASS.items()
                                                              if key != "planned_hours"})
    assert response.status_code == 422 and "缺少字段 planned_hours" in response.get_json()["message"]
    wrong = api.post("/api/v1/classes", token=token, json=NEW_CLASS | {"ends_on": "2025-02-30"})
    assert wrong.status_code == 422 and "日期格式应为 YYYY-MM-DD" in wrong.get_json()["details"][0]["message"]


def test_a_rule_of_the_operation_is_a_422_naming_the_field(api, token):
    response = api.post("/api/v1/classes", token=token, json=NEW_CLASS | {"ends_on": "2000-01-01"})
    assert response.status_code == 422
    assert response.get_json()["details"] == [{"field": "ends_on", "message": "结束日期：不能早于开始日期"}]
    assert db.session.scalar(sa.select(sa.func.count(TrainingClass.id))) == 0


def test_an_oversized_body_is_a_413(api, token, running_class):
    huge = {"rows": [{"document_number": "x" * 100, "name": "y" * 100, "remarks": None}] * 12000}
    response = api.post(f"/api/v1/classes/{running_class}/enrolments", token=token, json=huge)
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"


def test_scope_and_role(api, token, running_class, make_institution, make_user, token_for, client, login):
    stranger = token_for(make_user(Role.INSTITUTION, organization_id=make_institution().id))
    assert api.get(f"/api/v1/classes/{running_class}", token=stranger).status_code == 404
    denied = api.post(f"/api/v1/classes/{running_class}/enrolments", token=stranger, json={"rows": rows(1)})
    assert denied.status_code == 404 and denied.get_json()["error"] == "not_found"
    assert api.get("/api/v1/classes", token=stranger).get_json()["total"] == 0
    county = token_for(make_user(Role.COUNTY, county_code="410221"))
    assert api.get(f"/api/v1/classes/{running_class}", token=county).status_code == 200
    assert api.post("/api/v1/classes", token=county, json=NEW_CLASS).status_code == 403
    admin = token_for(make_user(Role.ADMIN))
    assert api.get("/api/v1/classes/999999", token=admin).status_code == 404


def test_a_browser_session_may_read_but_never_write(api, client, login, institution_user, running_class):
    login(institution_user)
    assert client.get("/api/v1/classes").status_code == 200
    response = client.post("/api/v1/classes", json=NEW_CLASS)
    assert response.status_code == 401


def test_bad_query_parameters_are_400(api, token):
    for query in ("page=0", "per_page=1000", "status=flying", "is_subsidised=maybe", "starts_from=2025-13-01",
                  "institution_id=abc", "occupation_code=0-00-00-00"):
        response = api.get(f"/api/v1/classes?{query}", token=token)
        assert response.status_code == 400 and response.get_json()["error"] == "bad_request", query


def test_a_bulk_dry_run_answers_about_someone_outside_the_scope_as_about_an_unknown_number(
        api, token, running_class, make_person, make_class, make_institution, institution_user):
    """王晓明 is another institution's trainee: his number, with a wrong or the right name, is answered as a
    number nobody has; each dry run leaves an audit row counting the numbers outside the caller's records."""
    from registry.core.audit import AuditEvent
    from registry.people.operations import protector
    from registry.training.operations import enroll_person

    person = make_person(name="王晓明")
    enroll_person(None, make_class(institution=make_institution(), status=ClassStatus.RUNNING), person)
    db.session.commit()
    number = protector().decrypt(person.document_cipher)
    path = f"/api/v1/classes/{running_class}/enrolments"

    def answer(document_number: str, name: str) -> dict:
        rows = [{"document_number": document_number, "name": name}]
        response = api.post(path, token=token, json={"rows": rows})
        assert response.status_code == 200
        body = response.get_json()
        for row in body["rows"]:
            row["subject"] = row["subject"].split(" ")[0]  # the masked number differs, by construction
        return body

    for guess in ("张三", "王晓明"):
        assert answer(number, guess) == answer(resident_id(900), guess)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "check_import")).all()
    assert len(events) == 4 and {event.actor_id for event in events} == {institution_user.id}
    assert [event.after["out_of_scope_registered"] for event in events] == [1, 0, 1, 0]
    assert all(event.after["out_of_scope"] == 1 and number not in str(event.after) for event in events)
