"""Hybrid retrieval (vector + full-text, fused) and the decision to refuse, through the API."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import func, select

from app.billing.models import UsageRecord
from app.chat.models import ChatMessage
from app.chat.prompt import NOT_FOUND_ANSWER
from app.chat.retrieval import (
    BEST_FUSED,
    LEXICAL_WEIGHT,
    RRF_K,
    Candidate,
    calibration_for,
    decide,
    names_a_document,
)
from app.documents.repository import LexicalHit
from ingestion import Hit
from tests.api.test_documents import TEXT, upload, wait_until_done
from tests.chat.test_query import ask

OPENING_HOURS = b"# Opening hours\n\nThe shop opens at 9 and closes at 18, Monday to Saturday.\n"


def retrieve(tenant, bot, question, **body):
    return tenant.post(f"/api/chatbots/{bot['id']}/retrieve", json={"question": question, **body})


def test_retrieve_ranks_chunks_with_their_scores_and_records_nothing(app, tenant, bot, fake_llm):
    r = retrieve(tenant, bot, "What does the Beta 300 toaster weigh?", top_k=2)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refused"] is False and body["reason"] is None
    assert [c["rank"] for c in body["chunks"]] == [1, 2]
    top = body["chunks"][0]
    assert top["heading"] == "Beta 300 toaster" and "1.1 kg" in top["text"]
    assert top["vector_score"] > 0.8 and top["vector_rank"] == 1
    assert top["lexical_score"] > 0 and top["lexical_rank"] == 1
    # first in both rankings, but "weigh" is not in the chunk ("weighs"): a partial match
    partial = (1 + LEXICAL_WEIGHT) / (RRF_K + 1)
    assert top["fused_score"] == pytest.approx(partial)
    assert top["score"] == pytest.approx(partial / BEST_FUSED, abs=1e-4)
    fused = [c["fused_score"] for c in body["chunks"]]
    assert fused == sorted(fused, reverse=True)
    # every word searched is in the chunk: the full lexical weight, the best score there is
    [top] = retrieve(tenant, bot, "How many slots has the Beta 300 toaster?", top_k=1).json()[
        "chunks"
    ]
    assert top["heading"] == "Beta 300 toaster" and top["lexical_rank"] == 1
    assert top["fused_score"] == pytest.approx(BEST_FUSED) and top["score"] == 1.0
    assert fake_llm.requests == []
    with app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(ChatMessage)) == 0
        assert db.scalar(select(func.count()).select_from(UsageRecord)) == 0


def test_retrieve_takes_the_chatbots_top_k_by_default_and_any_role(tenant, bot):
    tenant.patch(f"/api/chatbots/{bot['id']}", json={"settings": {"top_k": 1}})
    member = tenant.add_user("member")
    r = retrieve(member, bot, "returns?")
    assert r.status_code == 200 and len(r.json()["chunks"]) == 1


def test_retrieve_rejects_bad_questions_with_a_clear_422(tenant, bot):
    assert retrieve(tenant, bot, "").status_code == 422
    assert retrieve(tenant, bot, "x" * 5000).status_code == 422
    assert retrieve(tenant, bot, "returns?", top_k=0).status_code == 422
    r = retrieve(tenant, bot, "nul\x00here")
    assert r.status_code == 422 and "NUL" in r.json()["error"]["message"]


def test_off_topic_question_is_refused_without_llm_or_usage(client, app, tenant, bot, fake_llm):
    playground = retrieve(tenant, bot, "How do I bake sourdough bread?").json()
    assert playground["refused"] is True and playground["reason"]
    answer = ask(client, bot, "How do I bake sourdough bread?").json()
    assert answer["answer"] == NOT_FOUND_ANSWER and answer["unanswered"] is True
    assert answer["usage"]["total_tokens"] == 0 and answer["provider"] == "none"
    assert fake_llm.requests == []
    with app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(UsageRecord)) == 0


def test_on_topic_questions_in_other_languages_are_not_refused(tenant, bot):
    for question in ("Combien pèse le mixeur Alpha 200 ?", "Wie viel wiegt der Toaster Beta 300?"):
        body = retrieve(tenant, bot, question).json()
        assert body["refused"] is False, (question, body["reason"])


def test_a_small_collection_answers_when_both_searches_put_the_same_chunk_first(tenant):
    """Two short documents: "Is shipping free?" is a little below e5's threshold, and only one
    of the two kept chunks can hold its words, but both searches rank that chunk first."""
    bot = tenant.create_chatbot(name="Shop")
    for name, data in (("policy.txt", TEXT.encode()), ("faq.md", OPENING_HOURS)):
        doc = upload(tenant, bot["id"], name, data).json()[0]
        assert wait_until_done(tenant, doc["id"])["status"] == "ready"
    body = retrieve(tenant, bot, "Is shipping free?").json()
    top = body["chunks"][0]
    assert top["vector_score"] < 0.85  # not answered on the vector evidence alone
    assert top["vector_rank"] == top["lexical_rank"] == 1 and "50 euros" in top["text"]
    assert body["refused"] is False, body["reason"]
    assert retrieve(tenant, bot, "How do I bake sourdough bread?").json()["refused"] is True


def test_a_chatbot_without_documents_refuses(tenant):
    empty = tenant.create_chatbot(name="Empty")
    body = retrieve(tenant, empty, "returns?").json()
    assert body["refused"] is True and body["chunks"] == []


NOTE = "zinc plated steel for indoor and outdoor use; sold by the pack, delivered in two days"


def parts_catalogue() -> tuple[bytes, list[str]]:
    """Forty parts that differ by their number: what embeddings blur and words do not."""
    rng = random.Random(3)
    items = ["hex bolt", "wing nut", "washer", "wood screw", "hinge", "bracket", "spring"]
    rows, numbers = ["part,item,size,pack,note"], []
    for _ in range(40):
        number = f"{rng.randint(10000, 99999)}-{rng.choice('ABCDEFGH')}"
        numbers.append(number)
        size, pack = rng.choice(["M4", "M6", "M8"]), rng.choice([10, 25, 50])
        rows.append(f"{number},{rng.choice(items)},{size},{pack},{NOTE}")
    return "\n".join(rows).encode(), numbers


def test_hybrid_ranking_finds_exact_terms_that_vector_search_misses(tenant):
    bot = tenant.create_chatbot(name="Parts")
    data, numbers = parts_catalogue()
    doc = upload(tenant, bot["id"], "parts.csv", data).json()[0]
    assert wait_until_done(tenant, doc["id"])["chunk_count"] == 40  # a chunk per row
    hybrid_first = vector_first = 0
    for number in numbers[:20]:
        chunks = retrieve(tenant, bot, f"What is part {number}?", top_k=40).json()["chunks"]
        [right] = [c for c in chunks if f"part: {number}\n" in c["text"]]
        hybrid_first += right["rank"] == 1
        vector_first += right["vector_rank"] == 1
    assert hybrid_first == 20
    assert vector_first < 20  # multilingual-e5 alone puts another part first for some


# --- a question that names a document --------------------------------------------------------


def lexical_hit(**meta: str) -> LexicalHit:
    return LexicalHit(uuid.uuid4(), 0, "text", meta, score=5.0, matched=1)


@pytest.mark.parametrize(
    ("question", "meta", "named"),
    [
        (
            "Wie teste ich mit xz die Integrität komprimierter Dateien?",
            {"filename": "xz.1.fr.txt"},
            True,
        ),
        (
            "Comment afficher les informations avec dpkg-deb ?",
            {"filename": "dpkg-deb.1.de.txt"},
            True,
        ),
        (
            "What pricing plans are there?",
            {"filename": "Pricing plans", "title": "Pricing plans"},
            True,
        ),
        ("Wie teste ich die Integrität komprimierter Dateien?", {"filename": "xz.1.fr.txt"}, False),
        # "du" is French for "of the": a function word names nothing
        ("Combien de place prend le cache du navigateur ?", {"filename": "du.1.txt"}, False),
        # numbers and a file name's extension are no part of a name
        ("What changed in version 2.1?", {"filename": "LGPL-2.1.txt"}, False),
        ("Can I upload a txt file?", {"filename": "notes.txt"}, False),
    ],
)
def test_a_question_names_a_document_by_a_word_of_its_title_or_file_name(question, meta, named):
    assert names_a_document(question, [lexical_hit(**meta)]) is named


def test_a_named_document_lowers_the_similarity_a_question_needs_but_not_below_its_floor():
    e5 = calibration_for("intfloat/multilingual-e5-small", None)
    candidates = [Candidate("doc", 0, "text", {}, vector_score=0.83, vector_rank=1)]

    def decision(best: float, named: bool) -> str | None:
        return decide(candidates, [Hit("id", "text", {}, best)], e5, named)

    # between the named floor and the threshold less the margin, no lexical agreement
    assert decision(0.83, named=False) is not None
    assert decision(0.83, named=True) is None
    assert decision(e5.threshold - e5.named - 0.005, named=True) is not None
    assert decision(e5.threshold, named=False) is None
