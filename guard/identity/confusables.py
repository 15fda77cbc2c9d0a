"""Which Latin letter a letter of another script looks like (Unicode UTS #39 data).

A Cyrillic a (U+0430) or a Greek capital omicron (U+039F) typed into a Latin name
looks identical to a reader and to the clerk who typed it, yet is another
character. Unicode's ``confusables.txt`` lists such look-alikes; the
``confusable_homoglyphs`` package ships it as JSON. The table is read once, on
first use, and only letters that are not Latin are mapped: Latin text is
never changed here.

Two adjustments to the raw data, both toward the reading a person sees:

* only look-alikes that are plain ASCII letters count: a Cyrillic ``я``
  resembles a reversed small capital R, which no clerk types for an ``r``;
* confusables.txt maps an upper-case Cyrillic or Greek ``I`` to a lower-case
  ``l`` (its prototype for the I/l family); in a name it reads as ``I``.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import unicodedata


@functools.cache
def _homoglyphs() -> dict[str, list[dict[str, str]]]:
    text = importlib.resources.files("confusable_homoglyphs").joinpath("confusables.json")
    loaded: dict[str, list[dict[str, str]]] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


@functools.lru_cache(maxsize=4096)
def latin_lookalike(char: str) -> str:
    """The ASCII letter ``char`` looks like, or ``char`` itself.

    Only letters of scripts other than Latin are ever replaced, and only by
    a single ASCII letter: anything else would be a guess.
    """
    if not unicodedata.category(char).startswith("L") or char.isascii() or _is_latin(char):
        return char
    candidates = sorted(entry["c"] for entry in _homoglyphs().get(char, ()))
    for candidate in candidates:
        if len(candidate) != 1 or not candidate.isascii() or not candidate.isalpha():
            continue
        if candidate == "l" and char.isupper():
            return "I"
        return candidate.upper() if char.isupper() else candidate.lower()
    return char


def has_lookalike(char: str) -> bool:
    """True when ``char`` is a letter of another script that looks like an ASCII letter."""
    return latin_lookalike(char) != char
