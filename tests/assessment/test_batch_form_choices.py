"""The batch form offers what may be chosen: the agency's filed occupations and levels, the classes it may
link (picked from a list, never typed as an id), and marks its required fields."""
import re

import pytest
import sqlalchemy as sa

from registry.assessment.models import AssessmentBatch
from registry.assessment.operations import create_batch
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.core.roles import Role
from registry.reference.models import Occupation
from tests.helpers import count

WELDER = "6-18-02-04"
AGENCY = dict(name="开封测试焊接评价中心", scopes=[(WELDER, None, 5, 4, "2024-01-01", None)])


def occupation(code: str) -> Occupation:
    return db.session.scalar(sa.select(Occupation).where(Occupation.code == code))


@pytest.fixture
def other_occupation() -> Occupation:
    """An active occupation the agency has not filed for."""
    return db.session.scalar(sa.select(Occupation).where(Occupation.code != WELDER, Occupation.is_active)
                             .order_by(Occupation.code).limit(1))


@pytest.fixture
def agency_user(make_user, agency):
    return make_user(Role.AGENCY, organization_id=agency.id)


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", option).strip() for option in re.findall(r"<option.*?</option>", select, re.S)]


def test_an_agency_is_offered_only_its_filed_occupations_and_levels(client, login, agency_user, other_occupation):
    login(agency_user)
    html = client.get("/assessment/batches/new").get_data(as_text=True)
    welder = occupation(WELDER)
    assert options(html, "occupation_id") == ["（请选择）", str(welder)]
    assert str(other_occupation) not in html
    assert options(html, "level") == ["五级/初级工", "四级/中级工"]
    assert f'value="{welder.id}" data-levels="5 4"' in html or f'data-levels="5 4" value="{welder.id}"' in html


def test_the_class_is_picked_from_the_classes_the_agency_may_link(client, login, agency_user, make_class,
                                                                  other_occupation, agency):
    welding = make_class(name="2025年第1期焊工培训班")
    cooking = make_class(name="2025年第1期烹饪培训班", occupation_code=other_occupation.code)
    login(agency_user)
    html = client.get("/assessment/batches/new").get_data(as_text=True)
    picked = options(html, "training_class_id")
    assert picked[0] == "（不关联）" and len(picked) == 2
    assert picked[1].startswith(f"{welding.id} · 2025年第1期焊工培训班（") and "2025-03-01 至 2025-04-30" in picked[1]
    assert "烹饪" not in html and 'data-option-filter="输入班级名称或编号筛选"' in html

    form = {"occupation_id": str(occupation(WELDER).id), "work_type": "", "level": "4",
            "assessed_on": "2025-05-10", "assessed_until": "", "county_code": "410221"}
    refused = client.post("/assessment/batches/new", data=form | {"training_class_id": str(cooking.id)})
    assert "关联培训班：请从列表中选择培训班" in refused.get_data(as_text=True)
    # The operation refuses it too, answering as for a class that does not exist.
    with pytest.raises(InvalidInput, match=f"关联培训班：培训班 {cooking.id} 不存在"):
        create_batch(agency_user, agency_id=None, occupation_id=occupation(WELDER).id, work_type=None, level=4,
                     assessed_on=welding.ends_on, county_code="410221", training_class_id=cooking.id)
    created = client.post("/assessment/batches/new", data=form | {"training_class_id": str(welding.id)})
    assert created.status_code == 302
    assert count(AssessmentBatch, AssessmentBatch.training_class_id == welding.id) == 1


def test_required_fields_carry_a_mark_and_optional_ones_none(client, login, agency_user):
    login(agency_user)
    html = client.get("/assessment/batches/new").get_data(as_text=True)
    marked = set(re.findall(r'<label for="\w+">([^<]+)</label><span class="required" title="必填">\*</span>', html))
    assert marked == {"职业", "等级", "认定日期", "认定地点（县区）"}


def test_the_administrator_sees_each_agencys_filed_occupations_on_its_option(client, login, make_user, agency):
    login(make_user(Role.ADMIN))
    html = client.get("/assessment/batches/new").get_data(as_text=True)
    option = re.search(rf'<option[^>]*value="{agency.id}"[^>]*>', html).group(0)
    assert f'data-occupations="{occupation(WELDER).id}"' in option
    assert 'data-occupation-select="occupation_id"' in html
