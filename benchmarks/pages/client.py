"""The pages over HTTP from `registry serve --workers 2`, each role signed in through the login form as a
user's browser would; every answer checked (status, content type, a marker of the page rendered) and timed."""
import html
import itertools
import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from dataclasses import replace

import httpx

from benchmarks.common import BenchmarkFailed
from benchmarks.pages.catalogue import ANONYMOUS, HTML, JSON, NOT_THIS_ROLE, XLSX, Page
from benchmarks.pages.report import Timing
from tests.serving import csrf_token

TIMED_RUNS = 5  # after one warm-up
TIMEOUT = 300.0  # seconds; gunicorn's own worker timeout (120 s) comes first
PAGE_COUNT = re.compile(r"第 [\d,]+ / ([\d,]+) 页")
TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def signed_in(base_url: str, username: str, password: str) -> httpx.Client:
    """A client holding a session cookie, after the login form was fetched and posted with its CSRF token."""
    client = httpx.Client(base_url=base_url, timeout=TIMEOUT)
    form = client.get("/login")
    token = csrf_token(form.text)
    if form.status_code != 200 or token is None:
        raise BenchmarkFailed(f"the login page answered {form.status_code} without a CSRF token")
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    if answer.status_code != 302 or not answer.headers.get("Location", "").endswith("/dashboard"):
        raise BenchmarkFailed(f"{username} could not sign in: {answer.status_code} {answer.text[:300]!r}")
    return client


def with_csrf_token(client: httpx.Client, page: Page) -> Page:
    """A form page with the CSRF token its form carries for this session, as a browser would post it."""
    form = client.get(page.path)
    token = csrf_token(form.text)
    if form.status_code != 200 or token is None:
        raise BenchmarkFailed(f"{page.label}: the form at {page.path} answered {form.status_code} "
                              "without a CSRF token")
    return replace(page, form=page.form | {"csrf_token": token})


def anonymous(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=TIMEOUT)


def fetch(client: httpx.Client, page: Page, path: str | None = None) -> httpx.Response:
    try:
        if page.form is not None:
            return client.post(path or page.path, data=page.form)
        if page.background:
            return written_file(client, page, path or page.path)
        return client.get(path or page.path)
    except httpx.TransportError as error:  # e.g. gunicorn killed a worker past its timeout
        raise BenchmarkFailed(f"{page.label} ({path or page.path}): no answer: {error!r}") from None


def written_file(client: httpx.Client, page: Page, path: str) -> httpx.Response:
    """A file the task worker writes: asked for, its progress followed as the page's script does, then
    downloaded. Each call asks for a new file (a distinct start date before every record: the same rows),
    since the registry serves a file it wrote minutes ago as it is."""
    path = f"{path}&from={date(1990, 1, 1) + timedelta(days=next(_REQUESTS) % 3650):%Y-%m-%d}"
    answer = client.get(path)
    if answer.status_code != 202:
        return answer  # written in the request (a short list), or a failure to report
    progress = PROGRESS_URL.search(answer.text)
    if progress is None:
        return answer
    deadline = time.monotonic() + TIMEOUT
    while (state := client.get(html.unescape(progress.group(1))).json()["state"]) == "running":
        if time.monotonic() > deadline:
            raise BenchmarkFailed(f"{page.label}: the file was not written within {TIMEOUT:.0f} s")
        time.sleep(0.1)
    return client.get(path) if state == "ready" else answer


_REQUESTS = itertools.count()
PROGRESS_URL = re.compile(r'data-progress-url="([^"]+)"')


def problem(page: Page, answer: httpx.Response) -> str | None:
    """Why this answer is not the page rendered; None when it is."""
    if answer.status_code != 200:
        return f"HTTP {answer.status_code}"
    content_type = answer.headers.get("Content-Type", "")
    if not content_type.startswith(page.content_type):
        return f"content type {content_type!r}, expected {page.content_type}"
    if page.content_type == XLSX:
        return None if answer.content[:2] == b"PK" else "not an .xlsx (no ZIP header)"
    if page.content_type == JSON:
        return None if page.marker in answer.json() else f"JSON without “{page.marker}”"
    title = TITLE.search(answer.text)
    if title is None or not html.unescape(title.group(1)).strip().startswith(page.marker):
        return f"title {title and title.group(1)!r}, expected it to start with “{page.marker}”"
    missing = [text for text in page.expect if html.escape(text) not in answer.text]
    return f"the page lacks {missing}" if missing else None


def checked(client: httpx.Client, page: Page, path: str, role: str) -> httpx.Response:
    answer = fetch(client, page, path)
    if (reason := problem(page, answer)) is not None:
        raise BenchmarkFailed(f"{page.label} ({path}) for {role}: {reason}")
    return answer


def timed(client: httpx.Client, page: Page, path: str, role: str) -> tuple[Timing, httpx.Response]:
    """One checked warm-up, then TIMED_RUNS timed requests, each checked too (after its clock stopped)."""
    first = checked(client, page, path, role)
    seconds = []
    for _run in range(TIMED_RUNS):
        start = time.perf_counter()
        answer = fetch(client, page, path)
        seconds.append(time.perf_counter() - start)
        if (reason := problem(page, answer)) is not None:
            raise BenchmarkFailed(f"{page.label} ({path}) for {role}, timed run: {reason}")
    return Timing(tuple(seconds), len(first.content)), first


def refused(client: httpx.Client, page: Page, role: str) -> str:
    """The reason a page is not timed for `role`; a page said to be another role's must answer 403."""
    if page.not_for != NOT_THIS_ROLE or role == ANONYMOUS:
        return page.not_for
    answer = fetch(client, page)
    if answer.status_code != 403:
        raise BenchmarkFailed(f"{page.label} answered {answer.status_code} to {role}, expected 403")
    return f"{page.not_for} (403)"


def page_count(text: str) -> int | None:
    """The number of pages the pager announces (第 1 / N 页), None on a page without a pager."""
    found = PAGE_COUNT.search(text)
    return int(found.group(1).replace(",", "")) if found else None


def deeper_pages(page: Page, first: httpx.Response, deep: int) -> Iterator[tuple[str, int | None, str]]:
    """(label suffix, page number or None, reason) for page `deep` and the last page, from page 1's pager."""
    pages = page_count(first.text) if page.content_type == HTML else None
    if pages is None:
        raise BenchmarkFailed(f"{page.label}: a list without the pager's page count")
    yield f"page {deep:,}", deep if pages >= deep else None, f"only {pages:,} page{'s' if pages > 1 else ''}"
    yield "last page", pages if pages > 1 else None, "a single page"
