"""Sign-in throttling: growing waits per account name and per client address, a lockout an administrator
lifts, state kept in the database (every worker sees it), and one password hash per attempt for any name."""
import hashlib
import re

import pytest
import sqlalchemy as sa

from registry import create_app
from registry.core.roles import Role
from registry.core.audit import AuditEvent
from registry.core.db import db

ADDRESS = "198.51.100.7"


def attempt(client, username: str, password: str, address: str = ADDRESS):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def text(response) -> str:
    return response.get_data(as_text=True)


def wait_asked(response) -> int:
    """The seconds the page asks to wait before the next try (0 when it asks for none)."""
    match = re.search(r"请 (\d+) 秒后再试", text(response))
    return int(match.group(1)) if match else 0


def audited(action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_a_burst_of_wrong_passwords_is_cut_short(client, make_user):
    user = make_user()
    pages = [attempt(client, user.username, f"guess-{number}") for number in range(50)]
    # Only the first few guesses were checked at all; the rest were refused unchecked. (A tenth check would need
    # the waits before it, over two minutes, to have passed: this holds on however slow a machine.)
    assert len(audited("login_failed")) < 10
    assert wait_asked(pages[-1]) > 0
    refused = attempt(client, user.username, "correct-horse-1")
    assert refused.status_code == 200 and wait_asked(refused) > 0
    assert audited("login") == []


def test_each_wait_is_longer_and_the_tenth_failure_locks_the_account(client, make_user, clock):
    user = make_user()
    waits = []
    for _ in range(9):
        page = attempt(client, user.username, "wrong-password")
        assert page.status_code == 200 and "用户名或密码不正确" in text(page)
        waits.append(wait_asked(page))
        clock.advance(seconds=waits[-1])
    assert waits == [0, 0, 0, 2, 4, 8, 16, 32, 64]
    locked = attempt(client, user.username, "wrong-password")
    assert "该账号已被暂时锁定" in text(locked) and "15 分钟" in text(locked)
    [lock] = audited("lock")
    assert lock.entity_type == "sign_in" and lock.after["key"] == user.username and lock.after["failures"] == 10
    clock.advance(minutes=14)
    assert "锁定" in text(attempt(client, user.username, "correct-horse-1"))
    clock.advance(minutes=1, seconds=1)
    assert attempt(client, user.username, "correct-horse-1").status_code == 302


def test_a_sign_in_clears_the_accounts_count(client, make_user, clock):
    user = make_user()
    for _ in range(3):
        attempt(client, user.username, "wrong-password")
    assert attempt(client, user.username, "correct-horse-1").status_code == 302
    client.post("/logout")
    assert wait_asked(attempt(client, user.username, "wrong-password")) == 0


def test_one_address_trying_many_names_is_slowed_down(app, client, make_user):
    user = make_user()
    for number in range(25):
        attempt(client, f"guess{number}", "wrong-password")
    refused = attempt(client, user.username, "correct-horse-1")
    assert refused.status_code == 200 and "本网络地址登录失败次数过多" in text(refused)
    # Another address is not held up by this one.
    assert attempt(app.test_client(), user.username, "correct-horse-1", address="203.0.113.9").status_code == 302


def test_the_count_is_shared_by_every_worker(app, client, make_user, clock):
    """A second app on the same database stands for another gunicorn worker: it knows nothing in memory."""
    user = make_user()
    for _ in range(5):
        attempt(client, user.username, "wrong-password")
    other_worker = create_app({key: app.config[key] for key in (
        "TESTING", "WTF_CSRF_ENABLED", "PASSWORD_HASH_METHOD", "SQLALCHEMY_DATABASE_URI", "TASKS_IMMEDIATE")})
    try:
        refused = attempt(other_worker.test_client(), user.username, "correct-horse-1")
        assert refused.status_code == 200 and wait_asked(refused) > 0
    finally:
        with other_worker.app_context():
            db.engine.dispose()


def lock_out(client, username: str, clock) -> None:
    while "锁定" not in text(page := attempt(client, username, "wrong-password")):
        clock.advance(seconds=wait_asked(page))


def test_an_administrator_lifts_a_lockout_and_it_is_audited(app, client, make_user, login, clock):
    user = make_user(Role.COUNTY)
    admin = make_user(Role.ADMIN)
    lock_out(client, user.username, clock)
    admin_browser = app.test_client()
    assert attempt(admin_browser, admin.username, "correct-horse-1", address="203.0.113.9").status_code == 302
    listing = text(admin_browser.get("/admin/users"))
    assert "登录锁定" in listing and user.username in listing and "已锁定" in listing
    lifted = admin_browser.post("/admin/users/sign-in-locks/lift", data={"kind": "account", "key": user.username})
    assert lifted.status_code == 302
    [event] = audited("unlock")
    assert event.actor_id == admin.id and event.before["failures"] == 10 and event.before["key"] == user.username
    assert attempt(client, user.username, "correct-horse-1").status_code == 302
    assert "已锁定" not in text(admin_browser.get("/admin/users"))


def test_unknown_names_and_known_users_cost_one_password_hash_each(client, make_user, monkeypatch):
    active, disabled = make_user(), make_user()
    disabled.is_active = False
    db.session.commit()
    attempt(client, "warm-up", "x", address="203.0.113.9")  # the stand-in hash for unknown names is made once
    hashes = []
    real = hashlib.pbkdf2_hmac  # the tests' PASSWORD_HASH_METHOD is pbkdf2

    def counted(*args, **kwargs):
        hashes.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counted)
    cases = {"unknown name": ("nobody", "whatever-1"), "wrong password": (active.username, "whatever-1"),
             "disabled account": (disabled.username, "correct-horse-1")}
    for case, (username, password) in cases.items():
        hashes.clear()
        page = attempt(client, username, password)
        assert "用户名或密码不正确" in text(page), case
        assert len(hashes) == 1, case
