"""An agency runs an assessment batch end to end in the browser: batch, results upload, approval, issue,
then revokes one certificate and corrects another."""
import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from registry.core.roles import Role
from registry.certificates.models import Certificate, CertificateStatus
from registry.core.db import db
from tests.helpers import resident_id

pytestmark = pytest.mark.browser

WELDER = "6-18-02-04"
SITE_CODE = "000731"
ASSESSED_ON = date.today() - timedelta(days=3)
CANDIDATES = 200
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN_NAMES = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
               "秀英", "桂兰", "建华", "志强", "海燕", "红梅", "国庆", "春生"]


@pytest.fixture
def agency_user(make_agency, make_user):
    agency = make_agency(name="开封市金明焊接技能评价中心", site_code=SITE_CODE, county_code="410221",
                         scopes=[(WELDER, None, 5, 3, "2024-01-01", None)])
    return make_user(Role.AGENCY, organization_id=agency.id, username="jinming")


def fails(number: int) -> bool:
    return number % 9 == 0


def candidates() -> list[dict]:
    """Scores as typed into the template's text-formatted columns; every ninth candidate fails one part."""
    rows = []
    for number in range(1, CANDIDATES + 1):
        theory, practical = 60 + number % 40, f"{65 + number % 30}.5"
        if fails(number):
            # Alternate the failed part: each of theory and practical must reach the pass mark on its own.
            theory, practical = (45, practical) if number % 2 else (theory, "59.5")
        rows.append({"证件类型": "居民身份证", "证件号码": resident_id(number, born=date(1980, 3, 1) + timedelta(days=number * 29)),
                     "姓名": SURNAMES[number % 20] + GIVEN_NAMES[number % 25],
                     "所在县区": "杞县" if number % 3 else "兰考县",
                     "理论知识成绩": str(theory), "操作技能成绩": str(practical)})
    return rows


PASSED = sum(not fails(number) for number in range(1, CANDIDATES + 1))


def fill_template(template: bytes, rows: list[dict]) -> bytes:
    """What a user does with the downloaded template: drop the sample row, type the results below."""
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook.active
    headers = [cell.value for cell in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    for row in rows:
        sheet.append([row.get(header, "") for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def figures(page) -> dict[str, int]:
    """The dry-run report's counts as the user reads them: {"新增": 200}."""
    page.locator("dl.figures").wait_for()
    return {box.locator("dt").inner_text(): int(box.locator("dd").inner_text())
            for box in page.locator("dl.figures > div").all()}


def wait_for_status(page, label: str) -> None:
    # The page polls while the import runs and reloads itself when it is done.
    page.locator("#job-status", has_text=label).wait_for(timeout=30_000)


def confirm_next_dialog(page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())


def create_batch(page) -> None:
    page.locator("nav.menu").get_by_role("link", name="认定批次", exact=True).click()
    page.get_by_role("link", name="新建认定批次").click()
    expect(page.get_by_text("开封市金明焊接技能评价中心 的备案范围")).to_be_visible()
    page.get_by_label("职业", exact=True).select_option(label=f"{WELDER} 焊工")
    page.get_by_label("等级").select_option(label="五级/初级工")
    page.get_by_label("认定日期").fill(ASSESSED_ON.isoformat())
    # The agency's own county is preselected; the assessment takes place in 杞县 anyway.
    expect(page.get_by_label("认定地点（县区）")).to_have_value("410221")
    page.get_by_role("button", name="保存").click()


def upload_results(page, tmp_path) -> None:
    page.get_by_role("link", name="导入成绩").click()
    expect(page.get_by_role("heading", name="导入认定成绩 · 焊工 五级/初级工")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载 Excel 模板").click()
    download = download_info.value
    assert download.suggested_filename == "认定成绩模板.xlsx"
    workbook_path = tmp_path / "焊工五级成绩.xlsx"
    workbook_path.write_bytes(fill_template(download.path().read_bytes(), candidates()))
    page.get_by_label(re.compile("成绩文件")).set_input_files(workbook_path)
    page.get_by_role("button", name="上传并试导入").click()


def tally(page):
    """The batch summary's "考生 / 合格 / 已发证" cell."""
    return page.locator("th", has_text="考生 / 合格 / 已发证").locator("xpath=following-sibling::td[1]")


def result_rows(page):
    # The batch's summary table has no header row; the results grid is the table with one.
    return page.locator("table:has(thead) tbody tr")


def cell_texts(row) -> list[str]:
    return [cell.inner_text().strip() for cell in row.locator("td").all()]


def test_batch_results_issue_revoke_and_correct(sign_in, agency_user, tmp_path):
    page = sign_in(agency_user)
    create_batch(page)
    expect(page.get_by_text("认定批次已创建，可以开始录入成绩。")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"认定批次 第 \d+ 批 计划中"))).to_be_visible()
    batch_url = page.url

    # Results: template → 200 rows → dry run → commit.
    upload_results(page, tmp_path)
    wait_for_status(page, "检查完成，待确认")
    assert figures(page) == {"新增": CANDIDATES}
    expect(page.get_by_text("尚未写入任何数据")).to_be_visible()
    expect(page.locator("#outcomes tbody tr", has_text="不合格")).to_have_count(
        sum(fails(number) for number in range(1, 101)))  # the first page of 100 rows
    page.get_by_role("button", name=f"确认导入（{CANDIDATES} 行）").click()
    wait_for_status(page, "已导入")
    expect(page.get_by_text(f"导入完成：已写入 {CANDIDATES} 行")).to_be_visible()
    page.get_by_role("link", name="返回查看").click()

    expect(page.get_by_role("heading", name=re.compile(" 已录入成绩$"))).to_be_visible()
    expect(page.get_by_role("heading", name=f"成绩（{CANDIDATES} 人）")).to_be_visible()
    expect(tally(page)).to_have_text(f"{CANDIDATES} / {PASSED} / 0")
    first = cell_texts(result_rows(page).first)  # entry order: the file's first row
    assert first[0] == SURNAMES[1] + GIVEN_NAMES[1] and "*" in first[1] and first[2:6] == ["61.00", "66.50",
                                                                                            "合格", ""]  # one wording with the results file
    ninth = cell_texts(result_rows(page).nth(8))
    assert ninth[2] == "45.00" and ninth[4] == "不合格"
    expect(result_rows(page).filter(has_text="不合格")).to_have_count(2)  # rows 9 and 18 of the first 25

    # Approval, then issue: the confirmation page says how many certificates will be issued.
    confirm_next_dialog(page)
    page.get_by_role("button", name="审核成绩").click()
    expect(page.get_by_text("批次已审核，成绩不能再修改；现在可以发证。")).to_be_visible()
    expect(page.get_by_role("link", name="导入成绩")).to_have_count(0)
    page.get_by_role("link", name="发证…").click()
    expect(page.get_by_text(f"将为 {PASSED} 名合格人员发证。")).to_be_visible()
    confirm_next_dialog(page)
    page.get_by_role("button", name=f"确认发证（{PASSED} 本）").click()
    yy = f"{date.today():%y}"
    prefix = f"S000041{SITE_CODE}{yy}5"
    # Each certificate's PDF is rendered to fix its hash: ~3 s here, more on a busy machine.
    expect(page.get_by_text(f"已发证 {PASSED} 本，证书编号 {prefix}000001 至 {prefix}{PASSED:06d}。")).to_be_visible(
        timeout=30_000)
    page.get_by_role("link", name="返回批次").click()  # issuing is a job: its page stays until the clerk leaves
    expect(page.get_by_role("heading", name=re.compile(" 已发证$"))).to_be_visible()
    expect(tally(page)).to_have_text(f"{CANDIDATES} / {PASSED} / {PASSED}")

    page.get_by_role("link", name="本批证书", exact=True).click()
    expect(page.get_by_text(f"共 {PASSED} 条")).to_be_visible()
    numbers = [row.locator("td").first.inner_text() for row in page.locator("tbody tr").all()]
    assert len(numbers) == 25
    # 人社鉴发〔2019〕2号: S (social agency) · ministry code 0000 · 41 · site code · yy · level 5 · serial.
    assert all(re.fullmatch(rf"S000041{SITE_CODE}{yy}5\d{{6}}", number) for number in numbers), numbers
    # Issued in the grid's entry order; the list opens newest first, so the last serials lead.
    assert numbers == [f"{prefix}{serial:06d}" for serial in range(PASSED, PASSED - 25, -1)]
    page.get_by_role("link", name="证书编号").click()  # the clerk sorts by number to work through in order
    expect(page.locator("tbody tr").first).to_contain_text(f"{prefix}{1:06d}")
    in_order = page.url
    numbers = [row.locator("td").first.inner_text() for row in page.locator("tbody tr").all()]
    assert numbers == [f"{prefix}{serial:06d}" for serial in range(1, 26)]
    expect(page.locator("tbody tr", has_text="有效")).to_have_count(25)

    # Revoke one: the reason is mandatory.
    revoked_number, corrected_number = numbers[0], numbers[1]
    page.get_by_role("link", name=revoked_number).click()
    expect(page.get_by_role("heading", name=f"证书 {revoked_number} 有效")).to_be_visible()
    page.get_by_role("link", name="撤销证书").click()
    page.get_by_role("button", name="确认撤销").click()  # no "are you sure?" while the reason is empty
    expect(page.get_by_text("撤销原因：不能为空")).to_be_visible()
    page.get_by_label("撤销原因").fill("经核查，该考生操作技能考核由他人代考")
    confirm_next_dialog(page)
    page.get_by_role("button", name="确认撤销").click()
    expect(page.get_by_text(f"证书 {revoked_number} 已撤销。")).to_be_visible()
    expect(page.get_by_role("heading", name=f"证书 {revoked_number} 已撤销")).to_be_visible()
    expect(page.get_by_text("撤销原因：经核查，该考生操作技能考核由他人代考")).to_be_visible()
    expect(page.get_by_role("link", name="撤销证书")).to_have_count(0)

    # Correct another: a new number supersedes it, and each page links to the other.
    page.goto(in_order)
    page.get_by_role("link", name=corrected_number).click()
    page.get_by_role("link", name="更正证书").click()
    expect(page.get_by_text(f"现姓名：{SURNAMES[2] + GIVEN_NAMES[2]}")).to_be_visible()
    page.get_by_label("更正原因").fill("姓名录入错误")
    page.get_by_label("更正后姓名").fill("张娜娜")
    confirm_next_dialog(page)
    page.get_by_role("button", name="确认更正").click()
    replacement = f"{prefix}{PASSED + 1:06d}"
    expect(page.get_by_text(f"已签发更正证书 {replacement}，原证书 {corrected_number} 已被替代。")).to_be_visible()
    expect(page.get_by_role("heading", name=f"证书 {replacement} 有效")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^姓名"))).to_contain_text("张娜娜")
    expect(page.get_by_text(f"本证书为更正后签发，替代原证书 {corrected_number}。")).to_be_visible()
    page.get_by_role("link", name=corrected_number).click()
    expect(page.get_by_role("heading", name=f"证书 {corrected_number} 已被替代")).to_be_visible()
    expect(page.get_by_text(re.compile(f"本证书已更正，由新证书\\s*{replacement}\\s*替代。"))).to_be_visible()
    expect(page.get_by_text("更正原因：姓名录入错误")).to_be_visible()
    expect(page.get_by_role("link", name="更正证书")).to_have_count(0)

    # The batch still counts first issues only; its grid shows each old number's status and its replacement.
    page.get_by_role("link", name=re.compile(r"认定批次 第 \d+ 批")).click()
    page.wait_for_url(batch_url)
    expect(tally(page)).to_have_text(f"{CANDIDATES} / {PASSED} / {PASSED}")

    expect(result_rows(page).filter(has_text=revoked_number)).to_contain_text("（已撤销）")
    corrected_row = result_rows(page).filter(has_text=corrected_number)
    expect(corrected_row).to_contain_text(f"（已被替代，新证书 {replacement}）")
    corrected_row.get_by_role("link", name=replacement).click()
    expect(page.get_by_role("heading", name=f"证书 {replacement} 有效")).to_be_visible()

    statuses = dict(db.session.execute(sa.select(Certificate.status, sa.func.count())
                                       .group_by(Certificate.status)).all())
    assert statuses == {CertificateStatus.VALID: PASSED - 1, CertificateStatus.REVOKED: 1,
                        CertificateStatus.SUPERSEDED: 1}
