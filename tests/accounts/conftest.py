"""Accounts fixtures: a clock the sign-in throttle and the session checks read, moved without sleeping."""
from datetime import timedelta

import pytest

from registry.core.db import utcnow


class Clock:
    def __init__(self):
        self.now = utcnow()

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    for module in ("registry.accounts.throttle", "registry.accounts.sessions"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: clock.now)
    return clock
