"""One number format and one date format on every page (registry/core/formatting.py)."""
from datetime import date

from flask import render_template_string

from registry.core.formatting import chinese_date, number


def test_numbers_have_thousands_separators():
    assert [number(1018), number(39993), number(7), number(None), number("—")] == ["1,018", "39,993", "7", "", "—"]


def test_dates_read_as_on_a_certificate():
    assert chinese_date(date(2022, 7, 24)) == chinese_date("2022-07-24") == "2022年07月24日"


def test_the_pager_and_the_dashboard_use_the_format(app):
    with app.test_request_context("/training/classes"):
        html = render_template_string(
            '{% from "macros.html" import pager %}{{ pager(page) }}',
            page=type("Page", (), dict(total=39993, page=1, pages=2000, has_prev=False, has_next=False))())
    assert "共 39,993 条，第 1 / 2,000 页" in html
