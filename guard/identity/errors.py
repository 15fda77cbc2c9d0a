"""Failures of identity handling.

Every message names the field (or key material) and the kind of problem,
never the value: the values are plaintext identifiers of people who may be
protected, and secrets.
"""

from __future__ import annotations


class IdentityError(Exception):
    """Base class for identity failures."""


class InvalidIdentifier(IdentityError):
    """An identifier is present but cannot be normalized.

    It cannot be checked against the registry either, so the event that
    carries it must not be published (fail closed).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"invalid {field}: {problem}")
        self.field = field
        self.problem = problem


class KeyMaterialError(IdentityError):
    """A blinding secret is missing, unreadable, undecodable or too weak."""

    def __init__(self, what: str, problem: str) -> None:
        super().__init__(f"{what}: {problem}")
        self.what = what
        self.problem = problem


class IdentityTooLarge(IdentityError):
    """An identity holds more than the guard bounds the cost of deciding on.

    Caps on fields, names, aliases and keys keep every decision and every
    output record bounded in time and size; above them the event is refused
    with a clear reason instead of costing unbounded work (or an output
    record too large for the broker).
    """

    def __init__(self, what: str, problem: str) -> None:
        super().__init__(f"{what}: {problem}")
        self.what = what
        self.problem = problem
