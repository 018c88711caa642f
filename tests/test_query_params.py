"""Every page that reads the query string, as every role that may open it, fed the values that answered 500
before (issue 19, item 12): huge, negative and non-numeric numbers, unknown choices, NUL. None may be a 500.

The pages are found in the app's url_map (every GET route; those with URL arguments at the access matrix's
sample paths), and the parameters each page reads are recorded from the request itself, so a page or a
parameter added later is walked without a line here.
"""
from urllib.parse import parse_qsl

import pytest
from flask import got_request_exception
from werkzeug.datastructures import ImmutableMultiDict

from registry.core.roles import Role
from tests.test_route_matrix import ROUTES, world  # noqa: F401  (the matrix's users, records and paths)

BAD_VALUES = ["99999999999999999999", "-99999999999999999999", "-1", "0", "abc", "1.5", "²", "no-such-value",
              "\x00", "x" * 300]
ROLES = [None, *Role]


class RecordingArgs(ImmutableMultiDict):
    """request.args that records what a view asks for (get, [], in, getlist: what views and forms call)."""

    read: set[str] = set()

    def __contains__(self, key):
        RecordingArgs.read.add(key)
        return super().__contains__(key)

    def __getitem__(self, key):
        RecordingArgs.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002  (werkzeug's signature)
        RecordingArgs.read.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        RecordingArgs.read.add(key)
        return super().getlist(key, type)


@pytest.fixture
def app_config() -> dict:
    # The public pages' rate limits would answer most of the walk with 429 and test nothing else.
    # A failure is the 500 page a visitor gets (the handler rolls back), not an exception raised in the test.
    return {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def recording_app(app):
    app.request_class = type("RecordingRequest", (app.request_class,),
                             {"parameter_storage_class": RecordingArgs})
    return app


def get_paths(app, ids) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if not rule.arguments:
            paths.append(rule.rule)
        elif ROUTES[rule.endpoint].method == "GET":
            paths.append(ROUTES[rule.endpoint].path.format(**ids))
    return sorted(set(paths))


def get(client, path: str, parameters: dict[str, str]):
    """GET the page with these parameters added to those its sample path carries (a QR-signed address)."""
    base, _, query = path.partition("?")
    return client.get(base, query_string=[*parse_qsl(query), *parameters.items()])


def names_read(client, path: str) -> set[str] | None:
    """The query parameters the page reads; None when this user may not open it."""
    RecordingArgs.read = set()
    # Some forms read their fields only when the query string is not empty, hence the unknown parameter.
    response = get(client, path, {"walk": "1"})
    if response.status_code != 200:
        return None
    return RecordingArgs.read - {"walk"}


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.value if role else "anonymous")
def test_no_query_value_makes_a_page_fail(recording_app, world, role):  # noqa: F811
    users, ids = world
    client = recording_app.test_client()
    if role is not None:
        client.post("/login", data={"username": users[role].username, "password": "correct-horse-1"})
    walked, failures, errors = {}, [], []

    def remember(_app, exception, **_extra):
        errors.append(exception)

    with got_request_exception.connected_to(remember, recording_app):
        for path in get_paths(recording_app, ids):
            names = names_read(client, path)
            if not names:
                continue
            walked[path] = sorted(names)
            for name in sorted(names):
                for value in BAD_VALUES:
                    response = get(client, path, {name: value})
                    if response.status_code >= 500:
                        cause = f"{type(errors[-1]).__name__}: {str(errors[-1])[:120]}" if errors else ""
                        failures.append(f"{path}?{name}={value[:25]!r} → {response.status_code} {cause}")
    assert walked, "no page reads the query string: the walk found nothing to test"
    assert not failures, f"{len(failures)} answers were server errors:\n" + "\n".join(failures)
