"""Near-miss questions: in the documents' domain, naming something no document has
(`app/chat/near_miss.py`), refused with the closest passages offered as related."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.chat.near_miss import Kind, language_of, naming_terms
from tests.api.test_documents import upload, wait_until_done
from tests.chat.test_query import ask, events
from tests.samples import shipped_file

NEAR_MISS = "Can the Alpha 200 blender use the BX-900 jar?"
FAQS = {
    "xz-faq.txt": "/usr/share/doc/xz-utils/faq.txt.gz",
    "zlib-FAQ.txt": "/usr/share/doc/zlib1g-dev/FAQ.gz",
    "procps-FAQ.txt": "/usr/share/doc/procps/FAQ.gz",
    "man-db-FAQ.txt": "/usr/share/doc/man-db/FAQ",
}


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What is the default appendfsync setting for Redis?", ["appendfsync"]),
        ("How do I kill every process with a given name using pkill?", ["pkill"]),
        ("Comment connecter gdb à un programme sous Valgrind avec vgdb ?", ["gdb", "vgdb"]),
        ("¿Cómo escucha socat con UNIX-LISTEN?", ["UNIX-LISTEN"]),
        ("Can the blender use the BX-900 jar?", ["BX-900"]),
        ("Is maxRetryCount honoured?", ["maxRetryCount"]),
    ],
)
def test_words_that_name_something_are_found(question, names):
    found = [term.text for term in naming_terms(question)]
    assert all(name in found for name in names), found


@pytest.mark.parametrize(
    "question",
    [
        "How do I keep du from crossing into other file systems?",
        "Wie zeige ich mit kill die Signalnamen in einer Tabelle an?",
        "Wie lege ich mit chage die Warnfrist vor einem Passwortwechsel fest?",
        "Wie zeigt df Größen in menschenlesbarer Form an?",
        "Quel type faut-il utiliser pour des données binaires ?",
        "Wie lege ich mit useradd das Home-Verzeichnis des Benutzers an?",
        "¿Cómo busco recursivamente en todos los archivos con grep?",
        "Wer hat die Weltmeisterschaft 2014 gewonnen?",
    ],
)
def test_ordinary_words_in_any_of_the_languages_name_nothing(question):
    assert naming_terms(question) == []


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("How do I keep du from crossing into other file systems?", "en"),
        ("Wie lege ich mit chage die Warnfrist fest?", "de"),
        ("Quelle option de tar permet de compresser l'archive avec gzip ?", "fr"),
        ("¿Cómo busco paquetes con una expresión regular usando apt-cache?", "es"),
        ("Come posso limitare la memoria usata da xz?", "it"),
        ("Quem é o titular dos direitos autorais na Licença Artística?", "pt"),
        ("Hoe kan ik met ssh een andere poort gebruiken?", "nl"),
    ],
)
def test_a_questions_language_is_told_from_its_words(question, language):
    assert language_of(question) == language


def test_the_language_of_every_evaluation_question_is_told_right():
    """The 203 questions of scripts/eval_*.json, in English, German, French, Spanish and
    Portuguese, each labelled with its language by the person who wrote it."""
    questions = [
        question
        for path in Path(__file__).parents[2].glob("scripts/eval_*.json")
        for question in json.loads(path.read_text())["questions"]
    ]
    assert len(questions) == 203
    assert [q["q"] for q in questions if language_of(q["q"]) != q["lang"]] == []


@pytest.mark.parametrize(
    ("question", "documents", "names"),
    [
        # a capitalised word inside a sentence, in the documents' language, is a name...
        ("How do I set up Redis Sentinel?", "en", {"Redis": Kind.NAME, "Sentinel": Kind.NAME}),
        ("Où configurer le Tableau de bord ?", "fr", {"Tableau": Kind.NAME}),
        # ...and a common word of the documents' language in a question in another is borrowed
        ("Wie setze ich bei Anfragen ein Timeout?", "en", {"Timeout": Kind.BORROWED}),
        ("¿Cómo cambio el Home de un usuario?", "en", {"Home": Kind.BORROWED}),
        # a file name with a leading dot is code, and only that part of a hyphenated word
        ("How big can my .env file be?", "en", {".env": Kind.CODE}),
        ("Unterstützt XZ das .7z-Format?", "de", {".7z": Kind.CODE, "XZ": Kind.CODE}),
    ],
)
def test_names_and_borrowed_words_name_something(question, documents, names):
    found = {term.text: term.kind for term in naming_terms(question, documents)}
    assert found == names


@pytest.mark.parametrize(
    ("question", "documents"),
    [
        # the first word of a sentence or a quotation is capitalised whatever it is
        ("Sentinel mode: how is it turned on?", "en"),
        ('My program prints "Segmentation fault". Why?', "en"),
        # a question in title case capitalises every word
        ("How To Reset My Password?", "en"),
        # German capitalises every noun
        ("Wie lege ich das Verzeichnis des Benutzers an?", "de"),
        # a question in another language than the documents translates names
        ("Quem é o titular dos direitos autorais na Licença Artística?", "en"),
        # a word no more common in the documents' language than in the question's
        ("Wie baue ich einen Motor ein?", "en"),
        # without the documents' language, neither is told
        ("How do I set up Redis Sentinel?", None),
    ],
)
def test_capitals_and_shared_words_alone_name_nothing(question, documents):
    assert [t for t in naming_terms(question, documents) if t.kind is not Kind.CODE] == []


def test_near_miss_is_refused_naming_what_no_document_has_with_related_passages(client, bot):
    answered = ask(client, bot, "Does the Alpha 200 blender have a glass jar?").json()
    assert "1.5 litre glass jar" in answered["answer"] and answered["related"] == []

    body = ask(client, bot, NEAR_MISS).json()

    assert body["unanswered"] is True and body["sources"] == []
    assert "BX-900" in body["answer"] and "related" in body["answer"]
    assert body["provider"] == "none"
    assert "Alpha 200 blender" in body["related"][0]["text"]
    assert body["related"][0]["document_id"] == bot["document_id"]


@pytest.mark.parametrize(
    ("question", "absent"),
    [
        ("Does the Alpha 200 blender come with the Vortex lid?", "Vortex"),
        ("Gibt es für den Alpha 200 Mixer einen Voucher?", "Voucher"),
    ],
)
def test_a_name_or_borrowed_word_no_document_has_is_a_near_miss(client, bot, question, absent):
    body = ask(client, bot, question).json()

    assert body["unanswered"] is True and absent in body["answer"]
    assert "Alpha 200 blender" in body["related"][0]["text"]


def test_names_and_borrowed_words_the_documents_have_are_answered(client, bot):
    named = ask(client, bot, "How much does the Alpha 200 weigh?").json()
    assert named["unanswered"] is False and "3.2 kg" in named["answer"]

    borrowed = ask(client, bot, "Wie schnell kommen Refunds zurück?").json()
    assert borrowed["unanswered"] is False and "five business days" in borrowed["answer"]


def test_streamed_near_miss_offers_the_related_passages_first(client, bot):
    response = ask(client, bot, NEAR_MISS, stream=True)

    (name, first), *rest = events(response)
    assert name == "sources" and first["sources"] == []
    assert "Alpha 200 blender" in first["related"][0]["text"]
    assert "BX-900" in "".join(data["text"] for kind, data in rest if kind == "delta")
    assert rest[-1][0] == "done" and rest[-1][1]["unanswered"] is True


def test_retrieval_playground_says_why_a_near_miss_is_refused(tenant, bot):
    body = tenant.post(f"/api/chatbots/{bot['id']}/retrieve", json={"question": NEAR_MISS}).json()

    assert body["refused"] is True and "BX-900" in body["reason"]


def test_another_customers_documents_do_not_count(client, bot, other_tenant):
    theirs = other_tenant.create_chatbot(name="Their shop")
    doc = upload(
        other_tenant, theirs["id"], "jars.md", b"# Jars\n\nThe BX-900 jar fits the Alpha 200."
    ).json()[0]
    assert wait_until_done(other_tenant, doc["id"])["status"] == "ready"
    assert ask(client, theirs, NEAR_MISS).json()["unanswered"] is False

    assert ask(client, bot, NEAR_MISS).json()["unanswered"] is True


def test_a_name_the_question_shares_with_a_kept_passage_counts_like_a_documents_name(
    client, tenant
):
    """A Spanish question about an English FAQ scores just under the threshold (0.85 with e5);
    'liblzma', a name the FAQ has, says the question is about the documents."""
    bot = tenant.create_chatbot(name="Compression help")
    for name, path in FAQS.items():
        doc = upload(tenant, bot["id"], name, shipped_file(path)).json()[0]
        assert wait_until_done(tenant, doc["id"])["status"] == "ready"

    body = ask(client, bot, "¿Cómo consigo que la compilación de liblzma ocupe menos?").json()

    assert body["unanswered"] is False
    assert any("--enable-small" in source["text"] for source in body["sources"])
