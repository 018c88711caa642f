"""Query-string arguments: bounded numbers, choices, text and NUL, as a 400 page or the API's JSON 400."""
import pytest

from registry.core.roles import Role
from registry.core import arguments
from registry.core.arguments import MAX_ID, BadArgument


@pytest.mark.parametrize("query, expected", [
    ("", 1), ("page=7", 7), ("page=%207%20", 7), (f"page={MAX_ID}", MAX_ID),
])
def test_an_integer_within_its_bounds_is_read(app, query, expected):
    with app.test_request_context(f"/?{query}"):
        assert arguments.integer("page", 1) == expected


@pytest.mark.parametrize("value, message", [
    ("99999999999999999999", "page：应在 1–2147483647 之间"),
    (str(MAX_ID + 1), "page：应在 1–2147483647 之间"),
    ("9" * 5000, "page：应在 1–2147483647 之间"),
    ("0", "page：应在 1–2147483647 之间"),
    ("-1", "page：应在 1–2147483647 之间"),
    ("abc", "page：应为整数，实为“abc”"),
    ("1.5", "page：应为整数，实为“1.5”"),
    ("²", "page：应为整数，实为“²”"),  # int() would read these three; an address never means them
    ("١٢", "page：应为整数，实为“١٢”"),
    ("1_000", "page：应为整数，实为“1_000”"),
])
def test_an_integer_out_of_bounds_or_unreadable_is_refused_naming_it(app, value, message):
    with app.test_request_context("/", query_string={"page": value}), pytest.raises(BadArgument) as refused:
        arguments.integer("page", 1)
    assert refused.value.code == 400 and refused.value.description == message
    assert refused.value.parameter == "page"


def test_a_page_filter_ignores_an_unknown_choice_and_the_api_refuses_it(app):
    with app.test_request_context("/?role=nobody"):
        assert arguments.option("role", Role) is None
        with pytest.raises(BadArgument, match="role：应为以下之一：admin、county、agency、institution"):
            arguments.choice("role", Role)
    with app.test_request_context("/?role=county"):
        assert arguments.option("role", Role) == arguments.choice("role", Role) == "county"


def test_text_is_stripped_and_bounded(app):
    with app.test_request_context("/", query_string={"q": "  焊工  "}):
        assert arguments.text("q") == "焊工"
    with app.test_request_context("/", query_string={"q": "x" * 61}):
        with pytest.raises(BadArgument, match="q：最多 60 个字符"):
            arguments.text("q")


# --- through the app ---------------------------------------------------------------------------------------

def test_a_list_page_answers_a_huge_page_number_with_400_in_chinese(client, login, make_user):
    login(make_user(Role.ADMIN))
    response = client.get("/admin/users?page=99999999999999999999")
    assert response.status_code == 400
    assert "page：应在 1–2147483647 之间" in response.get_data(as_text=True)


def test_an_unknown_role_filter_lists_every_user(client, login, make_user):
    admin = login(make_user(Role.ADMIN))
    make_user(Role.COUNTY, username="qixian-staff")
    response = admin.get("/admin/users?role=nobody")
    assert response.status_code == 200 and "qixian-staff" in response.get_data(as_text=True)


def test_nul_in_any_parameter_is_400_before_a_view_reads_it(client, login, make_user):
    login(make_user(Role.ADMIN))
    for path in ("/admin/audit?actor_name=a%00b", "/people?q=%00", "/admin/agencies?x%00=1"):
        response = client.get(path)
        assert response.status_code == 400 and "含有 NUL 字符" in response.get_data(as_text=True), path


def test_the_api_answers_the_same_refusal_as_json(client, login, make_user):
    login(make_user(Role.ADMIN))  # a signed-in session may read the API
    response = client.get("/api/v1/classes?page=99999999999999999999")
    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_request", "message": "page：应在 1–2147483647 之间",
                                   "details": [{"field": "page"}]}
    response = client.get("/api/v1/classes?county_code=%00")
    assert response.status_code == 400 and response.get_json()["details"] == [{"field": "county_code"}]
