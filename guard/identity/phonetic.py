"""Sound-alike codes for name tokens: the recall behind the weak phonetic keys.

Transliterations of one name differ mostly in vowels and in how a sound is
spelled (``Mohammed``/``Muhammad``/``Mohamed``, ``Hussein``/``Husain``,
``Youssef``/``Yusuf``, an Arabic-script ``محمد`` transliterated as ``mhmd``).
Metaphone (``jellyfish``, a Rust implementation) keeps the consonant skeleton
of a word as it sounds in English and drops the vowels after the first
letter. The first letter's vowel is kept by Metaphone; here every leading
vowel is written ``A``, so ``Oleksandr`` meets ``Aleksandr`` and ``Omar``
meets ``Umar``. A ``y`` after the first letter is read as the vowel ``i``
(Metaphone keeps a ``y`` before a vowel as a consonant), so ``Tatyana`` meets
``Tatiana`` and ``Zenobya`` meets ``Zenobia``; a doubled ``i`` that leaves
(``Anastasiya``, ``Mariya``) is read as one, since Metaphone hears ``sia`` as
``x`` but ``siia`` as ``s``. A code of one letter says too little to be a key.
"""

from __future__ import annotations

import re

import jellyfish

_VOWELS = frozenset("AEIOU")
MIN_CODE_LENGTH = 2
_DOUBLED_I = re.compile("i{2,}")


def phonetic_code(token: str) -> str | None:
    """The token's code, or None when it is too short to carry any evidence."""
    spelled = token[:1] + _DOUBLED_I.sub("i", token[1:].replace("y", "i"))
    code = jellyfish.metaphone(spelled)
    if code[:1] in _VOWELS:
        code = "A" + code[1:]
    return code if len(code) >= MIN_CODE_LENGTH else None
