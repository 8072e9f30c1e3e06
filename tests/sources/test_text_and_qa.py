"""Text and Q&A sources end to end: added through the API, indexed like documents, edited,
deleted, and cited through the public query endpoint."""

from __future__ import annotations

import pytest

from tests.sources.conftest import ask, wait_document

ANSWER = (
    "Yes. Every Nordvik tent carries a lifetime warranty against broken poles and torn seams: "
    "send the tent to the Tromsø workshop with your order number and it is repaired free of "
    "charge, or replaced when it cannot be repaired. Damage from fire or from using the tent "
    "above the tree line in winter storms is not covered, and the warranty is not transferable "
    "when the tent is sold on. Repairs usually take two weeks, shipping included."
)


@pytest.fixture
def bot(tenant) -> dict:
    # small chunks: a Q&A pair stays one chunk whatever the chunk size
    return tenant.create_chatbot(settings={"chunk_size": 200, "chunk_overlap": 20})


def _text(tenant, bot, title: str, text: str):
    return tenant.post(
        f"/api/chatbots/{bot['id']}/sources/text", json={"title": title, "text": text}
    )


def test_a_text_is_indexed_and_cited_by_its_title(tenant, bot):
    r = _text(tenant, bot, "Opening hours", "The Tromsø store opens at 9:00 and closes at 18:00.")
    assert r.status_code == 202, r.text
    doc = r.json()
    assert (doc["origin"], doc["kind"], doc["filename"], doc["url"]) == (
        "text",
        "txt",
        "Opening hours",
        None,
    )
    assert wait_document(tenant, doc["id"])["status"] == "ready"
    listed = tenant.get(f"/api/chatbots/{bot['id']}/documents").json()
    assert [d["id"] for d in listed] == [doc["id"]]

    answer = ask(tenant, bot, "When does the Tromsø store close?")
    assert answer["sources"][0]["document_id"] == doc["id"]
    assert answer["sources"][0]["filename"] == "Opening hours"
    assert answer["sources"][0]["url"] is None
    assert "18:00" in answer["answer"]

    again = _text(tenant, bot, "Hours", "The Tromsø store opens at 9:00 and closes at 18:00.")
    assert again.status_code == 202 and again.json()["duplicate"] is True


def test_an_edited_text_is_indexed_again_and_a_deleted_one_is_gone(tenant, bot):
    doc = _text(tenant, bot, "Opening hours", "The store closes at 18:00 on weekdays.").json()
    wait_document(tenant, doc["id"])
    r = tenant.patch(f"/api/documents/{doc['id']}", json={"text": "The store closes at 20:00."})
    assert r.status_code == 202, r.text
    edited = wait_document(tenant, doc["id"])
    assert edited["status"] == "ready" and edited["sha256"] != doc["sha256"]
    chunks = tenant.get(f"/api/documents/{doc['id']}/chunks").json()["items"]
    assert [c["text"] for c in chunks] == ["The store closes at 20:00."]
    assert "20:00" in ask(tenant, bot, "When does the store close?")["answer"]

    renamed = tenant.patch(f"/api/documents/{doc['id']}", json={"title": "Store hours"})
    assert renamed.status_code == 202 and renamed.json()["filename"] == "Store hours"
    wait_document(tenant, doc["id"])
    assert ask(tenant, bot, "When does the store close?")["sources"][0]["filename"] == "Store hours"

    assert tenant.delete(f"/api/documents/{doc['id']}").status_code == 204
    assert ask(tenant, bot, "When does the store close?")["sources"] == []


def test_a_qa_pair_is_one_chunk_holding_question_and_answer(tenant, bot):
    question = "Is there a warranty on tents?"
    r = tenant.post(
        f"/api/chatbots/{bot['id']}/sources/qa", json={"question": question, "answer": ANSWER}
    )
    assert r.status_code == 202, r.text
    doc = r.json()
    assert (doc["origin"], doc["kind"], doc["filename"]) == ("qa", "qa", question)
    ready = wait_document(tenant, doc["id"])
    assert ready["status"] == "ready" and ready["chunks_total"] == 1
    [chunk] = tenant.get(f"/api/documents/{doc['id']}/chunks").json()["items"]
    assert chunk["text"] == f"{question}\n\n{ANSWER}"
    assert len(chunk["text"]) > 200  # longer than the chatbot's chunk size, still one chunk

    answer = ask(tenant, bot, "Do your tents come with a guarantee?")
    assert answer["sources"][0]["document_id"] == doc["id"]
    assert "lifetime warranty" in answer["answer"]

    r = tenant.patch(f"/api/documents/{doc['id']}", json={"answer": "No, only two years."})
    assert r.status_code == 202, r.text
    wait_document(tenant, doc["id"])
    [chunk] = tenant.get(f"/api/documents/{doc['id']}/chunks").json()["items"]
    assert chunk["text"] == f"{question}\n\nNo, only two years."


def test_a_qa_pair_longer_than_one_passage_is_refused(tenant, bot):
    r = tenant.post(
        f"/api/chatbots/{bot['id']}/sources/qa",
        json={"question": "Warranty?", "answer": (ANSWER + " ") * 8},
    )
    assert r.status_code == 422
    assert "one passage of at most 512" in r.json()["error"]["message"]
    assert tenant.get(f"/api/chatbots/{bot['id']}/documents").json() == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"title": "x", "text": "   "}, 422),
        ({"title": "   ", "text": "some text"}, 422),
        ({"title": "x", "text": "nul \x00 byte"}, 422),
        ({"title": "x"}, 422),
        ({"title": "x" * 256, "text": "y"}, 422),
    ],
)
def test_bad_texts_are_422(tenant, bot, body, status):
    r = tenant.post(f"/api/chatbots/{bot['id']}/sources/text", json=body)
    assert r.status_code == status, r.text
    assert tenant.get(f"/api/chatbots/{bot['id']}/documents").json() == []


def test_only_texts_and_qa_pairs_are_edited_and_with_their_own_fields(tenant, bot):
    upload = tenant.post(
        f"/api/upload/{bot['id']}", files=[("file", ("notes.txt", b"Uploaded notes."))]
    ).json()[0]
    r = tenant.patch(f"/api/documents/{upload['id']}", json={"text": "rewritten"})
    assert r.status_code == 409
    text = _text(tenant, bot, "Notes", "Some notes.").json()
    r = tenant.patch(f"/api/documents/{text['id']}", json={"answer": "not a Q&A"})
    assert r.status_code == 422
    assert "text and/or title" in r.json()["error"]["message"]
    assert tenant.patch(f"/api/documents/{text['id']}", json={}).status_code == 422


def test_members_cannot_add_or_edit_sources(tenant, bot):
    member = tenant.add_user("member")
    text = _text(tenant, bot, "Notes", "Some notes.").json()
    assert _text(member, bot, "Mine", "planted").status_code == 403
    qa = member.post(f"/api/chatbots/{bot['id']}/sources/qa", json={"question": "q", "answer": "a"})
    assert qa.status_code == 403
    assert member.patch(f"/api/documents/{text['id']}", json={"text": "x"}).status_code == 403
    url = member.post(f"/api/chatbots/{bot['id']}/sources/url", json={"url": "http://a.test/"})
    assert url.status_code == 403
