"""Sessions, tokens and sign-in limits as `registry serve` serves them (gunicorn, two web workers): in-process
tests cannot show that every worker process refuses the same things, whichever one answers."""
import httpx
import sqlalchemy as sa

from registry.accounts.models import SignInThrottle
from registry.core.roles import Role
from registry.accounts.operations import reset_password
from registry.api.tokens import create_token
from registry.core.db import db
from tests.conftest import csrf_token_from

# Each check is repeated so that both web workers answer some of the requests.
REPEATS = 6


def sign_in(base_url: str, user) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    form = client.get("/login").text
    answer = client.post("/login", data={"username": user.username, "password": "correct-horse-1",
                                         "csrf_token": csrf_token_from(form)})
    assert answer.status_code == 302, answer.text
    return client


def always_sent_to_sign_in(client: httpx.Client, path: str = "/dashboard") -> bool:
    answers = [client.get(path) for _ in range(REPEATS)]
    return all(answer.status_code == 302 and "/login" in answer.headers["Location"] for answer in answers)


def test_logged_out_cookies_password_changes_and_tokens_hold_on_every_worker(served_app, make_user):
    from datetime import date, timedelta

    user = make_user(Role.ADMIN)
    _token, secret = create_token(user, "考务系统", date.today() + timedelta(days=30))
    db.session.commit()
    base_url = served_app.base_url

    browser = sign_in(base_url, user)
    copied = dict(browser.cookies)
    page = browser.get("/dashboard").text
    assert browser.post("/logout", data={"csrf_token": csrf_token_from(page)}).status_code == 302
    with httpx.Client(base_url=base_url, cookies=copied, timeout=30) as replay:
        assert always_sent_to_sign_in(replay)

    with httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {secret}"}) as program:
        assert always_sent_to_sign_in(program, "/admin/users")
        assert all(program.get("/api/v1/classes").status_code == 200 for _ in range(REPEATS))

        other_browser = sign_in(base_url, user)
        reset_password(None, user, "river-lantern-stone-42")  # what `registry reset-password` does
        db.session.commit()
        assert always_sent_to_sign_in(other_browser)
        assert all(program.get("/api/v1/classes").status_code == 401 for _ in range(REPEATS))
    browser.close()
    other_browser.close()


def test_every_worker_counts_and_honours_the_same_failures(served_app, make_user):
    user = make_user()
    with httpx.Client(base_url=served_app.base_url, timeout=30) as guesser:
        csrf = csrf_token_from(guesser.get("/login").text)
        for _ in range(4):
            answer = guesser.post("/login", data={"username": user.username, "password": "wrong-password",
                                                  "csrf_token": csrf})
            assert "用户名或密码不正确" in answer.text
        # The fourth failure asked for a 2 s wait: the right password is refused by both workers meanwhile.
        refusals = [guesser.post("/login", data={"username": user.username, "password": "correct-horse-1",
                                                 "csrf_token": csrf}) for _ in range(REPEATS)]
    assert all(answer.status_code == 200 and "秒后再试" in answer.text for answer in refusals)
    db.session.rollback()  # read what the server wrote
    failures = db.session.scalar(sa.select(SignInThrottle.failures).where(SignInThrottle.key == user.username))
    assert failures == 4
