"""Failures of reading a custody event. Messages name the field, never its value."""

from __future__ import annotations


class DecisionError(Exception):
    """Base class for failures while deciding on one event."""


class InvalidEvent(DecisionError):
    """A field of the event is missing or of the wrong kind.

    Such an event cannot be checked or projected safely, so it is rejected.
    ``field`` is a path from the schema (``subject.aliases[2].given_name``) and
    ``problem`` a fixed phrase; neither ever holds event data.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"invalid event field {field}: {problem}")
        self.field = field
        self.problem = problem
