"""Words that say how a question is asked, not what it is about, in the languages our customers
write most (English, French, German, Spanish, Italian, Portuguese, Dutch).

Weighting question terms by their rarity in the retrieved passages does not tell these apart:
documents seldom say "what" or "quelle", so by rarity alone those would weigh most. The lists
are short on purpose (articles, pronouns, prepositions, auxiliaries, question words): general
stopword lists also drop "show", "keep" or "name", which questions are about. Matching is on
lower-case words without accents.
"""

from __future__ import annotations

import unicodedata

FUNCTION_WORDS = frozenset(
    """
    a an the this that these those it its is are was were be been being am do does did done
    have has had can could will would shall should may might must of in on at to for from by
    with without about into onto over under as than then so if or and but not no i me my we us
    our you your he him his she her they them their there here what which who whom whose when
    where why how any some all each every much many more most such also only just very one
    le la les l un une des du de d au aux ce cet cette ces il elle ils elles on je tu nous vous
    me te se lui leur leurs mon ma mes ton ta tes son sa ses notre votre est sont etre ai as
    avez ont fait faire peut peuvent dois doit que qu qui quoi quel quelle quels quelles lequel
    laquelle comment pourquoi quand ou dans sur sous pour par avec sans en et ni mais ne pas plus
    y a t il est-ce
    der die das dem den des ein eine einer eines einem einen er sie es wir ihr ich du man sein
    seine ihre ist sind war waren bin bist wird werden wurde hat haben hatte kann konnen muss
    soll welche welcher welches welchen welchem was wer wen wem wessen wie wo wann warum woher
    wohin im in an am auf aus bei mit nach von vom zu zum zur fur uber unter um und oder aber
    nicht kein keine es gibt
    el los las lo un una unos unas es son ser esta estan fue que cual cuales quien quienes como
    donde cuando por para con sin sobre del al y o pero no se su sus mi mis tu hay puede
    il lo gli i uno una di da del della dei delle nel nella con per tra fra che chi cosa quale
    quali come dove quando perche e sono essere ha hanno puo non
    o os as um uma uns umas do da dos das no na nos nas em com por para que qual quais quem
    como onde quando porque e sao ser tem pode nao
    de het een en van in op te voor met is zijn was waren wat welke wie hoe waar wanneer waarom
    dat dit die er niet geen kan moet
    """.split()
)


def folded(text: str) -> str:
    """Lower case without accents, so "entrée" and "entree", "Löschen" and "loschen" meet."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare)  # Hangul syllables decompose into letters


def is_function_word(word: str) -> bool:
    return folded(word) in FUNCTION_WORDS
