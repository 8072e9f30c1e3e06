from __future__ import annotations

import pytest


def test_owner_creates_lists_and_deletes_users(tenant):
    admin = tenant.add_user("admin")
    listed = tenant.get("/api/users").json()
    assert {u["email"] for u in listed} == {tenant.email, admin.email}
    assert tenant.delete(f"/api/users/{admin.user_id}").status_code == 204
    assert len(tenant.get("/api/users").json()) == 1


def test_member_cannot_manage_users_or_chatbots(tenant):
    member = tenant.add_user("member")
    assert member.get("/api/users").status_code == 403
    r = member.post("/api/users", json={"email": "x@example.com", "password": "12345678"})
    assert r.status_code == 403
    assert member.post("/api/chatbots", json={"name": "x"}).status_code == 403


def test_member_may_read_chatbots(tenant):
    bot = tenant.create_chatbot()
    member = tenant.add_user("member")
    assert member.get(f"/api/chatbots/{bot['id']}").status_code == 200
    assert [b["id"] for b in member.get("/api/chatbots").json()] == [bot["id"]]


def test_admin_manages_members_but_not_admins_or_owner(tenant):
    admin = tenant.add_user("admin")
    other_admin = tenant.add_user("admin")
    r = admin.post("/api/users", json={"email": "m@example.com", "password": "12345678"})
    assert r.status_code == 201
    assert admin.delete(f"/api/users/{r.json()['id']}").status_code == 204
    assert admin.delete(f"/api/users/{other_admin.user_id}").status_code == 403
    assert admin.delete(f"/api/users/{tenant.user_id}").status_code == 403
    r = admin.post(
        "/api/users", json={"email": "a2@example.com", "password": "12345678", "role": "admin"}
    )
    assert r.status_code == 403


@pytest.mark.parametrize("role", ["owner", "superuser"])
def test_role_must_be_admin_or_member(tenant, role):
    r = tenant.post(
        "/api/users", json={"email": "z@example.com", "password": "12345678", "role": role}
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "role"


def test_owner_cannot_delete_self(tenant):
    assert tenant.delete(f"/api/users/{tenant.user_id}").status_code == 409


def test_owner_changes_roles_and_admins_manage_members_only(tenant):
    member = tenant.add_user("member")
    admin = tenant.add_user("admin")
    member_id, admin_id = member.user_id, admin.user_id

    r = tenant.patch(f"/api/users/{member_id}", json={"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin"
    assert tenant.patch(f"/api/users/{member_id}", json={"role": "member"}).json()["role"] == (
        "member"
    )
    # an admin may not make admins, nor demote one, nor touch the owner
    assert admin.patch(f"/api/users/{member_id}", json={"role": "admin"}).status_code == 403
    third_admin = tenant.add_user("admin")
    r = admin.patch(f"/api/users/{third_admin.user_id}", json={"role": "member"})
    assert r.status_code == 403
    assert admin.patch(f"/api/users/{tenant.user_id}", json={"role": "member"}).status_code == 403
    # nobody changes their own role; owners keep theirs
    assert tenant.patch(f"/api/users/{tenant.user_id}", json={"role": "admin"}).status_code == 409
    assert member.patch(f"/api/users/{admin_id}", json={"role": "member"}).status_code == 403
    assert tenant.patch(f"/api/users/{member_id}", json={"role": "owner"}).status_code == 422
