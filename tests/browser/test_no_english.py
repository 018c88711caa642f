"""No English in what a clerk reads: every page each role can reach, crawled through the browser's session,
is scanned for Latin words; only the codes of an allow-list (file formats, ID-like codes) may appear.

The API's own documentation (/api/docs) is for programmers and keeps its field names; it is left out.
"""
import re
from collections import deque
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from registry.core.db import db
from registry.core.roles import Role

pytestmark = pytest.mark.browser

# Codes a Chinese official uses as they are: file formats, the QR code, an IP address, the SHA-256 digest.
ALLOWED = {"GBK", "GB", "PDF", "CSV", "Excel", "xlsx", "csv", "pdf", "zip", "ZIP", "QR", "IP", "SHA", "MB", "KB",
           "YYYY", "MM", "DD", "API", "JPEG", "PNG", "JPG", "jpg", "png"}
SKIPPED_PATHS = ("/api/docs", "/api/v1", "/logout", "/static/")
NOT_HTML = (".pdf", ".zip", ".xlsx", ".csv", ".pem", ".json", "/progress", "/photo")
TEXT_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
MOST_PAGES = 400
# A word: letters only. Numbers with letters in them (certificate numbers, credit codes, usernames with
# digits) are data, not wording.
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/@-]*")


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.hrefs: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"])
        self.texts.extend(value for name, value in attrs if name in TEXT_ATTRIBUTES and value)
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.texts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(data)


def latin_words(html: str, data: set[str]) -> tuple[set[str], list[str]]:
    parser = VisibleText()
    parser.feed(html)
    words = set()
    for text in parser.texts:
        for token in TOKEN.findall(text):
            if token.isascii() and token.isalpha() and len(token) > 1 and token not in ALLOWED | data:
                words.add(token)
    return words, parser.hrefs


def test_the_scanner_finds_english_and_lets_codes_through():
    html = ('<p title="Sheet">证书 S000041800001254000001 · PDF · 52410200MJ0000001X · 2016-2020 cumulative</p>'
            '<script>var english = 1</script><button>Submit</button>')
    assert latin_words(html, set())[0] == {"Sheet", "cumulative", "Submit"}


def crawl(page, start: list[str], data: set[str]) -> dict[str, set[str]]:
    seen, queue, found = set(), deque(start), {}
    while queue:
        url = urldefrag(queue.popleft())[0]
        parts = urlsplit(url)
        key = (parts.path, tuple(sorted(re.findall(r"([^&=]+)=", parts.query))))
        if (parts.netloc or key in seen or parts.path.endswith(NOT_HTML)
                or parts.path.startswith(SKIPPED_PATHS) or "format=" in parts.query):
            continue
        seen.add(key)
        assert len(seen) <= MOST_PAGES, "the crawl no longer ends"
        response = page.request.get(url)
        assert response.status < 500, url
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        words, hrefs = latin_words(response.text(), data)
        if words:
            found[url] = words
        queue.extend(href for href in hrefs if href.startswith("/"))
    return found


@pytest.fixture
def registry_in_use(app, make_user, make_agency, make_institution, make_class, make_person, approved_batch):
    """A registry with records in the states that change what pages show, all named in Chinese."""
    from registry.certificates.operations import issue_batch, revoke_certificate
    from registry.training.models import ClassStatus
    from registry.training.operations import enroll_person

    agency = make_agency(name="开封市焊接职业技能评价中心", scopes=[("6-18-02-04", None, 5, 3, "2024-01-01", None)])
    institution = make_institution(name="开封市阳光职业培训学校")
    today = date.today()
    running = make_class(institution, name="焊工班", status=ClassStatus.RUNNING,
                         starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=20))
    for index in range(3):
        enroll_person(None, running, make_person(name=f"王{'一二三'[index]}"))
    batch = approved_batch(agency=agency, passed=3, failed=1)
    revoke_certificate(None, issue_batch(None, batch)[0], "经核查，考生冒名顶替")
    users = {role: make_user(role, **extra) for role, extra in (
        (Role.ADMIN, {}), (Role.COUNTY, {"county_code": "410221"}),
        (Role.AGENCY, {"organization_id": agency.id}), (Role.INSTITUTION, {"organization_id": institution.id}))}
    db.session.commit()
    return users, running, batch


@pytest.mark.parametrize("role", [None, *Role], ids=lambda role: role.value if role else "anonymous")
def test_no_page_shows_english(page, sign_in, registry_in_use, role):
    users, running, batch = registry_in_use
    start = ["/", "/login", "/verify", "/verify/upload", "/no-such-page", "/verify/S000000000000000000000"]
    data = set()
    if role is not None:
        sign_in(users[role])
        # The signed-in user's own account name is data the user chose, shown in the header.
        data = {users[role].username}
        start += ["/dashboard", "/account/tokens", f"/training/classes/{running.id}",
                  f"/assessment/batches/{batch.id}"]
    found = crawl(page, start, data)
    by_word: dict[str, str] = {}
    for url, words in found.items():
        for word in words:
            by_word.setdefault(word, url)
    assert found == {}, "；".join(f"{word}（{url}）" for word, url in sorted(by_word.items()))
