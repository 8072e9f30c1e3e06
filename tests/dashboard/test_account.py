"""Usage (every role), billing with invoices and their printable page (owners only), the
team: owners and admins add and remove people, owners change roles; nobody sees a button the API
would refuse. The account page (owners only): the data export as a ZIP download, and the
account's deletion, which signs everyone out."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

from tests.dashboard.test_playground import ready_bot
from tests.servers import wait_for

pytestmark = pytest.mark.browser


def ask(owner, bot: dict, question: str) -> dict:
    r = owner.post(f"/api/{owner.customer_id}/{bot['id']}/query", json={"question": question})
    assert r.status_code == 200, r.text
    return r.json()


def test_usage_shows_the_allowance_meter_and_usage_per_chatbot(dashboard, live_api):
    owner = live_api.owner
    bot = ready_bot(owner)
    ask(owner, bot, "Is shipping free?")
    summary = owner.get("/api/usage/summary").json()
    member = owner.add_user("member")
    page = dashboard.open("/dashboard/usage", tenant=member)

    allowance = page.get_by_role("region", name="Monthly allowance")
    expect(allowance).to_contain_text(f"{summary['tokens_used']:,} of {summary['allowance']:,}")
    meter = allowance.get_by_role("meter", name="Monthly allowance used")
    expect(meter).to_have_attribute("aria-valuenow", str(summary["tokens_used"]))
    by_bot = page.get_by_role("region", name="By chatbot")
    expect(by_bot.get_by_role("row", name=re.compile("Shop help"))).to_contain_text(
        f"{summary['tokens_used']:,}"
    )
    dashboard.check(page, "usage")


def test_usage_counts_offline_answers_as_questions_not_llm_calls(dashboard, live_api):
    owner = live_api.owner
    bot = ready_bot(owner)
    answer = ask(owner, bot, "Is shipping free?")
    assert answer["provider"] == "extractive" and not answer["unanswered"]
    page = dashboard.open("/dashboard/usage", tenant=owner)

    table = page.get_by_role("region", name="By chatbot").get_by_role("table")
    row = table.get_by_role("row", name=re.compile("Shop help")).get_by_role("cell")
    expect(row.first).to_have_text("Shop help")
    headers = table.get_by_role("columnheader").all_inner_texts()
    cells = dict(zip(headers, row.all_inner_texts(), strict=True))
    assert (cells["Questions answered"], cells["LLM calls"]) == ("1", "0")


def test_owner_edits_billing_details_and_opens_an_invoices_printable_page(dashboard, live_api):
    owner = live_api.owner
    bot = ready_bot(owner)
    ask(owner, bot, "Is shipping free?")
    page = dashboard.open("/dashboard/billing", tenant=owner)

    plan = page.get_by_role("region", name="Plan")
    expect(plan).to_contain_text("free")
    # the free plan's prices are 0.000000 per 1,000 tokens: money, shown to the cent
    expect(plan.get_by_text("Price per 1,000 input tokens").locator("+ dd")).to_have_text("$0.00")
    expect(plan.get_by_text("Price per 1,000 output tokens").locator("+ dd")).to_have_text("$0.00")
    page.get_by_label("Billing email").fill("accounts@acme.example")
    page.get_by_label("Address").fill("1 Teapot Lane\nLondon")
    page.get_by_label("Tax id").fill("GB123456789")
    page.get_by_role("button", name="Save billing details").click()
    expect(page.get_by_text("Billing details saved.")).to_be_visible()
    info = owner.get("/api/billing/info").json()
    assert info["billing_email"] == "accounts@acme.example" and info["tax_id"] == "GB123456789"

    invoices = page.get_by_role("region", name="Invoices")
    expect(invoices).to_contain_text("No invoices yet")
    with page.expect_response(lambda r: "/invoices/generate" in r.url):
        invoices.get_by_role("button", name="Update this month's draft").click()
    (invoice,) = owner.get("/api/billing/invoices").json()
    row = invoices.get_by_role("row", name=re.compile(invoice["invoice_number"]))
    expect(row).to_contain_text("draft")
    dashboard.check(page, "billing")

    with page.expect_popup() as opened:
        row.get_by_role("button", name=f"Printable page of {invoice['invoice_number']}").click()
    printable = opened.value
    expect(printable.locator("body")).to_contain_text(invoice["invoice_number"])
    expect(printable.locator("body")).to_contain_text("GB123456789")
    styled = printable.evaluate("getComputedStyle(document.body).maxWidth")
    assert styled == "800px"  # the page's own <style> applies under the dashboard's CSP


def test_team_owner_invites_people_and_removes_them(dashboard, live_api):
    owner = live_api.owner
    bob = owner.add_user("member")
    page = dashboard.open("/dashboard/team", tenant=owner)
    people = page.get_by_role("list", name="People")
    expect(people.get_by_role("listitem", name=owner.email)).to_contain_text("(you)")
    expect(page.get_by_role("button", name=f"Remove {owner.email}")).to_have_count(0)
    expect(page.get_by_label("Password")).to_have_count(0)  # the invitee chooses their own

    dashboard.allow_console("status of 422")
    page.get_by_label("Email").fill("ann@acme")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert")).to_have_text("Email is not a valid email address.")

    page.get_by_label("Email").fill("ann@acme.example")
    page.get_by_role("radio", name=re.compile("^Admin:")).check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to ann@acme.example.")).to_be_visible()
    pending = page.get_by_role("list", name="Pending invitations")
    expect(pending.get_by_role("listitem", name="ann@acme.example")).to_contain_text("admin")
    dashboard.check(page, "team")

    page.get_by_role("button", name=f"Remove {bob.email}").click()
    dialog = page.get_by_role("dialog", name=f"Remove {bob.email}?")
    expect(dialog).to_contain_text("can no longer sign in")
    dialog.get_by_role("button", name="Remove").click()
    expect(people.get_by_role("listitem", name=bob.email)).to_have_count(0)
    assert [u["email"] for u in owner.get("/api/users").json()] == [owner.email]


def test_admins_and_members_see_only_what_they_may_do(dashboard, live_api):
    owner = live_api.owner
    other_admin = owner.add_user("admin")
    admin = owner.add_user("admin")
    member = owner.add_user("member")

    page = dashboard.open("/dashboard/team", tenant=admin)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Billing")).to_have_count(0)
    people = page.get_by_role("list", name="People")
    expect(people.get_by_role("listitem", name=member.email)).to_be_visible()
    expect(page.get_by_role("button", name=f"Remove {member.email}")).to_be_visible()
    for untouchable in (owner.email, other_admin.email, admin.email):
        expect(page.get_by_role("button", name=f"Remove {untouchable}")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Make "))).to_have_count(0)
    expect(page.get_by_role("radio", name=re.compile("^Admin:"))).to_have_count(0)
    # admins invite members only, and revoke only members' invitations
    owner.post("/api/users/invitations", json={"email": "adm@acme.example", "role": "admin"})
    admin.post("/api/users/invitations", json={"email": "mem@acme.example"})
    page.reload()
    pending = page.get_by_role("list", name="Pending invitations")
    expect(pending.get_by_role("listitem")).to_have_count(2)
    expect(
        page.get_by_role("button", name="Revoke the invitation of mem@acme.example")
    ).to_be_visible()
    expect(
        page.get_by_role("button", name="Revoke the invitation of adm@acme.example")
    ).to_have_count(0)
    page.goto("/dashboard/billing")
    expect(page).to_have_url(re.compile("/dashboard/usage$"))

    page = dashboard.open("/dashboard/team", tenant=member)
    expect(page).to_have_url(re.compile("/dashboard/chatbots$"))
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Usage")).to_be_visible()
    expect(nav.get_by_role("link", name="Team")).to_have_count(0)


def test_owner_changes_roles_and_hears_why_a_change_failed(dashboard, live_api):
    owner = live_api.owner
    member = owner.add_user("member")
    gone = owner.add_user("member")
    page = dashboard.open("/dashboard/team", tenant=owner)
    people = page.get_by_role("list", name="People")
    row = people.get_by_role("listitem", name=member.email)
    expect(row).to_contain_text("member")
    own = people.get_by_role("listitem", name=owner.email)
    expect(own.get_by_role("button")).to_have_count(0)

    row.get_by_role("button", name=f"Make admin: {member.email}").click()
    expect(page.get_by_role("status")).to_have_text(f"{member.email} is now an admin.")
    expect(row.get_by_text("admin", exact=True)).to_be_visible()
    assert {u["email"]: u["role"] for u in owner.get("/api/users").json()}[member.email] == "admin"
    dashboard.check(page, "team-roles")

    row.get_by_role("button", name=f"Make member: {member.email}").click()
    expect(page.get_by_role("status")).to_have_text(f"{member.email} is now a member.")
    expect(row.get_by_role("button", name=f"Make admin: {member.email}")).to_be_visible()

    dashboard.allow_console("status of 404")
    assert owner.delete(f"/api/users/{gone.user_id}").status_code == 204
    people.get_by_role("button", name=f"Make admin: {gone.email}").click()
    expect(page.get_by_role("alert")).to_have_text(f"{gone.email} is no longer in this account.")
    expect(people.get_by_role("listitem", name=gone.email)).to_have_count(0)


def test_owner_downloads_the_accounts_export(dashboard, live_api, tmp_path):
    owner = live_api.owner
    bot = ready_bot(owner)
    page = dashboard.open("/dashboard/chatbots", tenant=owner)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    expect(page).to_have_url(re.compile("/dashboard/account$"))
    card = page.get_by_role("region", name="Export your data")
    with page.expect_download() as downloading:
        card.get_by_role("button", name="Export your data").click()
    download = downloading.value
    assert re.fullmatch(r"acme-export-\d{4}-\d{2}-\d{2}\.zip", download.suggested_filename)
    download.save_as(tmp_path / "export.zip")
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
        [document] = json.loads(archive.read("documents.json"))
        assert archive.read(document["file"]).startswith(b"Returns are accepted")
    assert manifest["customer"]["name"] == "Acme" and manifest["counts"]["chatbots"] == 1
    assert document["chatbot_id"] == bot["id"]
    expect(card.get_by_role("status")).to_have_text(
        re.compile(rf"Your export is downloaded: {download.suggested_filename} \([\d.]+ KB\)\.")
    )
    dashboard.check(page, "account")


def test_owner_deletes_the_account_and_is_signed_out(dashboard, live_api):
    owner = live_api.owner
    ready_bot(owner)
    member = owner.add_user("member")
    dashboard.allow_console("status of 403")  # the wrong password's answer
    page = dashboard.open("/dashboard/account", tenant=owner)
    zone = page.get_by_role("region", name="Delete this account")
    expect(zone).to_contain_text("Issued invoices are kept.")
    password = zone.get_by_label("Your password")
    name = zone.get_by_label("Type the account's name, Acme, to confirm")
    password.fill("not my password")
    name.fill("acme")
    zone.get_by_role("button", name="Delete this account").click()
    expect(name).to_have_accessible_description("Type Acme exactly as it is written here.")
    expect(page.get_by_role("dialog")).to_have_count(0)

    name.fill("Acme")
    zone.get_by_role("button", name="Delete this account").click()
    dialog = page.get_by_role("dialog", name="Delete Acme for good?")
    dialog.get_by_role("button", name="Delete the account").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "That password is not correct; the account was not deleted"
    )
    dashboard.check(page, "account-delete")
    dialog.get_by_role("button", name="Cancel").click()
    assert owner.get("/auth/me").status_code == 200

    password.fill(owner.password)
    zone.get_by_role("button", name="Delete this account").click()
    dialog.get_by_role("button", name="Delete the account").click()
    expect(page).to_have_url(re.compile("/dashboard/signin$"))
    expect(page.get_by_role("status")).to_have_text(
        "Your account and all of its data were deleted. Issued invoices are kept, as the law "
        "requires."
    )
    assert page.evaluate("localStorage.getItem('dashboard.token')") is None
    for gone in (owner, member):
        assert gone.get("/auth/me").status_code == 401


def test_admins_and_members_are_told_the_account_page_is_for_owners(dashboard, live_api):
    for role in ("admin", "member"):
        page = dashboard.open("/dashboard/account", tenant=live_api.owner.add_user(role))
        expect(page.get_by_role("status")).to_contain_text("This page is for owners only")
        expect(page.get_by_role("button", name="Export your data")).to_have_count(0)
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Usage")).to_be_visible()
        expect(nav.get_by_role("link", name="Account")).to_have_count(0)
    assert live_api.owner.get("/auth/me").status_code == 200


def test_owner_sees_each_email_and_how_its_delivery_went(mail_dashboard, live_mail_api, mailbox):
    """The outbox on the Account page: a message the mail server never took is shown given up
    with the reason, one it took is shown sent; never their text."""
    owner = live_mail_api.owner

    def invite(email: str) -> None:
        r = owner.post("/api/users/invitations", json={"email": email, "role": "member"})
        assert r.status_code == 201, r.text

    def status_of(email: str) -> str:
        [found] = [e for e in owner.get("/api/emails").json() if e["to_address"] == email]
        return found["status"]

    mailbox.stop()  # the mail server is down: six tries, then given up
    invite("lost@acme.example")
    wait_for(lambda: status_of("lost@acme.example") == "failed", 60, "the email to be given up")
    mailbox.start()
    invite("ann@acme.example")
    mailbox.wait_for("ann@acme.example")
    wait_for(lambda: status_of("ann@acme.example") == "sent", 30, "the email to be marked sent")

    page = mail_dashboard.open("/dashboard/account", tenant=owner)
    emails = page.get_by_role("region", name="Emails sent")
    lost = emails.get_by_role("row", name=re.compile("lost@acme.example"))
    expect(lost).to_contain_text("Invitation")
    expect(lost).to_contain_text("Failed")
    expect(lost).to_contain_text("6 tries, given up: ConnectionRefusedError")
    sent = emails.get_by_role("row", name=re.compile("ann@acme.example"))
    expect(sent).to_contain_text("Sent")
    expect(emails).not_to_contain_text("#token=")
    mail_dashboard.check(page, "account-emails")
