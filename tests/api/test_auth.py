from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from jose import jwt
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.repository import UserRepository
from app.core.security import create_access_token
from app.customers.models import Customer
from tests.conftest import operator_db
from tests.races import check_together


def test_register_creates_customer_and_owner(client):
    r = client.post(
        "/auth/register",
        json={"email": "Ada@Example.com", "password": "s3cret-pass", "customer_name": "Acme"},
    )
    assert r.status_code == 201
    token = r.json()["access_token"]
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["email"] == "ada@example.com"
    assert me["role"] == "owner"
    assert me["customer"]["name"] == "Acme"
    assert me["customer"]["plan"] == "free"


def test_register_twice_with_same_email_conflicts(client, tenant):
    r = client.post(
        "/auth/register",
        json={"email": tenant.email.upper(), "password": "another-pass", "customer_name": "X"},
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "conflict"


def test_token_endpoint_accepts_oauth2_form(client, tenant):
    r = client.post("/auth/token", data={"username": tenant.email, "password": tenant.password})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == tenant.user_id


def test_wrong_password_and_unknown_email_answer_the_same(client, tenant):
    wrong = client.post("/auth/login", json={"email": tenant.email, "password": "nope-nope"})
    unknown = client.post("/auth/login", json={"email": "who@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401

    def without_request_id(r):
        return {k: v for k, v in r.json()["error"].items() if k != "request_id"}

    assert without_request_id(wrong) == without_request_id(unknown)


def test_token_names_user_and_customer_and_expires(client, tenant, settings):
    claims = jwt.decode(tenant.token, settings.secret_key, algorithms=["HS256"])
    assert claims["sub"] == tenant.user_id
    assert claims["cid"] == tenant.customer_id
    assert claims["exp"] > time.time()


def test_expired_token_is_refused(client, tenant, settings):
    import uuid

    token = create_access_token(
        user_id=uuid.UUID(tenant.user_id),
        customer_id=uuid.UUID(tenant.customer_id),
        secret=settings.secret_key,
        minutes=-1,
    )
    r = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_token_with_other_algorithm_or_key_is_refused(client, tenant, settings):
    claims = jwt.decode(tenant.token, settings.secret_key, algorithms=["HS256"])
    forged_key = jwt.encode(claims, "some-other-key", algorithm="HS256")
    forged_alg = jwt.encode(claims, settings.secret_key, algorithm="HS512")
    for token in (forged_key, forged_alg, "not-a-jwt"):
        r = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token


def test_missing_token_is_401_with_www_authenticate(client):
    r = client.get("/auth/me")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "unauthorized"


def test_password_is_stored_as_argon2(client, tenant, app):
    from sqlalchemy import select

    from app.auth.models import User

    with app.state.sessionmaker() as db:
        user = db.scalars(select(User).where(User.email == tenant.email)).one()
    assert user.password_hash.startswith("$argon2")
    assert tenant.password not in user.password_hash


def test_concurrent_sign_ups_with_one_address_make_one_account(client, monkeypatch):
    """Both requests pass the check that the address is free before either writes (held there
    for each other on PostgreSQL; SQLite's one writer lets the first finish alone): one account,
    one 409 and no customer left without its owner."""
    check_together(monkeypatch, UserRepository, "email_taken")

    def sign_up(name: str) -> int:
        body = {"email": "race@example.com", "password": "s3cret-pass", "customer_name": name}
        return client.post("/auth/register", json=body).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(sign_up, ["Acme", "Globex"]))

    assert statuses == [201, 409], statuses
    with operator_db(client.app) as db:
        assert db.scalar(select(func.count()).select_from(User)) == 1
        assert db.scalar(select(func.count()).select_from(Customer)) == 1
