"""Which questions borrow the conversation for retrieval (`app.chat.prompt.follows_up`)."""

from __future__ import annotations

import pytest

from app.chat.prompt import Turn, follows_up, retrieval_query


@pytest.mark.parametrize(
    "question",
    [
        "And on Windows?",
        "What about its default?",
        "How much does it weigh?",
        "What does this option do?",
        "Und unter Windows?",
        "Kann man dies abschalten?",
        "Et pour les fichiers ?",
        "¿Y en Windows?",
        "¿Cómo desactivo eso?",
        "The default?",
        "Can I change that size myself?",
        "Wie teste ich den Build danach?",
    ],
)
def test_follow_ups_borrow_the_conversation(question):
    assert follows_up(question)


@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2014 FIFA World Cup?",
        "How do I keep du from crossing into other file systems?",
        "What is the default port of Redis and how do I change it?",
        "Wie ändere ich das Passwort?",
        "Comment compresser un fichier avec xz ?",
        "Redis Sentinel?",
        "Is there a way to limit memory?",
        "Which grep option makes sure that binary files are searched as text?",
    ],
)
def test_questions_that_stand_alone_do_not(question):
    assert not follows_up(question)


def test_only_a_follow_up_is_condensed():
    history = [Turn("Tell me about the Alpha 200 blender", "It blends [1].")]
    words = lambda text: len(text.split())  # noqa: E731 - a token counter for the test
    assert retrieval_query("And the Beta 300?", history, words, 100) == (
        "Tell me about the Alpha 200 blender And the Beta 300?"
    )
    assert retrieval_query("Who makes the Beta 300 toaster?", history, words, 100) == (
        "Who makes the Beta 300 toaster?"
    )
