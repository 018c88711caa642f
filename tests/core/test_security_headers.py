"""Every answer carries the browser-side protections; cookies are Secure whenever the request was HTTPS."""
from http.cookies import SimpleCookie

import pytest

from registry import create_app
from registry.core.roles import Role

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request.path}: no Content-Security-Policy"
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def assert_protected(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{response.request.path} {response.status_code}: {name}"
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no nonce or hash
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["form-action"] == ["'self'"]
    assert not any("unsafe" in source for sources in directives.values() for source in sources)


@pytest.fixture
def certificate_number(approved_batch):
    from registry.certificates.operations import issue_batch
    from registry.core.db import db

    batch = approved_batch(passed=1, failed=0)
    issued = issue_batch(None, batch)
    db.session.commit()
    return issued[0].number


PUBLIC_PATHS = [
    "/login", "/", "/verify", "/verify/upload", "/verify/S000041900001254000001", "/api/docs",
    "/api/v1/openapi.json", "/api/v1/certificates/S000041900001254000001",
    "/api/v1/certificates/not-a-number", "/api/v1/classes", "/static/registry.css", "/static/no-such-file.js",
    "/no-such-page", "/certificates/public-key.pem", "/healthz", "/dashboard",
]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_every_public_answer_is_protected(client, path):
    assert_protected(client.get(path))


def test_signed_in_pages_downloads_and_errors_are_protected(client, login, make_user, certificate_number):
    login(make_user(Role.ADMIN))
    for path in ("/dashboard", "/stats", "/training/classes", "/admin/users", "/stats/counties.xlsx",
                 f"/verify/{certificate_number}", f"/api/v1/certificates/{certificate_number}",
                 "/training/classes/2147483647"):
        assert_protected(client.get(path))
    assert_protected(client.post("/healthz"))  # 405


@pytest.mark.csrf
def test_a_refused_form_is_protected(client):
    response = client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert_protected(response)


def test_a_server_error_and_a_rate_limited_answer_are_protected(app):
    failing = create_app(dict(app.config) | {"VERIFY_PAGE_LIMITS": "1/minute", "PROPAGATE_EXCEPTIONS": False,
                                             "TESTING": False})

    @failing.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    client = failing.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    assert_protected(response)
    client.get("/verify")
    limited = client.get("/verify")
    assert limited.status_code == 429
    assert_protected(limited)


# --- cookies ------------------------------------------------------------------------------------------

def set_cookies(response) -> dict[str, SimpleCookie]:
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        cookies.update({name: morsel for name, morsel in cookie.items()})
    return cookies


def sign_in(client, user, **kwargs):
    form = {"username": user.username, "password": "correct-horse-1"}
    response = client.post("/login", data=form, **kwargs)
    assert response.status_code == 302
    return set_cookies(response)["session"]


def test_session_cookie_is_secure_over_https_without_any_setting(app, client, make_user):
    assert app.config["SESSION_COOKIE_SECURE"] is False  # REGISTRY_SECURE_COOKIES is not set
    cookie = sign_in(client, make_user(), base_url="https://registry.example")
    assert cookie["secure"] is True and cookie["httponly"] is True and cookie["samesite"] == "Lax"


def test_session_cookie_over_plain_http_still_works_in_development(client, make_user):
    cookie = sign_in(client, make_user())
    assert not cookie["secure"]  # a browser would drop a Secure cookie set over http://…
    assert client.get("/dashboard").status_code == 200


def test_behind_the_proxy_the_forwarded_scheme_decides(app, make_user):
    user = make_user()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    proxied = create_app(dict(app.config) | {"PROXY_COUNT": 1})
    assert sign_in(proxied.test_client(), user, headers=forwarded)["secure"] is True
    assert not sign_in(proxied.test_client(), user)["secure"]
    # Without a configured proxy nobody may claim HTTPS by sending the header.
    assert not sign_in(app.test_client(), user, headers=forwarded)["secure"]


def test_the_setting_still_forces_secure_cookies(app, make_user):
    forced = create_app(dict(app.config) | {"SESSION_COOKIE_SECURE": True})
    assert sign_in(forced.test_client(), make_user())["secure"] is True


def test_remember_cookie_is_secure_over_https(app, make_user):
    from flask_login import login_user

    user = make_user()
    with app.test_request_context("/login", method="POST", base_url="https://registry.example"):
        login_user(user, remember=True)
        cookies = set_cookies(app.process_response(app.response_class()))
    assert cookies["remember_token"]["secure"] is True and cookies["session"]["secure"] is True
    with app.test_request_context("/login", method="POST"):
        login_user(user, remember=True)
        cookies = set_cookies(app.process_response(app.response_class()))
    assert not cookies["remember_token"]["secure"]
