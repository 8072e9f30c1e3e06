"""Settings: prompt, model, temperature, retrieval and chunking, allowed websites and the widget's
look with a live preview; the server's validation errors in words."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.chat.retrieval import calibration_for

pytestmark = pytest.mark.browser


def test_owner_edits_settings_and_sees_the_widget_preview_change_live(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/settings", tenant=owner)
    preview = page.get_by_role("figure", name="Preview of the chat widget")
    expect(preview).to_contain_text("Shop help")

    page.get_by_label("System prompt").fill("Answer in one friendly sentence.")
    page.get_by_label("Model").fill("accounts/fireworks/models/llama-v3p1-8b-instruct")
    page.get_by_label("Temperature").fill("0.3")
    page.get_by_label("Passages per answer").fill("6")
    page.get_by_label("Score threshold").fill("0.82")
    page.get_by_label("Chunk size").fill("900")
    page.get_by_label("Chunk overlap").fill("120")

    page.get_by_label("Add a website").fill("not a site at all")
    page.get_by_role("button", name="Add website").click()
    expect(page.get_by_text("Enter a website address such as")).to_be_visible()
    page.get_by_label("Add a website").fill("shop.example.com/some/page")
    page.get_by_role("button", name="Add website").click()
    origins = page.get_by_role("list", name="Allowed websites")
    expect(origins).to_contain_text("https://shop.example.com")

    page.get_by_label("Title").fill("Ask Acme")
    page.get_by_label("Greeting").fill("Hello! Ask me about returns.")
    page.get_by_label("Starter questions").fill("Is shipping free?\nHow do I return an item?")
    page.get_by_label("Accent colour").fill("#0f766e")
    page.get_by_label("Bottom left").check()
    expect(preview).to_contain_text("Ask Acme")
    expect(preview).to_contain_text("Hello! Ask me about returns.")
    expect(preview).to_contain_text("How do I return an item?")
    expect(preview).to_have_class("widget-preview left")
    dashboard.check(page, "settings")

    page.get_by_role("button", name="Save changes").first.click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()

    saved = owner.get(f"/api/chatbots/{bot['id']}").json()
    assert saved["system_prompt"] == "Answer in one friendly sentence."
    assert saved["allowed_origins"] == ["https://shop.example.com"]
    settings = saved["settings"]
    assert settings["top_k"] == 6 and settings["score_threshold"] == 0.82
    assert settings["chunk_size"] == 900 and settings["chunk_overlap"] == 120
    assert settings["temperature"] == 0.3
    assert settings["llm_model"] == "accounts/fireworks/models/llama-v3p1-8b-instruct"
    assert settings["widget"] == {
        "title": "Ask Acme",
        "greeting": "Hello! Ask me about returns.",
        "starter_questions": ["Is shipping free?", "How do I return an item?"],
        "accent_color": "#0f766e",
        "position": "bottom-left",
    }
    config = owner.client.get(f"/widget/config/{bot['id']}", params={"key": bot["widget_key"]})
    assert config.json()["title"] == "Ask Acme"

    page.reload()
    expect(page.get_by_label("Passages per answer")).to_have_value("6")
    origins.get_by_role("button", name="Remove https://shop.example.com").click()
    page.get_by_role("button", name="Save changes").first.click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    assert owner.get(f"/api/chatbots/{bot['id']}").json()["allowed_origins"] == []


def test_settings_the_server_refuses_are_explained(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    dashboard.allow_console("status of 422")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/settings", tenant=owner)

    page.get_by_label("Chunk size").fill("500")
    page.get_by_label("Chunk overlap").fill("600")
    page.get_by_role("button", name="Save changes").first.click()

    refused = page.get_by_role("alert")
    expect(refused).to_contain_text("chunk_overlap must be smaller than chunk_size")


def test_member_sees_settings_read_only(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    page = dashboard.open(
        f"/dashboard/chatbots/{bot['id']}/settings", tenant=owner.add_user("member")
    )

    expect(page.get_by_text("Only owners and admins can change settings.")).to_be_visible()
    expect(page.get_by_label("System prompt")).to_be_disabled()
    expect(page.get_by_role("button", name="Save changes")).to_have_count(0)


def test_score_threshold_default_is_said_as_the_readme_says(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/settings", tenant=owner)
    field = page.get_by_label("Score threshold")
    calibrated = f"{calibration_for('multilingual-e5-small', None).threshold:.2f}"
    expect(field).to_have_value("")
    expect(field).to_have_attribute("placeholder", "Default (calibrated)")
    # README, "How retrieval decides": the refusal line, the best passage's similarity
    expect(field).to_have_accessible_description(
        re.compile(
            "answered only if its best passage is at least this similar.*"
            f"calibrated value \\({re.escape(calibrated)} for multilingual-e5"
        )
    )


def test_leaving_settings_with_an_unsaved_website_asks_first(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/settings", tenant=owner)
    tabs = page.get_by_role("navigation", name="Shop help sections")
    leave_unload = "() => !window.dispatchEvent(new Event('beforeunload', { cancelable: true }))"
    assert page.evaluate(leave_unload) is False  # nothing changed: leave freely

    page.get_by_label("Add a website").fill("shop.example.com")
    page.get_by_role("button", name="Add website").click()
    expect(page.get_by_role("list", name="Allowed websites")).to_contain_text(
        "https://shop.example.com"
    )
    assert page.evaluate(leave_unload) is True  # a reload or a closed tab asks

    asked: list[str] = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, accept=False))
    tabs.get_by_role("link", name="Playground").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    expect(page.get_by_role("list", name="Allowed websites")).to_contain_text(
        "https://shop.example.com"
    )
    assert asked and "unsaved" in asked[0]

    page.get_by_role("button", name="Save changes").first.click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    assert page.evaluate(leave_unload) is False
    tabs.get_by_role("link", name="Playground").click()  # saved: no question
    expect(page).to_have_url(re.compile(r"/playground$"))
    assert len(asked) == 1
    assert owner.get(f"/api/chatbots/{bot['id']}").json()["allowed_origins"] == [
        "https://shop.example.com"
    ]

    page.goto(f"/dashboard/chatbots/{bot['id']}/settings")
    page.get_by_label("Add a website").fill("other.example.com")  # typed, not added, counts too
    page.once("dialog", lambda d: answer(d, accept=True))
    tabs.get_by_role("link", name="Playground").click()
    expect(page).to_have_url(re.compile(r"/playground$"))
    assert len(asked) == 2
