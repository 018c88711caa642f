"""A new institution user runs a class end to end in the browser: class, roster, completions, export."""
import csv
import io
import re
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from playwright.sync_api import expect

from registry.core.roles import Role
from tests.helpers import resident_id

pytestmark = pytest.mark.browser

TODAY = date.today()
STARTS_ON, ENDS_ON = TODAY - timedelta(days=20), TODAY + timedelta(days=40)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN_NAMES = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
               "秀英", "桂兰", "建华", "志强", "海燕", "红梅", "国庆", "春生"]
BAD_CHECK_DIGIT_INDEX, UNKNOWN_COUNTY_INDEX = 41, 317  # Excel rows 43 and 319: the header is row 1


@pytest.fixture
def institution_user(make_institution, make_user):
    institution = make_institution(name="开封市祥符区阳光职业培训学校")
    return make_user(Role.INSTITUTION, organization_id=institution.id, username="yangguang")


def trainees(count: int) -> list[dict]:
    return [{"证件号码": resident_id(number, born=date(1975, 1, 1) + timedelta(days=number * 13)), "姓名": SURNAMES[number % 20] + GIVEN_NAMES[number % 25],
             "所在县区": "杞县" if number % 3 else "兰考县", "重点群体": "农村劳动力" if number % 2 else "",
             "入班日期": STARTS_ON} for number in range(1, count + 1)]


def fill_template(template: bytes, rows: list[dict]) -> bytes:
    """What a user does with the downloaded template: drop the sample row, type the roster below."""
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook.active
    headers = [cell.value for cell in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    for row in rows:
        sheet.append([datetime.combine(row[header], datetime.min.time()) if header == "入班日期"
                      else row.get(header, "") for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def gbk_csv(rows: list[dict]) -> bytes:
    """What Excel on a Chinese Windows writes for "CSV (逗号分隔)": GBK, CRLF, dates as 2025/3/5."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["证件号码", "姓名", "所在县区", "重点群体", "入班日期"])
    for row in rows:
        day = row["入班日期"]
        writer.writerow([row["证件号码"], row["姓名"], row["所在县区"], row["重点群体"],
                         f"{day.year}/{day.month}/{day.day}"])
    return buffer.getvalue().encode("gbk")


def figures(page) -> dict[str, int]:
    """The dry-run report's counts as the user reads them: {"新增": 498, "错误": 2}."""
    page.locator("dl.figures").wait_for()
    return {box.locator("dt").inner_text(): int(box.locator("dd").inner_text())
            for box in page.locator("dl.figures > div").all()}


def wait_for_status(page, label: str) -> None:
    # The page polls while the import runs and reloads itself when it is done.
    page.locator("#job-status", has_text=label).wait_for(timeout=30_000)


def create_class(page, name: str, starts_on: date = STARTS_ON, ends_on: date = ENDS_ON) -> None:
    page.locator("nav.menu").get_by_role("link", name="培训班", exact=True).click()
    page.get_by_role("link", name="新建培训班").click()
    page.get_by_label("班级名称").fill(name)
    page.get_by_label("职业", exact=True).select_option(label="6-18-02-04 焊工")
    page.get_by_label("目标等级").select_option(label="五级/初级工")
    page.get_by_label("培训类型").select_option(label="就业技能培训")
    page.get_by_label("专项工程").select_option(label="开封制造")
    page.get_by_label("补贴性培训").check()
    page.get_by_label("计划学时").fill("80")
    page.get_by_label("开始日期").fill(starts_on.isoformat())
    page.get_by_label("结束日期").fill(ends_on.isoformat())
    page.get_by_label("培训地点（县区）").select_option(label="杞县（410221）")
    page.get_by_role("button", name="保存").click()


def upload(page, path) -> None:
    page.get_by_label(re.compile("名单文件")).set_input_files(path)
    page.get_by_role("button", name="上传并试导入").click()


def test_class_roster_completion_and_export(sign_in, institution_user, tmp_path):
    page = sign_in(institution_user)
    create_class(page, "2025年第3期焊工（初级）培训班")
    expect(page.get_by_text("培训班已创建")).to_be_visible()
    expect(page.get_by_text("开班（点击上方按钮改为“进行中”）后才能为学员办理结业")).to_be_visible()
    page.get_by_role("button", name="改为“进行中”").click()
    expect(page.get_by_text("培训班状态已改为“进行中”")).to_be_visible()

    page.get_by_role("link", name="导入学员名单").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载 Excel 模板").click()
    download = download_info.value
    assert download.suggested_filename == "学员名单模板.xlsx"
    roster = trainees(500)
    number = roster[BAD_CHECK_DIGIT_INDEX]["证件号码"]
    roster[BAD_CHECK_DIGIT_INDEX]["证件号码"] = number[:-1] + ("1" if number[-1] == "0" else "0")
    roster[UNKNOWN_COUNTY_INDEX]["所在县区"] = "朝阳区"
    workbook_path = tmp_path / "第3期焊工班花名册.xlsx"
    workbook_path.write_bytes(fill_template(download.path().read_bytes(), roster))
    upload(page, workbook_path)

    wait_for_status(page, "检查完成，待确认")
    assert figures(page) == {"新增": 498, "错误": 2}
    expect(page.get_by_text("尚未写入任何数据")).to_be_visible()
    page.screenshot(path=tmp_path / "dry_run.png")
    page.get_by_role("link", name="查看错误行").click()
    expect(page.get_by_label("只看")).to_have_value("error")
    errors = [[cell.inner_text() for cell in row.locator("td").all()]
              for row in page.locator("#outcomes tbody tr").all()]
    assert [row[0] for row in errors] == ["43", "319"]
    assert errors[0][3] == "证件号码" and "校验码" in errors[0][4]
    assert errors[1][3] == "所在县区" and "未知的县区：朝阳区" in errors[1][4]

    page.get_by_label("跳过 2 行错误").check()
    page.get_by_role("button", name="确认导入（498 行）").click()
    wait_for_status(page, "已导入")
    expect(page.get_by_text("导入完成：已写入 498 行")).to_be_visible()

    # The same people again, now as the CSV Excel saves on a Chinese Windows: nobody is enrolled twice.
    page.get_by_role("link", name="返回查看").click()
    page.get_by_role("link", name="导入学员名单").click()
    csv_path = tmp_path / "第3期焊工班花名册.csv"
    bad = (BAD_CHECK_DIGIT_INDEX, UNKNOWN_COUNTY_INDEX)
    clean = [row for index, row in enumerate(roster) if index not in bad]
    csv_path.write_bytes(gbk_csv(clean))
    upload(page, csv_path)
    wait_for_status(page, "检查完成，待确认")
    assert figures(page) == {"跳过": 498}
    expect(page.get_by_text("没有需要写入的行：498 行已有记录")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("确认导入"))).to_have_count(0)
    expect(page.locator("#outcomes tbody tr", has_text="已在本班，不重复报名")).to_have_count(100)  # the first page

    page.get_by_role("link", name="返回", exact=True).click()
    expect(page.get_by_role("heading", name="学员（498 人次）")).to_be_visible()
    page.screenshot(path=tmp_path / "class.png")
    first = page.locator("#trainees tbody tr").first
    first_name = first.locator("td").first.inner_text()
    first.get_by_role("button", name="结业", exact=True).click()
    expect(page.get_by_text(f"{first_name} 已结业。")).to_be_visible()
    page.get_by_role("link", name="全部结业").click()  # the form sits below 20 pages of trainees
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="全部结业").click()
    expect(page.get_by_text("已为 497 名在训学员办理结业。")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.dismiss())  # finishing is for good: the page asks first
    page.get_by_role("button", name="改为“已结束”").click()
    expect(page.get_by_role("heading", name="2025年第3期焊工（初级）培训班 进行中")).to_be_visible()

    page.get_by_role("link", name="学员名单与导出").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Excel（.xlsx）").click()
    exported = openpyxl.load_workbook(io.BytesIO(download_info.value.path().read_bytes())).active
    header, *rows = list(exported.iter_rows(values_only=True))
    assert header[:3] == ("姓名", "证件类型", "证件号码（脱敏）") and "结业日期" in header
    assert len(rows) == 498
    assert {row[header.index("状态")] for row in rows} == {"已结业"}
    numbers = {row["证件号码"] for row in clean}
    cells = {str(value) for row in rows for value in row}
    assert not cells & numbers, "the export must not contain plain ID numbers"
    assert all("*" in row[2] for row in rows)


def test_bad_file_and_bad_dates_are_explained_not_server_errors(sign_in, institution_user, tmp_path):
    page = sign_in(institution_user)
    create_class(page, "日期填反的班", starts_on=TODAY, ends_on=TODAY - timedelta(days=1))
    expect(page.get_by_text("结束日期：不能早于开始日期").first).to_be_visible()
    expect(page.locator(".has-error").get_by_label("结束日期")).to_be_visible()

    page.get_by_label("结束日期").fill((TODAY + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("培训班已创建")).to_be_visible()
    page.get_by_role("link", name="导入学员名单").click()
    pdf = tmp_path / "花名册.pdf"
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n")
    upload(page, pdf)
    wait_for_status(page, "失败")
    expect(page.get_by_role("alert")).to_have_text("文件不是 Excel (.xlsx) 或 CSV 表格")
    expect(page.get_by_role("button", name=re.compile("确认导入"))).to_have_count(0)


def page_fits_width(page) -> bool:
    page.wait_for_load_state()  # a click returns once the page commits, maybe before its stylesheet applies
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_class_list_fits_a_phone(sign_in, institution_user):
    page = sign_in(institution_user)
    create_class(page, "2025年第4期焊工（初级）培训班")
    expect(page.get_by_text("培训班已创建")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    for link in ("学员", "培训班"):
        page.locator("nav.menu").get_by_role("link", name=link, exact=True).click()
        assert page_fits_width(page), link
    # The table scrolls inside its wrapper rather than squeezing the institution's name to a character a line.
    assert page.locator(".table-wrap").evaluate("wrapper => wrapper.scrollWidth > wrapper.clientWidth")
    page.get_by_role("link", name="2025年第4期焊工（初级）培训班").click()
    assert page_fits_width(page)
