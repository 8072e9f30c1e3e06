from __future__ import annotations


def test_validation_error_names_field_and_reason(client):
    r = client.post("/auth/register", json={"email": "not-an-email", "password": "short"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    fields = {d["field"] for d in err["details"]}
    assert fields == {"email", "password", "customer_name"}
    assert all(d["message"] for d in err["details"])


def test_unknown_route_and_method_use_the_error_shape(client):
    r = client.get("/nope")
    assert r.status_code == 404
    body = r.json()
    assert body["error"].pop("request_id") == r.headers["x-request-id"]
    assert body == {"error": {"code": "not_found", "message": "Not Found"}}
    r = client.put("/health")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_malformed_json_is_a_clear_422(client):
    r = client.post(
        "/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert "error" in r.json()


def test_bad_uuid_in_path_is_422(tenant):
    r = tenant.get("/api/chatbots/not-a-uuid")
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "chatbot_id"


def test_unexpected_error_hides_the_stack_trace(app):
    from fastapi.testclient import TestClient

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals at /srv/app.py line 42")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    body = r.json()
    assert body["error"].pop("request_id") == r.headers["x-request-id"]
    assert body == {"error": {"code": "internal_error", "message": "Internal server error"}}
    assert "secret internals" not in r.text


def test_health_reports_database(client):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/auth/token" in spec["paths"]
