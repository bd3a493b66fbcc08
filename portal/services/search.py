"""What a search text means: folded words, the usual synonyms, and the SQL that matches them.

The catalogue keeps a folded copy of each workshop's and course's words (``search_text``,
see ``portal.folding``); a query is folded the same way, so case, accents and hyphens never
matter ("EMAIL", "e-mail" and "Email" are one word). Each word typed must match (small words
like "une" or "pour" are left out), by the start of a word of the text ("ordi" finds
"ordinateur", "démarches" finds "démarche"), or through one of its synonyms ("courriel" finds
"e-mail"), or through a theme whose name has it. Everything runs in the database query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import force_locale
from sqlalchemy import ColumnElement, or_

from portal import i18n
from portal.folding import fold
from portal.models.vocab import Theme

#: words found together: typing any of them finds the others. Each is folded; a word of three
#: letters or fewer only matches as a whole word ("caf" is not the start of "café"); longer
#: ones match the start of a word ("administrati" finds "administratif", "administration").
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("email", "mail", "courriel", "messagerie", "gmail", "outlook", "boite mail"),
    ("demarche", "administrati", "formalite", "papiers", "caf", "impot", "ants", "ameli",
     "cpam", "prefecture", "carte grise", "passeport", "carte d identite", "franceconnect",
     "france connect", "procedure"),
    ("ordinateur", "pc", "computer", "clavier", "souris"),
    ("smartphone", "telephone", "portable", "mobile", "phone", "android", "iphone"),
    ("tablette", "tablet", "ipad"),
    ("internet", "web", "navigateur", "navigation", "site internet", "recherche en ligne"),
    ("emploi", "travail", "job", "cv", "candidature", "france travail", "pole emploi",
     "recrutement"),
    ("visio", "visioconference", "video", "whatsapp", "zoom", "teams", "skype"),
    ("photo", "image", "album"),
    ("banque", "bancaire", "paiement", "payer", "achat", "acheter"),
    ("sante", "doctolib", "medecin", "ameli", "mutuelle"),
    ("securite", "arnaque", "piratage", "virus", "mot de passe", "phishing", "hameconnage"),
    ("fablab", "fab lab", "imprimante 3d", "impression 3d", "broderie", "badge",
     "sublimation", "realite virtuelle"),
    ("intelligence artificielle", "ia", "ai", "chatgpt"),
    ("reseaux sociaux", "facebook", "instagram", "tiktok", "social"),
    ("traitement de texte", "bureautique", "word", "excel", "tableur", "libreoffice"),
)

#: words that say nothing about a workshop (French and English), left out of a search.
STOP_WORDS = frozenset((
    "a", "au", "aux", "avec", "c", "ce", "ces", "comment", "d", "de", "des", "du", "en", "et",
    "faire", "j", "je", "l", "la", "le", "les", "m", "ma", "me", "mes", "mon", "ou", "par",
    "pour", "qu", "que", "qui", "s", "sa", "se", "ses", "son", "sur", "t", "ta", "te", "tes",
    "ton", "un", "une", "vos", "votre", "y",
    "an", "and", "the", "of", "to", "for", "my", "how", "with", "on", "in", "at", "is",
))

#: the shortest term matched from the start of a word; shorter ones match whole words.
MIN_PREFIX = 4


@dataclass(frozen=True)
class Word:
    """One word of a query: the LIKE patterns that find it, and the themes named by it."""

    typed: str
    patterns: tuple[str, ...]
    themes: tuple[Theme, ...]


def words_of(text: str) -> list[Word]:
    """The words of a query worth searching, each with its synonyms and themes."""
    words = []
    for token in dict.fromkeys(fold(text).split()):  # each word once, in order
        if token in STOP_WORDS:
            continue
        stem = _singular(token)
        group = _synonyms(stem)
        # What was typed matches the start of a word, however short (the search runs as the
        # person types); a synonym follows its own rule.
        own = () if stem in group else (f"% {stem}%",)
        patterns = (*own, *(_pattern(term) for term in group))
        words.append(Word(token, patterns, _themes_for((stem, *group))))
    return words


def matching(word: Word, *columns: ColumnElement[str],
             themed: ColumnElement[bool] | None = None) -> ColumnElement[bool]:
    """SQL: one of ``columns`` (folded search texts) has the word or one of its synonyms,
    or ``themed`` (the condition for the word's themes) holds."""
    matches = [column.like(pattern) for column in columns for pattern in word.patterns]
    if themed is not None:
        matches.append(themed)
    return or_(*matches)


def _singular(token: str) -> str:
    """"démarches" is searched as "demarche", "emails" as "email" (long words only)."""
    if len(token) > MIN_PREFIX and token[-1] in "sx":
        return token[:-1]
    return token


def _synonyms(stem: str) -> tuple[str, ...]:
    terms: list[str] = []
    for group in SYNONYMS:
        if any(_names(term, stem) for term in group):
            terms.extend(term for term in group if term not in terms)
    return tuple(terms)


def _names(term: str, word: str) -> bool:
    """``word`` is ``term``, or starts with it when the term is long enough to be a stem."""
    return word == term or (len(term) >= MIN_PREFIX and word.startswith(term))


def _pattern(term: str) -> str:
    """A LIKE pattern for a folded term (letters, digits and spaces only: no wildcard)."""
    return f"% {term}%" if len(term) >= MIN_PREFIX else f"% {term} %"


#: the words of the themes, with the catalogues they were read from (see _theme_words).
_theme_words_read: list[tuple[tuple[object, ...], dict[Theme, set[str]]]] = []


def _theme_words() -> dict[Theme, set[str]]:
    """The folded words of each theme's name, in French and in English: read once per pair of
    catalogues (a search asks for them for every word; they change only with the catalogues)."""
    catalogues = []
    for language in ("fr", "en"):
        with force_locale(language):
            catalogues.append(i18n.translations())
    if _theme_words_read and all(
            a is b for a, b in zip(_theme_words_read[0][0], catalogues, strict=True)):
        return _theme_words_read[0][1]
    words: dict[Theme, set[str]] = {theme: set() for theme in Theme}
    for language in ("fr", "en"):
        with force_locale(language):
            for theme in Theme:
                words[theme].update(fold(str(theme.label)).split())
    _theme_words_read[:] = [(tuple(catalogues), words)]
    return words


def _themes_for(terms: Iterable[str]) -> tuple[Theme, ...]:
    single = [term for term in terms if " " not in term]
    return tuple(theme for theme, words in _theme_words().items()
                 if any(_names(term, word) for word in words for term in single))
