"""Identifier numbers as typed upstream: labels, look-alike letters, spreadsheets, fillers.

One rule governs every choice here: a corrupted number must never silently
become a *different* valid number. So each value is either read the one way
it can be read, found absent (a placeholder), or refused with
:class:`InvalidIdentifier`, which makes the event a REJECT (fail closed).

What is read:

* **labels** typed into the value: ``A#012345678``, ``A-Number: 12345678``,
  ``FBI# 123456AB7``, ``FINS 77-1234``. A label naming another kind wins
  over the field it was typed into (``FBI 12345AB`` in the A-number field is
  an FBI number);
* **letters that look like digits** inside an A-number (``O``/``D`` for 0,
  ``I``/``L`` for 1, ``Z`` 2, ``S`` 5, ``G`` 6, ``T`` 7, ``B`` 8): an
  A-number holds only digits, so these have one reading. A value needs at
  least :data:`MIN_REAL_DIGITS` real digits, or at most
  :data:`MAX_LOOKALIKE_LETTERS` letters, to be read as a number at all
  (someone who types every zero as ``O`` still typed mostly digits);
* **spreadsheet exports**: ``1.2345678E+07`` is 12345678 when every digit
  survived; when the notation may have rounded digits away
  (``1.23457E+07``) the value is refused, since it cannot be told apart
  from another person's number. ``12345678.0`` is a float export of
  12345678 *or* 123456780 typed with a dot: it has both readings, and each
  becomes a key (:attr:`IdentifierReading.canonicals`);
* **placeholders**: ``UNKNOWN``, ``N/A``, ``NONE``, all-zero or one repeated
  digit, ``123456789``: absent, never a key, never a reason to think an
  event checkable.

FBI and FINS numbers may hold letters, so their look-alikes cannot be read
one way. Both sides fold them instead (``O`` and ``0`` become one symbol,
likewise ``I/L/1``, ``Z/2``, ``S/5``, ``B/8``): two spellings of one number
meet, at the price of merging numbers that differ only by a look-alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from guard.identity.errors import InvalidIdentifier
from guard.identity.text import fold_identifier_text

A_NUMBER_MIN_DIGITS = 7
A_NUMBER_MAX_DIGITS = 9
MAX_LOOKALIKE_LETTERS = 2
"""Letters an A-number with few real digits may hold in place of digits."""
MIN_REAL_DIGITS = 5
"""Real digits above which any number of look-alike letters is read as digits."""


class IdentifierKind(StrEnum):
    """The kinds of number a subject can carry; the value is the key prefix."""

    A_NUMBER = "a"
    FBI = "fbi"
    FINS = "fins"

    @property
    def field(self) -> str:
        """The schema field this kind is normally typed into."""
        return {"a": "a_number", "fbi": "fbi_number", "fins": "fins_number"}[self.value]


@dataclass(frozen=True, slots=True)
class IdentifierReading:
    """What one typed value turned out to be: one number, or every number it may be."""

    kind: IdentifierKind
    canonicals: tuple[str, ...]
    """A-number: 9 digits. FBI/FINS: upper-case letters and digits, look-alikes folded.
    More than one when the value can be read more than one way (``12345678.0``)."""

    @property
    def canonical(self) -> str:
        """The first reading: the one a spreadsheet export means."""
        return self.canonicals[0]

    @property
    def is_ambiguous(self) -> bool:
        return len(self.canonicals) > 1

    @property
    def loose_forms(self) -> tuple[str, ...]:
        """Each reading with look-alikes folded and leading zeros dropped, for any kind.

        Used for the weak key that catches a number typed into the wrong
        field: an A-number in the FBI field still meets its registry entry.
        """
        return tuple(_fold_document_characters(c).lstrip("0") or "0" for c in self.canonicals)


_LABELS = {
    "A": IdentifierKind.A_NUMBER,
    "ALIEN": IdentifierKind.A_NUMBER,
    "ANUM": IdentifierKind.A_NUMBER,
    "ANUMBER": IdentifierKind.A_NUMBER,
    "ANO": IdentifierKind.A_NUMBER,
    "FBI": IdentifierKind.FBI,
    "UCN": IdentifierKind.FBI,
    "FINS": IdentifierKind.FINS,
    "FIN": IdentifierKind.FINS,
}
_LABELS_OUTSIDE_A_FIELD = {word: kind for word, kind in _LABELS.items() if word not in {"A", "ANO"}}
_FILLER_WORDS = frozenset(
    {"NO", "NUM", "NUMBER", "NBR", "NR", "ID", "REG", "REGISTRATION", "FILE", "CASE", "NUMERO"}
)
PLACEHOLDER_WORDS = frozenset(
    {
        "UNKNOWN", "UNK", "UNKN", "NONE", "NA", "NULL", "NIL", "N", "X", "XX", "XXX", "TBD",
        "PENDING", "NOTAVAILABLE", "NOTAPPLICABLE", "NOTGIVEN", "NOTKNOWN", "MISSING",
        "BLANK", "EMPTY", "UNAVAILABLE", "DESCONOCIDO", "NINGUNO",
    }
)  # fmt: skip
"""Compacted values (letters and digits only) that mean "no number here"."""

_DIGIT_LOOKALIKES = str.maketrans(
    {"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6",
     "T": "7", "B": "8"}
)  # fmt: skip
_DOCUMENT_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8"})
_PLACEHOLDER_NUMBERS = frozenset({"123456789", "987654321", "0123456789"})

_NOT_ALPHANUMERIC = re.compile(r"[^A-Z0-9]+")
_LEADING_WORD = re.compile(r"[\s#:.\-]*([A-Z]+)[\s#:.\-]*")
_FLOAT_EXPORT = re.compile(r"(\d+)\.0+")
_SCIENTIFIC = re.compile(r"(\d+)(?:\.(\d+))?E\+?(\d+)")
_A_NUMBER_SEPARATORS = re.compile(r"[\s.\-/_,]+")


def read_identifier(value: str | None, field_kind: IdentifierKind) -> IdentifierReading | None:
    """The reading of one typed value, or None when it holds no number.

    Raises:
        InvalidIdentifier: the value holds something that is not a number of
            its kind, or that could be more than one number. The message names
            the field and the problem, never the value.
    """
    if value is None:
        return None
    folded = fold_identifier_text(value).strip()
    if _is_placeholder(folded):
        return None
    label, body = _split_label(folded, field_kind)
    kind = label or field_kind
    if _is_placeholder(body):
        return None
    if kind is IdentifierKind.A_NUMBER:
        canonicals = _a_number_readings(body, field_kind)
    else:
        document = _document_number(body)
        canonicals = (document,) if document is not None else ()
    if not canonicals:
        return None
    return IdentifierReading(kind, canonicals)


def canonical_a_number(value: str | None) -> str | None:
    """The 9-digit A-number in ``value``, or None when it holds none.

    Raises:
        InvalidIdentifier: as :func:`read_identifier`; also when the value is
            labelled as another kind of number.
    """
    reading = read_identifier(value, IdentifierKind.A_NUMBER)
    if reading is None:
        return None
    if reading.kind is not IdentifierKind.A_NUMBER:
        raise InvalidIdentifier("a_number", "holds a number of another kind")
    if reading.is_ambiguous:
        raise InvalidIdentifier("a_number", "can be read as more than one number")
    return reading.canonical


def _is_placeholder(text: str) -> bool:
    compact = _NOT_ALPHANUMERIC.sub("", text)
    return not compact or compact in PLACEHOLDER_WORDS


def _split_label(folded: str, field_kind: IdentifierKind) -> tuple[IdentifierKind | None, str]:
    """A leading label (``A#``, ``FBI NO.``, ``A-Number:``) and the rest of the value.

    Only whole words from the label vocabulary are taken; a word that is a
    label followed by look-alike letters (``AO12345678``: A, then O for 0)
    gives up its label and leaves the letters to the number. A lone ``A`` is
    a label only in the A-number field: FBI and FINS numbers may begin with
    the letter A themselves.
    """
    labels = _LABELS if field_kind is IdentifierKind.A_NUMBER else _LABELS_OUTSIDE_A_FIELD
    kind: IdentifierKind | None = None
    rest = folded
    while True:
        match = _LEADING_WORD.match(rest)
        if match is None:
            return kind, rest
        word = match.group(1)
        is_marked = rest[match.end(1) : match.end(1) + 1] in ("#", ":", "-")
        if word == "A" and field_kind is not IdentifierKind.A_NUMBER and is_marked:
            # "A#", "A:" or "A-" is an A-number label in any field.
            kind = IdentifierKind.A_NUMBER
        elif word in labels and (kind is None or labels[word] is kind):
            kind = labels[word]
        elif word in _FILLER_WORDS:
            pass
        else:
            label = _label_prefix(word, labels)
            if label is None or (kind is not None and labels[label] is not kind):
                return kind, rest
            return labels[label], rest[match.start(1) + len(label) :]
        rest = rest[match.end() :]


def _label_prefix(word: str, labels: dict[str, IdentifierKind]) -> str | None:
    """The label at the start of ``word`` when the rest of it is only digit look-alikes."""
    for label in sorted(labels, key=len, reverse=True):
        tail = word[len(label) :]
        if word.startswith(label) and tail and tail.translate(_DIGIT_LOOKALIKES).isdigit():
            return label
    return None


def _a_number_readings(body: str, field_kind: IdentifierKind) -> tuple[str, ...]:
    """Every 9-digit A-number the body may be; empty when it is a placeholder."""
    field = field_kind.field
    body = body.strip(" #:.-")
    candidates = _spreadsheet_readings(body, field)
    if candidates is None:
        compact = _A_NUMBER_SEPARATORS.sub("", body)
        real_digits = sum(c.isdigit() for c in compact)
        mapped = compact.translate(_DIGIT_LOOKALIKES)
        if not mapped.isdigit():
            raise InvalidIdentifier(field, "holds characters that are not digits")
        lookalikes = len(compact) - real_digits
        if real_digits < MIN_REAL_DIGITS and lookalikes > MAX_LOOKALIKE_LETTERS:
            raise InvalidIdentifier(field, "holds too many letters to be read as digits")
        candidates = (mapped,)
    valid = [c for c in candidates if A_NUMBER_MIN_DIGITS <= len(c) <= A_NUMBER_MAX_DIGITS]
    if not valid:
        raise InvalidIdentifier(
            field, f"digit count outside {A_NUMBER_MIN_DIGITS} to {A_NUMBER_MAX_DIGITS}"
        )
    readings = dict.fromkeys(digits.zfill(A_NUMBER_MAX_DIGITS) for digits in valid)
    return tuple(reading for reading in readings if not _is_placeholder_number(reading))


def _is_placeholder_number(canonical: str) -> bool:
    return len(set(canonical)) == 1 or canonical.lstrip("0") in _PLACEHOLDER_NUMBERS


def _spreadsheet_readings(body: str, field: str) -> tuple[str, ...] | None:
    """The readings of a number a spreadsheet may have written as a float, or None
    when it is not written that way.

    ``12345678.0`` is the float 12345678, but it is also what a clerk who
    groups digits with dots types for 123456780: both are read, and a key
    is made for each. Scientific notation has one reading, or none when
    digits may have been rounded away.
    """
    text = body.strip()
    exported = _FLOAT_EXPORT.fullmatch(text)
    if exported:
        return (exported.group(1), text.replace(".", ""))
    scientific = _SCIENTIFIC.fullmatch(text)
    if scientific is None:
        return None
    whole, fraction, exponent = scientific.group(1), scientific.group(2) or "", scientific.group(3)
    try:
        value = Decimal(f"{whole}.{fraction or '0'}E{exponent}")
    except InvalidOperation:
        raise InvalidIdentifier(field, "is not a readable number") from None
    significant = (whole + fraction).lstrip("0")
    if value != value.to_integral_value() or len(significant) < len(str(int(value))):
        # Fewer digits were written than the number has: some may have been
        # rounded away, and the rest could belong to someone else.
        raise InvalidIdentifier(field, "is in scientific notation that may have lost digits")
    return (str(int(value)),)


def _document_number(body: str) -> str | None:
    compact = "".join(c for c in body if c.isalnum())
    if not compact:
        return None
    folded = _fold_document_characters(compact)
    if len(set(folded)) == 1 and folded[0] in "0123456789":
        return None
    return folded


def _fold_document_characters(text: str) -> str:
    return text.translate(_DOCUMENT_LOOKALIKES)
