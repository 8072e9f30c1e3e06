"""`/openapi.json` declares the errors each route can answer, in the one error body, and the
methods each path has; a request refused for a type the document does not allow is refused by
the API too (the schemathesis run in test_schemathesis.py tries every operation)."""

from __future__ import annotations

from typing import Any

import pytest

ERROR_REF = "#/components/schemas/ErrorResponse"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_route_taking_an_id_declares_404(client):
    document = client.get("/openapi.json").json()
    with_id = [(p, m, op) for p, m, op in operations(document) if "{" in p]
    assert len(with_id) > 30
    assert [f"{m} {p}" for p, m, op in with_id if "404" not in op["responses"]] == []
    chatbot = document["paths"]["/api/chatbots/{chatbot_id}"]["get"]["responses"]["404"]
    assert chatbot["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}


def test_every_error_response_is_the_error_body(client):
    document = client.get("/openapi.json").json()
    wrong = [
        f"{method} {path} {status}"
        for path, method, operation in operations(document)
        for status, response in operation["responses"].items()
        if int(status) >= 400
        and response.get("content") != {"application/json": {"schema": {"$ref": ERROR_REF}}}
    ]
    assert wrong == []
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = document["components"]["schemas"]["ErrorResponse"]["properties"]["error"]
    assert error["required"] == ["code", "message"]


@pytest.mark.parametrize(
    ("method", "path", "declared", "not_declared"),
    [
        ("get", "/api/chatbots", {"401"}, {"403", "404"}),  # any member
        ("post", "/api/chatbots", {"401", "403", "400", "413", "422"}, {"404"}),  # staff
        ("get", "/api/emails", {"401", "403"}, {"422"}),  # owners; no parameter
        ("post", "/auth/register", {"409", "429"}, {"401"}),  # rate-limited by address
        ("post", "/api/public/{chatbot_id}/query", {"401", "403", "404", "429", "502"}, set()),
        ("get", "/widget/config/{chatbot_id}", {"401", "403", "404", "429"}, {"400"}),
        ("get", "/health", {"503"}, {"401", "422"}),
    ],
)
def test_a_route_declares_what_its_dependencies_can_answer(
    client, method, path, declared, not_declared
):
    responses = client.get("/openapi.json").json()["paths"][path][method]["responses"]
    assert declared <= responses.keys()
    assert not (not_declared & responses.keys())


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/chatbots/00000000-0000-4000-8000-000000000000", "DELETE, GET, PATCH"),
        ("PUT", "/api/billing/info", "GET, PATCH"),
        # concrete paths before templated ones: not /api/users/{user_id}'s PATCH, nor
        # /api/billing/invoices/{invoice_id}'s GET with a malformed id
        ("PATCH", "/api/users/invitations", "GET, POST"),
        ("GET", "/api/billing/invoices/generate", "POST"),
    ],
)
def test_an_undeclared_method_gets_405_with_every_method_of_the_path(tenant, method, path, allow):
    r = tenant.client.request(method, path, headers=tenant.headers)
    assert r.status_code == 405, r.text
    assert r.headers["allow"] == allow
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_a_browser_preflight_is_still_answered_by_cors(client):
    r = client.options(
        "/api/chatbots",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "PATCH"},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_declared_methods_still_reach_their_routes(tenant):
    assert tenant.get("/api/users/invitations").status_code == 200
    assert tenant.get("/api/chatbots/not-a-uuid").status_code == 422


@pytest.mark.parametrize("value", [False, "5", 1.5])
def test_a_number_setting_takes_a_json_number_only(tenant, value):
    bot = tenant.create_chatbot()
    r = tenant.patch(f"/api/chatbots/{bot['id']}", json={"settings": {"chunk_overlap": value}})
    assert r.status_code == 422, r.text
    ok = tenant.patch(f"/api/chatbots/{bot['id']}", json={"settings": {"chunk_overlap": 50.0}})
    assert ok.json()["settings"]["chunk_overlap"] == 50


@pytest.mark.parametrize(
    "query", ["/api/usage?end=0.5", "/api/usage?start=-1e3", "/api/usage?end=1700000000"]
)
def test_a_number_is_not_a_date(tenant, query):
    assert tenant.get(query).status_code == 422


def test_sessions_before_takes_a_date_time_not_a_number(tenant):
    bot = tenant.create_chatbot()
    path = f"/api/chatbots/{bot['id']}/sessions"
    assert tenant.get(path, params={"before": "0.5"}).status_code == 422
    assert tenant.get(path, params={"before": "2026-11-30T12:00:00Z"}).status_code == 200


def test_retention_days_may_be_left_out_but_not_cleared(tenant):
    assert tenant.patch("/api/billing/info", json={"retention_days": None}).status_code == 422
    assert tenant.patch("/api/billing/info", json={"tax_id": "X1"}).status_code == 200
    schema = tenant.get("/openapi.json").json()["components"]["schemas"]["BillingInfoUpdate"]
    assert schema["properties"]["retention_days"]["type"] == "integer"
