"""A clerk fixes an import from its error file, and plans a batch choosing only what may be chosen: the
agency's filed occupations and levels, a class found by part of its name or its number, required fields
marked. Headless Chromium on the served app."""
import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from registry.assessment.models import AssessmentBatch
from registry.core.db import db
from registry.core.roles import Role
from registry.reference.models import Occupation
from registry.training.models import ClassStatus, Enrollment
from tests.helpers import resident_id, xlsx_bytes

pytestmark = pytest.mark.browser

TODAY = date.today()
HEADER = ["证件号码", "姓名", "入班日期"]
WELDER = "6-18-02-04"
AGENCY = dict(name="开封测试焊接评价中心", scopes=[(WELDER, None, 5, 4, "2024-01-01", None)])


def figures(page) -> dict[str, int]:
    page.locator("dl.figures").wait_for()
    return {box.locator("dt").inner_text(): int(box.locator("dd").inner_text())
            for box in page.locator("dl.figures > div").all()}


def upload(page, path) -> None:
    page.get_by_label(re.compile("名单文件")).set_input_files(path)
    page.get_by_role("button", name="上传并试导入").click()
    page.locator("#job-status", has_text="检查完成，待确认").wait_for(timeout=30_000)


def test_the_error_rows_download_fixed_and_upload_again(sign_in, make_user, make_institution, make_class,
                                                        tmp_path):
    institution = make_institution()
    training_class = make_class(institution, name="错误行演练焊工班", status=ClassStatus.RUNNING,
                                starts_on=TODAY - timedelta(days=5), ends_on=TODAY + timedelta(days=40))
    page = sign_in(make_user(Role.INSTITUTION, organization_id=institution.id))
    late = (training_class.ends_on + timedelta(days=3)).isoformat()
    rows = [[resident_id(1), "赵一", TODAY.isoformat()], [resident_id(2), "钱小二", late],
            [resident_id(3), "孙三", TODAY.isoformat()]]
    first = tmp_path / "名单.xlsx"
    first.write_bytes(xlsx_bytes(rows, HEADER))
    page.goto(f"/training/classes/{training_class.id}")
    page.get_by_role("link", name="导入学员名单").click()
    upload(page, first)
    assert figures(page) == {"新增": 2, "错误": 1}

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载错误行（.xlsx）").click()
    sheet = openpyxl.load_workbook(io.BytesIO(download_info.value.path().read_bytes())).active
    cells = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert cells[0][-1] == "错误原因" and len(cells) == 2 and cells[1][1] == "钱小二"
    assert "入班日期" in cells[1][-1] and "原第 3 行" in cells[1][-1]

    # The report names the person of the error row too, masked.
    page.get_by_role("link", name="查看错误行").click()
    expect(page.locator("tr.outcome-error")).to_contain_text("钱*二")

    cells[1][cells[0].index("入班日期")] = TODAY.isoformat()
    fixed = tmp_path / "名单（已改）.xlsx"
    fixed.write_bytes(xlsx_bytes(cells[1:], cells[0]))
    page.goto(f"/training/classes/{training_class.id}")
    page.get_by_role("link", name="导入学员名单").click()
    upload(page, fixed)
    assert figures(page) == {"新增": 1}
    page.get_by_role("button", name=re.compile("确认导入")).click()
    page.locator("#job-status", has_text="已导入").wait_for(timeout=30_000)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 1


@pytest.fixture
def other_occupation() -> Occupation:
    return db.session.scalar(sa.select(Occupation).where(Occupation.code != WELDER, Occupation.is_active)
                             .order_by(Occupation.code).limit(1))


def visible_options(select) -> list[str]:
    return select.evaluate("s => Array.from(s.options).filter(o => !o.hidden).map(o => o.text)")


def test_the_batch_form_offers_the_filed_scope_and_a_class_picker(sign_in, make_user, agency, make_class,
                                                                 other_occupation):
    welding = make_class(name="2025年第7期焊工培训班")
    make_class(name="2025年第8期焊工培训班")
    make_class(name="2025年第1期其他工种班", occupation_code=other_occupation.code)
    page = sign_in(make_user(Role.AGENCY, organization_id=agency.id))
    page.goto("/assessment/batches/new")

    occupation = page.get_by_label("职业", exact=True)
    assert visible_options(occupation) == ["（请选择）", "6-18-02-04 焊工"]
    occupation.select_option(label="6-18-02-04 焊工")
    assert visible_options(page.get_by_label("等级", exact=True)) == ["五级/初级工", "四级/中级工"]
    for label in ("职业", "等级", "认定日期", "认定地点（县区）"):
        expect(page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")).locator("+ span.required")) \
            .to_have_text("*")
    expect(page.locator("label[for=training_class_id] + span.required")).to_have_count(0)

    picker = page.get_by_label("关联培训班")
    assert "其他工种" not in " ".join(visible_options(picker))
    page.get_by_placeholder("输入班级名称或编号筛选").fill("第7期")
    assert visible_options(picker) == ["（不关联）", *[text for text in visible_options(picker)[1:]
                                                  if text.startswith(f"{welding.id} · 2025年第7期焊工培训班")]]
    assert len(visible_options(picker)) == 2
    page.get_by_placeholder("输入班级名称或编号筛选").fill(str(welding.id))
    assert any(text.startswith(f"{welding.id} · ") for text in visible_options(picker))
    picker.select_option(value=str(welding.id))
    page.get_by_label("等级", exact=True).select_option(label="四级/中级工")
    page.get_by_label("认定日期").fill("2025-05-10")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("认定批次已创建")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"2025年第7期焊工培训班（编号 {welding.id}）")
    db.session.expire_all()
    assert db.session.scalar(sa.select(AssessmentBatch.training_class_id)) == welding.id


def test_the_administrator_is_offered_the_chosen_agencys_occupations(sign_in, make_user, agency):
    page = sign_in(make_user(Role.ADMIN))
    page.goto("/assessment/batches/new")
    occupation = page.get_by_label("职业", exact=True)
    assert len(visible_options(occupation)) > 2  # no agency chosen yet: every occupation
    page.get_by_label("评价机构").select_option(label=agency.name)
    assert visible_options(occupation) == ["（请选择）", "6-18-02-04 焊工"]
