"""Sessions and tokens of the app as `make run` serves it: gunicorn's workers, one visitor never another's.

(In-process test clients could not see the server that handed one user's session to every visitor.)
"""
import contextlib
import re
import threading

import httpx
import pytest

from tests import serving

# username: (password, what the page header says of the account), from seed_data/demo/users.csv
DEMO_ACCOUNTS = {
    "admin": ("kaifeng-admin-2025", "市人社局管理员（演示）"), "qixian": ("kaifeng-county-2025", "杞县人社局（演示）"),
    "agency": ("kaifeng-agency-2025", "评价中心操作员（演示）"), "school": ("kaifeng-school-2025", "技工学校教务（演示）"),
}
PRIVATE_PAGES = ["/admin/users", "/admin/audit", "/stats", "/training/classes", "/people",
                 "/api/v1/stats/coverage"]


def csrf_token(page: str) -> str:
    token = serving.csrf_token(page)
    assert token, "the form has no CSRF token"
    return token


def signed_in(base_url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    form = client.get("/login")
    answer = client.post("/login", data={"username": username, "password": DEMO_ACCOUNTS[username][0],
                                         "csrf_token": csrf_token(form.text)})
    assert answer.status_code == 302, f"{username}: sign-in answered {answer.status_code}"
    return client


def header_of(client: httpx.Client) -> str:
    """The page header names the signed-in account (its form tokens taken out)."""
    page = client.get("/dashboard")
    assert page.status_code == 200, page.status_code
    header = re.search(r"<header.*?</header>", page.text, re.S).group(0)
    return re.sub(r'value="[^"]*"', "", header)


def assert_anonymous_refused(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as anonymous:
        for path in PRIVATE_PAGES:
            answer = anonymous.get(path)
            assert answer.status_code in (302, 401), f"anonymous GET {path} answered {answer.status_code}"
            if answer.status_code == 302:
                assert "/login" in answer.headers["Location"]


def test_each_visitor_keeps_their_own_session(served_demo):
    clients, headers = {}, {}
    for username in DEMO_ACCOUNTS:
        clients[username] = signed_in(served_demo.base_url, username)
        headers[username] = header_of(clients[username])
        assert DEMO_ACCOUNTS[username][1] in headers[username]
        assert_anonymous_refused(served_demo.base_url)
    assert len(set(headers.values())) == len(DEMO_ACCOUNTS), "two accounts see the same header"
    for _ in range(3):  # many requests, spread over both web workers
        for username, client in clients.items():
            assert header_of(client) == headers[username], f"{username}'s session changed hands"
    assert clients["qixian"].get("/admin/users").status_code == 403
    assert clients["school"].get("/admin/audit").status_code == 403
    for client in clients.values():
        client.close()


def test_fifty_fresh_visitors_in_a_row_can_sign_in(served_demo):
    usernames = list(DEMO_ACCOUNTS)
    for number in range(50):
        username = usernames[number % len(usernames)]
        with contextlib.closing(signed_in(served_demo.base_url, username)) as client:
            assert DEMO_ACCOUNTS[username][1] in header_of(client)


def new_token(client: httpx.Client, name: str) -> str:
    """Create a token on the token page, as a user does; the secret is shown once."""
    form = client.get("/account/tokens").text
    expires_on = re.search(r'name="expires_on"[^>]*value="([^"]+)"', form).group(1)
    page = client.post("/account/tokens", data={"name": name, "expires_on": expires_on,
                                                "csrf_token": csrf_token(form)})
    return re.search(r'<code id="new-token">([^<]+)</code>', page.text).group(1)


def test_api_tokens_used_at_once_each_see_only_their_own_scope(served_demo):
    tokens = {}
    for username in ("admin", "qixian"):
        with contextlib.closing(signed_in(served_demo.base_url, username)) as client:
            tokens[username] = new_token(client, f"{username} 同步")
    seen: dict[str, set] = {"admin": set(), "qixian": set()}
    failures: list[str] = []

    def call(username: str) -> None:
        with httpx.Client(base_url=served_demo.base_url, timeout=30,
                          headers={"Authorization": f"Bearer {tokens[username]}"}) as api:
            for _ in range(20):
                answer = api.get("/api/v1/stats/coverage")
                if answer.status_code != 200:
                    failures.append(f"{username}: {answer.status_code}")
                    continue
                seen[username].add(frozenset(row["code"] for row in answer.json()["counties"]))

    callers = [threading.Thread(target=call, args=(username,)) for username in tokens for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert not failures
    assert seen["qixian"] == {frozenset({"410221"})}
    (city,) = seen["admin"]
    assert len(city) > 1 and "410221" in city


def test_the_server_says_which_address_certificates_point_to(served_demo):
    # REGISTRY_PUBLIC_URL is unset here: QR codes and PDFs take the port actually served.
    assert f"证书二维码与 PDF 中的查询地址：{served_demo.base_url}/verify" in served_demo.log()
