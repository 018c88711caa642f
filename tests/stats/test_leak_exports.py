"""Long funnel leak lists are exported by the task worker: the same rows as the inline export, progress
while written, a failure said and retried, a stale file written anew, one file per user and filter."""
import csv
import io
import os
import stat
import time

import openpyxl
import pytest
import sqlalchemy as sa

from registry.core import background_files
from registry.core.audit import AuditEvent
from registry.core.db import db
from registry.core.roles import Role
from registry.stats import funnel, leak_exports
from tests.stats.test_funnel import assess, world  # noqa: F401 (fixtures)

LEAK = "/stats/funnel/never_assessed"


@pytest.fixture
def background(app):
    """Every leak export goes to the task worker (tests run its tasks at once, in the request)."""
    app.config["LEAK_EXPORT_INLINE_LIMIT"] = 0


def sheet_rows(data: bytes) -> list[list]:
    return [list(row) for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]


def exports() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "stats_table")))


def test_the_worker_writes_the_same_rows_as_the_inline_export(world, client, login, make_user, app):
    login(make_user(Role.ADMIN))
    inline = client.get(f"{LEAK}?format=xlsx")
    app.config["LEAK_EXPORT_INLINE_LIMIT"] = 0
    written = client.get(f"{LEAK}?format=xlsx")
    assert written.status_code == 200 and written.headers["Cache-Control"] == "no-store"
    assert sheet_rows(written.data) == sheet_rows(inline.data)
    assert len(sheet_rows(written.data)) - 1 == funnel.leak_count("never_assessed") > 0
    inline_event, written_event = exports()
    assert written_event.after["rows"] == inline_event.after["rows"] == funnel.leak_count("never_assessed")
    assert written_event.after["written_at"]
    files = list(background_files.exports_folder().iterdir())
    assert {stat.S_IMODE(path.stat().st_mode) for path in files} == {0o600}


def test_a_csv_export_in_the_worker(world, client, login, make_user, background):
    login(make_user(Role.ADMIN))
    response = client.get(f"{LEAK}?county=410221&format=csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == funnel.leak_headers("never_assessed") and rows[1][0] == "未认定乙"


def test_while_written_the_page_shows_progress_and_the_json_follows_it(world, client, login, make_user,
                                                                      background):
    user = make_user(Role.ADMIN)
    login(user)
    export = leak_exports.export_for(user.id, "never_assessed", None, None, None, None, "xlsx")
    assert background_files.claim(export, 7), "as if a worker had started it"
    page = client.get(f"{LEAK}?format=xlsx")
    assert page.status_code == 202
    text = page.get_data(as_text=True)
    assert "正在生成" in text and "file-progress.js" in text and "/export-progress?format=xlsx" in text
    progress = client.get(f"{LEAK}/export-progress?format=xlsx").get_json()
    assert progress == {"state": "running", "done": 0, "total": 7}
    assert exports() == [], "nothing left the registry yet"


def test_a_failed_file_says_so_and_a_retry_writes_it(world, client, login, make_user, background):
    user = make_user(Role.ADMIN)
    login(user)
    export = leak_exports.export_for(user.id, "never_assessed", None, None, None, None, "xlsx")
    leak_exports.give_up(user.id, export.arguments, reason="任务多次中断")
    page = client.get(f"{LEAK}?format=xlsx")
    assert page.status_code == 202 and "任务多次中断。" in page.get_data(as_text=True)
    assert "retry=1" in page.get_data(as_text=True)
    retried = client.get(f"{LEAK}?format=xlsx&retry=1")
    assert retried.status_code == 200 and sheet_rows(retried.data)[0] == funnel.leak_headers("never_assessed")


def test_a_stale_file_is_written_anew(world, client, login, make_user, background, monkeypatch):
    user = make_user(Role.ADMIN)
    login(user)
    client.get(f"{LEAK}?format=xlsx")
    export = leak_exports.export_for(user.id, "never_assessed", None, None, None, None, "xlsx")
    export.path.write_bytes(b"an old file")  # what a file written long ago would hold now
    assert client.get(f"{LEAK}?format=xlsx").data == b"an old file", "a fresh file is served as it is"
    old = time.time() - leak_exports.FRESH_SECONDS - 5
    os.utime(export.path, (old, old))
    assert sheet_rows(client.get(f"{LEAK}?format=xlsx").data)[0] == funnel.leak_headers("never_assessed")


def test_each_user_and_filter_has_its_own_file(world, client, login, make_user, background):
    first, second = make_user(Role.ADMIN), make_user(Role.ADMIN)
    paths = {leak_exports.export_for(user.id, "never_assessed", counties, None, None, None, fmt).path
             for user in (first, second) for counties in (None, ["410221"]) for fmt in ("xlsx", "csv")}
    assert len(paths) == 8
    official = make_user(Role.COUNTY, county_code="410225")
    login(official)
    assert client.get(f"{LEAK}?county=410221&format=xlsx").status_code == 403
    assert client.get(f"{LEAK}/export-progress?county=410221&format=xlsx").status_code == 403
