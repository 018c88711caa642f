"""The app starts, reports its health and serves the login page."""


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_login_page_is_chinese(client):
    html = client.get("/login").get_data(as_text=True)
    assert "登录" in html and 'lang="zh-CN"' in html


def test_admin_lands_on_dashboard(make_user, login):
    client = login(make_user())
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert "备案评价机构" in response.get_data(as_text=True)


def test_suite_runs_on_the_requested_database(app):
    import os

    from registry.core.db import db

    expected = "postgresql" if os.environ.get("REGISTRY_TEST_DATABASE_URL") else "sqlite"
    assert db.engine.dialect.name == expected


def test_an_id_past_the_databases_integers_is_not_found(make_user, login):
    # Ids are 32-bit database integers; a longer number used to overflow the driver (a 500).
    client = login(make_user())
    for class_id in ("2147483648", "99999999999999999999"):
        assert client.get(f"/training/classes/{class_id}").status_code == 404
