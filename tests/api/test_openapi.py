"""The OpenAPI document matches the code: every /api/v1 route is in it and every operation in it is a route."""
import re

from jsonschema import Draft202012Validator


def rules_of(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            found |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_every_route_is_documented_and_nothing_else(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    assert document["openapi"] == "3.1.0"
    assert rules_of(app) - documented == set(), "routes missing from the OpenAPI document"
    assert documented - rules_of(app) == set(), "documented operations without a route"


def test_every_schema_in_the_document_is_valid_json_schema(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for methods in document["paths"].values():
        for operation in methods.values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            for schema in filter(None, [body, *[p["schema"] for p in operation["parameters"]]]):
                Draft202012Validator.check_schema(schema)


def test_the_docs_page_lists_each_operation_in_chinese(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert "批量报名" in page and "POST /api/v1/classes/{class_id}/enrolments" in page and "无需令牌" in page
