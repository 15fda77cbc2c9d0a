"""The two readers of untrusted records ask one set of type questions (guard/fieldtypes.py)."""

from __future__ import annotations

import pytest

from guard.codec.errors import JsonInputError
from guard.codec.jsonfields import object_list, required_str, str_list
from guard.decision.errors import InvalidEvent
from guard.decision.fields import optional_records, require_str
from guard.fieldtypes import Problem

WRONG_STRINGS: list[tuple[object, Problem]] = [
    (None, Problem.MISSING), (42, Problem.NOT_STRING), ([], Problem.NOT_STRING)
]  # fmt: skip


@pytest.mark.parametrize(("value", "problem"), WRONG_STRINGS)
def test_both_readers_refuse_the_same_strings_each_in_its_own_words(
    value: object, problem: Problem
) -> None:
    with pytest.raises(InvalidEvent) as decided:
        require_str({"name": value}, "name", "subject.name")
    with pytest.raises(JsonInputError) as typed:
        required_str({"name": value}, "name", "subject", is_blank_ok=True)
    assert problem.value in str(decided.value)
    assert {Problem.MISSING: "is required", Problem.NOT_STRING: "must be a string"}[problem] in (
        str(typed.value)
    )


@pytest.mark.parametrize("value", ["text", 7, {"a": 1}])
def test_both_readers_refuse_the_same_non_lists(value: object) -> None:
    with pytest.raises(InvalidEvent, match="not a list"):
        optional_records({"aliases": value}, "aliases", "subject.aliases")
    with pytest.raises(JsonInputError, match="must be a list"):
        object_list({"aliases": value}, "aliases", "subject")
    with pytest.raises(JsonInputError, match="must be a list"):
        str_list({"a_numbers": value}, "a_numbers", "")


def test_only_the_json_reader_checks_for_lone_surrogates() -> None:
    """A decoded Avro string is always UTF-8; a JSON escape can make one that is not."""
    with pytest.raises(JsonInputError, match="not valid Unicode"):
        required_str({"name": "\ud800"}, "name", "", is_blank_ok=True)
    assert require_str({"name": "\ud800"}, "name", "name") == "\ud800"
