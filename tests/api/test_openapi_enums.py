"""States and roles are enums in `/openapi.json`, each a named component listing its values, so
the dashboard's generated types are unions it can check exhaustively (issue 25)."""

from __future__ import annotations

from typing import Any

ROLES = ["owner", "admin", "member"]
INVITED_ROLES = ["admin", "member"]
DOCUMENT_STATUSES = ["queued", "processing", "ready", "failed"]
WEBSITE_STATUSES = ["queued", "crawling", "ready", "failed"]
INVOICE_STATUSES = ["draft", "issued", "paid", "void"]
EMAIL_STATUSES = ["pending", "sent", "failed"]

# (schema, field): (the enum's component, its values)
FIELDS = {
    ("MeOut", "role"): ("Role", ROLES),
    ("UserOut", "role"): ("Role", ROLES),
    ("UserCreate", "role"): ("InvitedRole", INVITED_ROLES),
    ("RoleChange", "role"): ("InvitedRole", INVITED_ROLES),
    ("InvitationIn", "role"): ("InvitedRole", INVITED_ROLES),
    ("InvitationOut", "role"): ("InvitedRole", INVITED_ROLES),
    ("InvitationPreview", "role"): ("InvitedRole", INVITED_ROLES),
    ("DocumentOut", "status"): ("DocumentStatus", DOCUMENT_STATUSES),
    ("UploadOut", "status"): ("DocumentStatus", DOCUMENT_STATUSES),
    ("WebsiteOut", "status"): ("WebsiteStatus", WEBSITE_STATUSES),
    ("InvoiceBrief", "status"): ("InvoiceStatus", INVOICE_STATUSES),
    ("InvoiceOut", "status"): ("InvoiceStatus", INVOICE_STATUSES),
    ("EmailOut", "status"): ("EmailStatus", EMAIL_STATUSES),
    ("MessageOut", "role"): ("MessageRole", ["user", "assistant"]),
    ("MessageOut", "status"): ("MessageStatus", ["ok", "failed", "interrupted"]),
}


def enum_mismatches(schemas: dict[str, Any]) -> list[str]:
    """Each field of `FIELDS` that is not a reference to its named enum with exactly its values."""
    wrong = []
    for (schema, field), (component, values) in FIELDS.items():
        prop = schemas[schema]["properties"][field]
        ref = f"#/components/schemas/{component}"
        if prop.get("$ref") != ref:
            wrong.append(f"{schema}.{field} is {prop}, not a reference to {component}")
            continue
        enum = schemas[component]
        if enum.get("type") != "string" or sorted(enum.get("enum", [])) != sorted(values):
            wrong.append(f"{component} is {enum}, not an enum of {values}")
    return wrong


def test_status_and_role_fields_are_named_enums_of_their_values(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert enum_mismatches(schemas) == []


def test_a_status_field_back_to_a_bare_string_is_caught(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    schemas["DocumentOut"]["properties"]["status"] = {"type": "string", "title": "Status"}
    schemas["EmailStatus"]["enum"].append("bounced")
    wrong = enum_mismatches(schemas)
    assert (
        "DocumentOut.status is {'type': 'string', 'title': 'Status'}, not a reference to "
        "DocumentStatus"
    ) in wrong
    assert f"EmailStatus is {schemas['EmailStatus']}, not an enum of {EMAIL_STATUSES}" in wrong


def test_every_status_or_role_field_is_listed(client):
    """A new `status` or `role` string field is an enum too, and listed above."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    found = {
        (name, field)
        for name, schema in schemas.items()
        for field, prop in schema.get("properties", {}).items()
        if field in ("status", "role") and (prop.get("type") == "string" or "$ref" in prop)
    }
    # an OpenAI chat message's role: the OpenAI protocol's (an inline enum), not one of ours
    assert found - {("ChatMessageIn", "role")} == set(FIELDS)
