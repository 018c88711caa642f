"""The page benchmark's arithmetic and record (benchmarks/pages): its verdicts, its table, the docs section it
rewrites and the addresses it derives. No server and no clock: the timings here are made up."""
import pytest

from benchmarks.common import Result
from benchmarks.pages import report
from benchmarks.pages.catalogue import with_page
from benchmarks.pages.client import page_count
from benchmarks.pages.report import PageKey, Timing, rewrite_section, verdicts

ADMIN, COUNTY = "admin", "county"


def timing(*milliseconds: float) -> Timing:
    return Timing(tuple(value / 1e3 for value in milliseconds))


def test_the_median_and_its_spread():
    measured = timing(30, 10, 20, 50, 40)
    assert measured.median == pytest.approx(0.030)
    assert measured.brief() == "30.0 ms (10.0 ms–50.0 ms)"


def test_each_ratio_is_checked_against_its_own_limit():
    stats, first, last = PageKey("/stats", ADMIN), PageKey("/certificates", ADMIN), \
        PageKey("/certificates last page", ADMIN, first_page="/certificates")
    small = {stats: timing(20), first: timing(40), last: timing(40)}
    large = {stats: timing(25), first: timing(60), last: timing(350)}
    rows = {row.key: row for row in verdicts([stats, first, last], small, large, {})}
    assert rows[stats].misses == [] and rows[stats].cockpit is None
    assert rows[first].growth == pytest.approx(1.5) and rows[first].misses == []
    assert rows[first].cockpit == pytest.approx(60 / 25)
    worst = rows[last]
    assert worst.growth == pytest.approx(350 / 40) and worst.depth == pytest.approx(350 / 60)
    assert worst.cockpit == pytest.approx(14.0)
    assert [miss.split()[0] for miss in worst.misses] == ["larger÷smaller", "last÷first", "÷/stats"]
    assert worst.over_guide and worst.wants_plans


def test_a_ratio_at_its_limit_passes():
    stats, page = PageKey("/stats", ADMIN), PageKey("/training/classes", ADMIN)
    [_stats, row] = verdicts([stats, page], {stats: timing(10), page: timing(50)},
                             {stats: timing(20), page: timing(100)}, {})
    assert row.growth == pytest.approx(2.0) and row.cockpit == pytest.approx(5.0)
    assert row.misses == [] and not row.over_guide and not row.wants_plans


def test_a_role_without_the_cockpit_is_compared_with_another_roles():
    stats, verify = PageKey("/stats", ADMIN), PageKey("/verify/<number>", "anyone")
    rows = verdicts([stats, verify], {}, {stats: timing(20), verify: timing(200)}, {})
    assert rows[1].cockpit == pytest.approx(10.0) and rows[1].growth is None
    assert rows[1].misses == ["÷/stats 10.0× > 5×"]


def test_a_page_not_timed_keeps_its_reason_in_the_table():
    stats, audit = PageKey("/stats", ADMIN), PageKey("/admin/audit", COUNTY)
    rows = verdicts([stats, audit], {stats: timing(10)}, {stats: timing(12)},
                    {audit: "not this role's page (403)"})
    assert rows[1].large is None and rows[1].misses == []
    lines = report.table(rows, 100_000, 1_350_000).splitlines()
    assert "1.35M÷100k (≤ 2×)" in lines[0]
    assert lines[-1] == "| /admin/audit | county | — | — | | | | not this role's page (403) |"
    assert "1 pages timed (1 not: see the table); 0 miss a target" in report.summary(rows)


def test_an_over_limit_figure_is_marked_in_the_table():
    stats, funnel = PageKey("/stats", ADMIN), PageKey("/stats/funnel", ADMIN)
    rows = verdicts([stats, funnel], {stats: timing(20), funnel: timing(100)},
                    {stats: timing(20), funnel: timing(5900)}, {})
    line = report.table(rows, 100_000, 1_350_000).splitlines()[-1]
    assert "| 59.00× **OVER** |  | 295.00× **OVER** | over |" in line
    assert "5,900 ms" in line


def test_the_runner_counts_any_missed_target_as_over_its_limit():
    assert not Result("page", "SQLite", 1, 1.0, 1.0, limit=2.0).over_limit
    assert Result("page", "SQLite", 1, 1.0, 1.0, limit=2.0, misses=("÷/stats 6.0× > 5×",)).over_limit
    assert Result("page", "SQLite", 1, 3.0, 1.0, limit=2.0).over_limit


DOCUMENT = """# Benchmarks

## coverage — the [Cockpit] issue's 1.35M persons

Coverage text.

## pages — the [City scale] issue's page table

How it works, written by hand.

## Latest figures

Older figures.
"""


def test_the_first_run_of_an_engine_adds_its_block_at_the_end_of_the_section():
    written = rewrite_section(DOCUMENT, "SQLite:1350000", "| table one |")
    begin, end = report.markers("SQLite:1350000")
    assert written.index("How it works") < written.index(begin) < written.index("| table one |") \
        < written.index(end) < written.index("## Latest figures")
    assert written.replace(f"{begin}\n| table one |\n{end}\n\n", "") == DOCUMENT


def test_a_later_run_replaces_only_its_own_engines_block():
    both = rewrite_section(rewrite_section(DOCUMENT, "SQLite:1350000", "old SQLite"), "PostgreSQL:1350000",
                           "PostgreSQL table")
    again = rewrite_section(both, "SQLite:1350000", "new SQLite")
    assert "old SQLite" not in again and again.count("new SQLite") == 1
    assert "PostgreSQL table" in again and "How it works, written by hand." in again
    assert again.index("new SQLite") < again.index("PostgreSQL table") < again.index("## Latest figures")


def test_a_document_without_the_section_is_refused():
    with pytest.raises(ValueError, match="no section"):
        rewrite_section("# Benchmarks\n\n## coverage\n", "SQLite:1350000", "table")


def test_the_last_section_takes_its_block_at_the_end_of_the_document():
    document = DOCUMENT.split("## Latest figures")[0].rstrip() + "\n"
    written = rewrite_section(document, "SQLite:20000", "table")
    assert written.endswith("table\n<!-- pages:SQLite:20000:end -->\n")


def test_a_list_address_asks_for_a_page_and_keeps_its_filter():
    assert with_page("/stats/funnel/failed?county=410221", 12) == "/stats/funnel/failed?county=410221&page=12"
    assert with_page("/certificates?page=3&sort=number", 2000) == "/certificates?sort=number&page=2000"
    assert with_page("/people?q=%E7%8E%8B", 2) == "/people?q=%E7%8E%8B&page=2"


def test_the_pagers_page_count_is_read_with_its_thousands_separator():
    assert page_count('<nav class="pager"><span>共 54,321 条，第 1 / 2,173 页</span></nav>') == 2173
    assert page_count("<p>没有记录</p>") is None


def test_a_statement_shared_by_pages_is_numbered_and_printed_once():
    from benchmarks.pages.slow_sql import Profile, Statement, numbered, statements_markdown

    scan = "SELECT count(*)\n  FROM certificates"
    first = Profile(0.5, 4, 0.45, [Statement(scan, (), 0.4, "SCAN certificates"),
                                   Statement("SELECT 1", (), 0.002, "SCAN CONSTANT ROW")])
    second = Profile(0.7, 2, 0.6, [Statement(scan, (), 0.6, "SCAN certificates")])
    numbers = numbered([first, second])
    assert numbers == {scan: 1, "SELECT 1": 2}
    assert second.brief(numbers) == "in-process 700 ms, 2 statements taking 600 ms; slowest: S1 600.0 ms"
    printed = statements_markdown([first, second], numbers)
    assert printed.count("SELECT count(*) FROM certificates") == 1 and "S1 (up to 600.0 ms)" in printed
    assert Profile(0.1, 3, 0.0005, []).brief(numbers).endswith("slowest: none over 1 ms")


def test_an_exports_shape_is_read_from_its_sheet_and_written_again_by_openpyxl():
    from benchmarks.pages import raw_xlsx
    from registry.core.spreadsheet_files import write_xlsx

    exported = write_xlsx(["姓名", "证件号码", "入班日期"],
                          [[f"学员{n}", "410221********1234", "2025-03-01"] for n in range(25)], "未参加认定")
    assert raw_xlsx.shape(exported) == (26, 3)
    raw = raw_xlsx.written_by_openpyxl(26, 3)
    assert (raw.rows, raw.columns) == (26, 3) and raw.seconds > 0


def test_the_exports_table_sets_each_export_beside_openpyxl_at_both_sizes():
    export, page = PageKey("/stats/funnel/failed.xlsx city", ADMIN), PageKey("/stats", ADMIN)
    small = {export: timing(200), page: timing(20)}
    large = {export: timing(3000), page: timing(22)}
    raws = ({export: report.Raw(20_001, 8, 0.150)}, {export: report.Raw(300_001, 8, 2.5)})
    text = report.exports_table([page, export], (100_000, 1_350_000), (small, large), raws)
    lines = text.splitlines()
    assert len(lines) == 3  # the header, its rule and the one export: /stats has no openpyxl side
    assert lines[2] == ("| /stats/funnel/failed.xlsx city | admin | 20,000 × 8 | 200 ms | 150 ms | 1.33× | "
                        "300,000 × 8 | 3,000 ms | 2,500 ms | 1.20× |")


def test_the_engines_table_sets_each_page_on_postgresql_beside_sqlite():
    stats, people = PageKey("/stats", ADMIN), PageKey("/people by name", COUNTY)
    verify = PageKey("/verify", "anyone")
    sqlite = ({stats: timing(20), people: timing(30)}, {stats: timing(20), people: timing(40)})
    postgresql = ({stats: timing(30), people: timing(15)}, {stats: timing(25), people: timing(40)})
    text = report.engines_table([stats, people, verify], (100_000, 1_350_000), sqlite, postgresql)
    lines = text.splitlines()
    assert lines[0] == ("| page | role | 100k SQLite | 100k PostgreSQL | 100k PostgreSQL÷SQLite | "
                        "1.35M SQLite | 1.35M PostgreSQL | 1.35M PostgreSQL÷SQLite (≤ 1×) |")
    assert len(lines) == 4  # /verify was timed on neither engine
    assert lines[2] == ("| /stats | admin | 20.0 ms | 30.0 ms | 1.50× **OVER** | 20.0 ms | 25.0 ms | "
                        "1.25× **OVER** |")
    assert lines[3] == "| /people by name | county | 30.0 ms | 15.0 ms | 0.50× | 40.0 ms | 40.0 ms | 1.00× |"


def test_the_engines_summary_counts_the_pages_postgresql_serves_as_fast():
    keys = [PageKey(f"/page{number}", ADMIN) for number in range(4)]
    sqlite = {key: timing(10) for key in keys}
    postgresql = {keys[0]: timing(5), keys[1]: timing(10), keys[2]: timing(15), keys[3]: timing(30)}
    # Equal ratios sort without comparing the pages.
    assert report.engines_summary(keys, sqlite, {key: timing(10) for key in keys}).startswith(
        "4 pages timed on both engines: PostgreSQL as fast or faster on 4, slower on 0")
    assert report.engines_summary(keys, sqlite, postgresql) == (
        "4 pages timed on both engines: PostgreSQL as fast or faster on 2, slower on 2; "
        "PostgreSQL÷SQLite from 0.50× to 3.00× (/page3 · admin), median 1.25×.")
    assert report.engines_summary(keys, sqlite, {}) == "No page was timed on both engines."


def test_the_engines_block_is_written_beside_the_engines_own_blocks():
    from benchmarks.pages import Measured, engines_section

    stats = PageKey("/stats", ADMIN)
    sqlite = (Measured(100_000, [stats], {stats: timing(20)}),
              Measured(1_350_000, [stats], {stats: timing(21)}))
    postgresql = (Measured(100_000, [stats], {stats: timing(30)}),
                  Measured(1_350_000, [stats], {stats: timing(42)}))
    text = engines_section(sqlite, postgresql)
    assert text.startswith("### pages, PostgreSQL beside SQLite — ")
    assert "At 1.35M: 1 page timed on both engines: PostgreSQL as fast or faster on 0, slower on 1" in text
    assert "| /stats | admin | 20.0 ms | 30.0 ms | 1.50× **OVER** | 21.0 ms | 42.0 ms | 2.00× **OVER** |" \
        in text
    document = f"# Benchmarks\n\n{report.SECTION_HEADING}\n\nText.\n\n## next\n"
    written = rewrite_section(document, "engines:1350000", text)
    assert written.index("<!-- pages:engines:1350000:begin") < written.index("## next")
