"""No HTML the app serves carries inline script or inline style: every behaviour lives in a file in static/.

The Content-Security-Policy (script-src 'self', style-src 'self') would refuse inline code in the browser
anyway; this walk finds it before a user does. It signs in as each role over a registry holding records in
the states that change what a page shows (a running class, an issued and a revoked certificate, an import
under way, a batch file being built), follows every link it is shown, and parses each HTML answer.
Names and token labels carry markup and quotes, so a missed escape shows up here as a tag or a handler.
"""
import re
from collections import deque
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
import sqlalchemy as sa

from registry.core.roles import Role
from registry.core.db import db

HOSTILE = "'\"><i onmouseover=alert(1)>"
BEFORE_CONFIRM_JS = "before a parser-blocking confirm.js (a click skips it)"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href"}
NOT_HTML = (".pdf", ".zip", ".xlsx", ".csv", ".pem", ".json", "/progress")
MOST_PAGES_PER_ROLE = 400  # the administrator sees about 200


class InlineCode(HTMLParser):
    """Collects every place in a page where code or style would run from the page itself, and every
    confirmation that could be skipped: a data-confirm button parsed before confirm.js has run."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self._in_script = False
        self._confirm_ready = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "data-confirm" in attributes and not self._confirm_ready:
            self.findings.append(f"<{tag} data-confirm> {BEFORE_CONFIRM_JS}")
        if tag == "script" and attributes.get("src", "").endswith("/js/confirm.js"):
            self._confirm_ready = not ({"defer", "async"} & attributes.keys())
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.append(f"<{tag} {name}=…> (inline event handler)")
            elif name == "style":
                self.findings.append(f"<{tag} style=\"{value}\"> (inline style)")
            elif name in URL_ATTRIBUTES and value and _scheme(value) == "javascript":
                self.findings.append(f"<{tag} {name}=\"{value}\"> (javascript: URL)")
        if tag == "script":
            source = attributes.get("src") or ""
            if not source.startswith("/static/"):
                self.findings.append(f"<script src=\"{source}\"> (inline or foreign script)")
            self._in_script = True
        elif tag == "style":
            self.findings.append("<style> (inline style sheet)")
        elif tag in ("iframe", "object", "embed", "base"):
            self.findings.append(f"<{tag}>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._in_script = False

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.findings.append(f"<script>{data.strip()[:40]}…</script> (inline script body)")


def _scheme(url: str) -> str:
    # Browsers drop control characters and whitespace before reading a URL's scheme ("java\tscript:").
    cleaned = re.sub(r"[\x00-\x20]", "", url).lower()
    return cleaned.split(":", 1)[0] if ":" in cleaned else ""


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.findings


class Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and (href := dict(attrs).get("href")):
            self.hrefs.append(href)


def links_in(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.hrefs


def test_the_parser_finds_what_the_browser_would_run():
    page = """<p onclick="x()">a</p><a href=" java&#9;script:alert(1)">b</a><script>go()</script>
      <script src="/static/js/ok.js" defer></script><div style="width: 5%"></div><style>p{}</style>
      <button ONSUBMIT='y'>c</button><script src="https://cdn.example/x.js"></script>"""
    assert inline_code(page) == [
        "<p onclick=…> (inline event handler)", '<a href=" java\tscript:alert(1)"> (javascript: URL)',
        '<script src=""> (inline or foreign script)', "<script>go()…</script> (inline script body)",
        '<div style="width: 5%"> (inline style)', "<style> (inline style sheet)",
        "<button onsubmit=…> (inline event handler)",
        '<script src="https://cdn.example/x.js"> (inline or foreign script)',
    ]
    escaped = ('<td>&#39;+alert(1)+&#39; &lt;i onmouseover=alert(1)&gt;</td>'
               '<script src="/static/js/a.js"></script>')
    assert inline_code(escaped) == []
    deferred = '<script src="/static/js/confirm.js" defer></script><button data-confirm="确定？">x</button>'
    assert inline_code(deferred) == [f"<button data-confirm> {BEFORE_CONFIRM_JS}"]
    assert inline_code(deferred.replace(" defer", "")) == []


@pytest.fixture
def world(app, make_user, make_agency, make_institution, make_class, make_person, approved_batch):
    """Records in the states that change what the pages show, named with markup and quotes."""
    from registry.api.tokens import create_token
    from registry.certificates.operations import issue_batch, revoke_certificate
    from registry.core import import_jobs
    from registry.training.models import ClassStatus
    from registry.training.operations import enroll_person

    agency = make_agency(name=f"评价中心{HOSTILE}", scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    institution = make_institution(name=f"培训学校{HOSTILE}")
    users = {
        Role.ADMIN: make_user(Role.ADMIN),
        Role.COUNTY: make_user(Role.COUNTY, county_code="410221"),
        Role.AGENCY: make_user(Role.AGENCY, organization_id=agency.id),
        Role.INSTITUTION: make_user(Role.INSTITUTION, organization_id=institution.id),
    }
    today = date.today()
    running = make_class(institution, name=f"焊工班{HOSTILE}", status=ClassStatus.RUNNING,
                         starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=20))
    make_class(institution, name="计划班", starts_on=today + timedelta(days=10),
               ends_on=today + timedelta(days=40))
    for index in range(3):
        enroll_person(None, running, make_person(name=f"学员{index}{HOSTILE}"))
    batch = approved_batch(agency=agency, passed=3, failed=1)
    certificates = issue_batch(None, batch)
    revoke_certificate(None, certificates[0], f"误发{HOSTILE}")
    for user in users.values():
        create_token(user, f"令牌{HOSTILE}", today + timedelta(days=5))
    db.session.commit()
    finished = import_jobs.create_job(users[Role.INSTITUTION], "roster", running.id, f"名单{HOSTILE}.csv",
                                      "证件号码,姓名\n".encode())
    db.session.commit()
    import_jobs.check_job(finished.id)
    # An upload still being checked: its page polls for progress.
    checking = import_jobs.create_job(users[Role.INSTITUTION], "roster", running.id, "名单.csv",
                                      "证件号码,姓名\n".encode())
    db.session.commit()
    return users, {"batch_id": batch.id, "class_id": running.id, "certificate": certificates[1].number,
                   "revoked": certificates[0].number, "running_job": checking.id, "finished_job": finished.id}


def walk(client, start: list[str]) -> dict[str, list[str]]:
    """Follow every same-site link from the start pages; {path: findings} for each HTML page with any."""
    seen, queue, found, visited = set(), deque(start), {}, 0
    while queue:
        url = urldefrag(queue.popleft())[0]
        parts = urlsplit(url)
        # One visit per path and query-parameter names: a sort order or a page number renders the same markup.
        key = (parts.path, tuple(sorted(re.findall(r"([^&=]+)=", parts.query))))
        if parts.netloc or key in seen or parts.path.endswith(NOT_HTML) or parts.path == "/logout":
            continue
        seen.add(key)
        visited += 1
        assert visited <= MOST_PAGES_PER_ROLE, "the walk no longer ends: dedupe the new kind of link"
        response = client.get(url)
        assert response.status_code < 500, url
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        if findings := inline_code(html):
            found[url] = findings
        queue.extend(href for href in links_in(html) if href.startswith("/"))
    return found


PUBLIC_START = ["/", "/login", "/verify", "/verify/upload", "/api/docs", "/no-such-page",
                "/verify/S000000000000000000000"]


@pytest.mark.parametrize("role", [None, *Role], ids=lambda role: role.value if role else "anonymous")
def test_no_page_carries_inline_code(app, client, login, world, role, task_queue):
    users, ids = world
    app.config["BATCH_OUTPUT_INLINE_LIMIT"] = 1  # the batch files are queued for the task worker, with a page
    start = [*PUBLIC_START, f"/verify/{ids['certificate']}?name=x", f"/verify/{ids['revoked']}"]
    if role is not None:
        login(users[role])
        start += ["/dashboard", "/account/tokens", f"/training/classes/{ids['class_id']}",
                  f"/imports/{ids['running_job']}", f"/imports/{ids['finished_job']}",
                  f"/assessment/batches/{ids['batch_id']}/certificates.pdf",
                  f"/assessment/batches/{ids['batch_id']}/certificates.zip"]
    found = walk(client, start)
    assert found == {}


def test_the_walk_reaches_the_pages_that_used_to_carry_script(app, client, login, world, task_queue):
    """The walk is only worth its answer if it sees the pages in question: check that it does."""
    users, ids = world
    app.config["BATCH_OUTPUT_INLINE_LIMIT"] = 1
    login(users[Role.ADMIN])
    running = client.get(f"/imports/{ids['running_job']}").get_data(as_text=True)
    assert "job-progress" in running
    building = client.get(f"/assessment/batches/{ids['batch_id']}/certificates.zip")
    assert building.status_code == 202 and "output-progress" in building.get_data(as_text=True)
    class_page = client.get(f"/training/classes/{ids['class_id']}").get_data(as_text=True)
    assert "退出" in class_page and "&#39;&#34;&gt;&lt;i onmouseover" in class_page.replace("&quot;", "&#34;")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(db.metadata.tables["import_jobs"])) == 2
