"""Tests for the people registry pages: search by number or name, the person page, and the audited reveal."""
import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.people.identity import DocumentType, resident_id_check_char
from registry.people.models import KeyGroup
from registry.people.operations import register_person
from registry.training.models import ClassStatus, Enrollment
from registry.training.operations import enroll_person, record_completion
from tests.people.test_scopes import add_batch, add_certificate, add_result

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def number_ending_in_x() -> str:
    """A valid resident ID whose check character is X, to try every spelling of it."""
    for sequence in range(1000):
        first17 = f"41022119850312{sequence:03d}"
        if resident_id_check_char(first17) == "X":
            return first17 + "X"
    raise AssertionError("no sequence gives X")


NUMBER = number_ending_in_x()


def html_of(response) -> str:
    return response.get_data(as_text=True)


def audit_rows(action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.fixture
def institution(make_institution):
    return make_institution(name="开封测试技工学校")


@pytest.fixture
def own_class(make_class, institution):
    return make_class(institution, name="本校焊工班", county_code="410221", status=ClassStatus.RUNNING)


@pytest.fixture
def trainee(own_class):
    """王晓明: registered with a number ending in X, living in 通许县 and trained in 杞县."""
    person = register_person(None, DocumentType.RESIDENT_ID, NUMBER, "王晓明", "410222", phone="13812345678",
                             key_groups=int(KeyGroup.RURAL_LABOUR | KeyGroup.VETERAN))
    enroll_person(None, own_class, person)
    db.session.commit()
    return person


@pytest.fixture
def users(make_user, make_agency, institution):
    return {
        "admin": make_user(Role.ADMIN),
        "qixian": make_user(Role.COUNTY, county_code="410221"),
        "lankao": make_user(Role.COUNTY, county_code="410225"),
        "institution": make_user(Role.INSTITUTION, organization_id=institution.id),
        "agency": make_user(Role.AGENCY, organization_id=make_agency().id),
    }


def search(client, text: str, document_type: str = "resident_id"):
    return client.post("/people", data={"q": text, "document_type": document_type}, follow_redirects=True)


# --- search by document number ----------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", [
    NUMBER, NUMBER.lower(), NUMBER.translate(FULL_WIDTH),
    f" {NUMBER[:6]} {NUMBER[6:14]} {NUMBER[14:].lower()} ",
    f"{NUMBER[:6]}\u3000{NUMBER[6:]}",
], ids=["plain", "lower-x", "full-width", "spaces", "ideographic-space"])
def test_any_spelling_of_the_number_finds_the_person_without_showing_it(client, login, users, trainee,
                                                                        spelling):
    login(users["qixian"])
    page = html_of(search(client, spelling))
    assert "王晓明" in page and f"/people/{trainee.id}" in page
    assert trainee.document_masked in page
    assert NUMBER not in page and spelling.strip() not in page


def test_the_number_never_reaches_a_url(client, login, users, trainee):
    login(users["qixian"])
    response = client.post("/people", data={"q": NUMBER, "document_type": "resident_id"})
    # Answered in place: no redirect carries the number into an address, and the form itself posts.
    assert response.status_code == 200 and "王晓明" in html_of(response)
    assert 'method="post" action="/people"' in html_of(response)


def test_a_number_in_the_query_string_is_still_looked_up_exactly(client, login, users, trainee):
    login(users["admin"])
    page = html_of(client.get("/people", query_string={"q": NUMBER.lower()}))
    assert "王晓明" in page and NUMBER not in page


def test_a_number_of_another_document_type_finds_nobody(client, login, users, trainee):
    login(users["admin"])
    page = html_of(search(client, NUMBER, "passport"))
    assert "王晓明" not in page and "未找到该证件号码的人员" in page


def test_a_passport_number_is_found_by_its_type(client, login, users):
    person = register_person(None, DocumentType.PASSPORT, "E12345678", "李雷", "410221")
    db.session.commit()
    login(users["qixian"])
    page = html_of(search(client, " e1234 5678", "passport"))
    assert "李雷" in page and person.document_masked in page and "E12345678" not in page


def test_a_prefix_of_a_number_is_not_a_search(client, login, users, trainee):
    login(users["admin"])
    page = html_of(search(client, NUMBER[:10]))
    assert "王晓明" not in page
    assert "证件号码：身份证号码长度应为18位（或15位旧号码）" in page


def test_a_wrong_check_character_says_why(client, login, users, trainee):
    wrong = NUMBER[:17] + "0"
    login(users["admin"])
    page = html_of(search(client, wrong))
    assert "证件号码：身份证号码校验码不符：末位 0 与前17位不一致，请对照证件原件核对（系统不提示“正确”的末位，以免照改了错号）" in page
    assert "王晓明" not in page and "姓名包含" not in page


def test_an_impossible_birth_date_says_why(client, login, users):
    first17 = "41022119901332001"
    login(users["admin"])
    page = html_of(search(client, first17 + resident_id_check_char(first17)))
    assert "证件号码：身份证号码中的出生日期 19901332 无效" in page


def test_a_number_outside_the_scope_is_not_found(client, login, users, trainee):
    login(users["lankao"])
    page = html_of(search(client, NUMBER))
    assert "王晓明" not in page and "未找到该证件号码的人员，或该人员不在您的管理范围内" in page


# --- search by name ---------------------------------------------------------------------------------------

def test_a_name_search_moves_to_a_bookmarkable_address(client, login, users, trainee):
    login(users["qixian"])
    response = client.post("/people", data={"q": " 晓明 ", "document_type": "resident_id"})
    assert response.status_code == 302 and "q=" in response.headers["Location"]
    page = html_of(client.get(response.headers["Location"]))
    assert "王晓明" in page and trainee.document_masked in page and "农村劳动力、退役军人" in page


def test_a_name_search_stays_within_the_scope(client, login, users, trainee, make_person):
    make_person(name="王晓明", county_code="410225")
    make_person(name="王晓明", county_code="410221")
    login(users["qixian"])
    page = html_of(client.get("/people", query_string={"q": "王晓"}))
    assert "（2 人）" in page and "兰考县" not in page
    login(users["admin"])
    assert "（3 人）" in html_of(client.get("/people", query_string={"q": "王晓"}))


def test_name_results_sort_and_page(client, login, users, trainee, make_person):
    make_person(name="王晓红", county_code="410221")
    login(users["admin"])
    by_county = {"q": "王晓", "sort": "county", "dir": "desc", "per_page": 1}
    first = html_of(client.get("/people", query_string=by_county))
    assert "王晓明" in first and "王晓红" not in first and "第 1 / 2 页" in first
    second = html_of(client.get("/people", query_string=by_county | {"page": 2}))
    assert "王晓红" in second and "王晓明" not in second


def test_wildcards_in_a_name_are_taken_literally(client, login, users, trainee):
    login(users["admin"])
    page = html_of(client.get("/people", query_string={"q": "王%"}))
    assert "王晓明" not in page and "没有姓名包含" in page


def test_the_empty_page_invites_a_search(client, login, users):
    login(users["institution"])
    page = html_of(client.get("/people"))
    assert "请输入证件号码或姓名开始查询" in page and "人员查询" in page


# --- the person page --------------------------------------------------------------------------------------

def test_person_page_shows_masked_facts_and_enrolments(client, login, users, trainee, own_class):
    enrollment = db.session.scalar(sa.select(Enrollment).where(Enrollment.person_id == trainee.id))
    record_completion(None, enrollment, own_class.ends_on, 72)
    db.session.commit()
    login(users["institution"])
    page = html_of(client.get(f"/people/{trainee.id}"))
    assert "王晓明" in page and trainee.document_masked in page and NUMBER not in page
    assert "1985年" in page and "1985-03-12" not in page
    assert "138****5678" in page and "13812345678" not in page
    assert "农村劳动力、退役军人" in page
    assert f'href="/training/classes/{own_class.id}"' in page and "已结业" in page and ">72<" in page
    assert "暂无认定成绩" in page and "暂无证书" in page
    assert "查看完整证件号码" not in page


def test_administrator_sees_the_birth_date(client, login, users, trainee):
    login(users["admin"])
    page = html_of(client.get(f"/people/{trainee.id}"))
    assert "1985-03-12" in page and "查看完整证件号码将被记录" in page


def test_another_institutions_class_is_listed_but_not_linked(client, login, users, trainee, make_class):
    foreign = make_class(name="外校电工班", county_code="410222")
    enroll_person(None, foreign, trainee)
    db.session.commit()
    login(users["institution"])
    page = html_of(client.get(f"/people/{trainee.id}"))
    assert "外校电工班" in page and f"/training/classes/{foreign.id}" not in page
    assert "（2 人次）" in page


def test_person_page_lists_results_and_certificates(client, login, users, trainee, make_agency):
    agency = make_agency(name="开封测试评价中心")
    batch = add_batch(agency, county_code="410221", level=4)
    add_result(batch, trainee, passed=True, theory="78.5", practical="66")
    add_certificate(trainee, agency, batch, number="S000041800001254000007")
    db.session.commit()
    login(users["qixian"])
    page = html_of(client.get(f"/people/{trainee.id}"))
    assert "开封测试评价中心" in page and "四级/中级工" in page and "78.50" in page and "合格" in page
    assert "S000041800001254000007" in page and "职业技能等级证书" in page and "有效" in page
    assert "2025-06-01" in page


@pytest.mark.parametrize("user", ["lankao", "agency"])
def test_a_person_outside_the_scope_is_404(client, login, users, trainee, user):
    login(users[user])
    assert client.get(f"/people/{trainee.id}").status_code == 404


def test_an_agency_sees_a_person_once_it_has_assessed_them(client, login, users, trainee):
    login(users["agency"])
    assert client.get(f"/people/{trainee.id}").status_code == 404
    assert "王晓明" not in html_of(search(client, NUMBER))
    add_result(add_batch(users["agency"].agency, county_code="410223"), trainee, passed=False, theory="40")
    db.session.commit()
    assert "王晓明" in html_of(search(client, NUMBER))
    page = html_of(client.get(f"/people/{trainee.id}"))
    assert "不合格" in page and NUMBER not in page
    # The agency sees the training record but may not open the institution's class.
    assert "本校焊工班" in page and "/training/classes/" not in page


# --- revealing the full number ----------------------------------------------------------------------------

def test_administrator_reveals_the_number_and_it_is_audited(client, login, users, trainee):
    login(users["admin"])
    response = client.post(f"/people/{trainee.id}/reveal")
    assert response.status_code == 200 and NUMBER in html_of(response)
    assert response.headers["Cache-Control"] == "no-store"
    [event] = audit_rows("reveal_document")
    assert event.actor_id == users["admin"].id
    assert (event.entity_type, event.entity_id) == ("person", str(trainee.id))
    assert NUMBER not in str(event.after)
    # The reveal is for that one response: the page shows the masked number again afterwards.
    assert NUMBER not in html_of(client.get(f"/people/{trainee.id}"))


@pytest.mark.parametrize("user", ["qixian", "institution", "agency"])
def test_other_roles_cannot_reveal(client, login, users, trainee, user):
    login(users[user])
    response = client.post(f"/people/{trainee.id}/reveal")
    assert response.status_code == 403 and NUMBER not in html_of(response)
    assert audit_rows("reveal_document") == []


def test_revealing_an_unknown_person_is_404_and_not_audited(client, login, users):
    login(users["admin"])
    assert client.post("/people/999999/reveal").status_code == 404
    assert audit_rows("reveal_document") == []


@pytest.mark.csrf
def test_a_reveal_without_the_form_token_is_refused(client, users, trainee):
    from tests.conftest import csrf_token_from

    page = html_of(client.get("/login"))
    client.post("/login", data={"username": users["admin"].username, "password": "correct-horse-1",
                                "csrf_token": csrf_token_from(page)})
    assert client.post(f"/people/{trainee.id}/reveal").status_code == 400
    assert audit_rows("reveal_document") == []
    token = csrf_token_from(html_of(client.get(f"/people/{trainee.id}")))
    assert NUMBER in html_of(client.post(f"/people/{trainee.id}/reveal", data={"csrf_token": token}))


# --- navigation -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("user", ["admin", "qixian", "institution", "agency"])
def test_every_role_finds_the_search_in_the_menu(client, login, users, user):
    login(users[user])
    assert 'href="/people"' in html_of(client.get("/dashboard"))


# --- a number outside the user's scope --------------------------------------------------------------------

def test_a_number_outside_the_scope_is_answered_like_an_unknown_number(client, login, users, trainee):
    """The agency has no record of 王晓明: his number finds what a number nobody has finds, word for word."""
    login(users["agency"]).get("/dashboard")  # shows the welcome message, so neither search page has it
    unknown = "41022119850312" + "001"
    unknown += resident_id_check_char(unknown)
    assert unknown != NUMBER
    pages = [html_of(search(client, number)) for number in (NUMBER, unknown)]
    masked = [f"{number[:6]}********{number[-4:]}" for number in (NUMBER, unknown)]
    assert masked[0] in pages[0] and masked[1] in pages[1]
    assert pages[0].replace(masked[0], "") == pages[1].replace(masked[1], "")
    assert "王" not in pages[0]
