"""What to do with an event about a protected person, per protection basis.

The policy can only choose between DROP and REDACT for a protected person:
it can never make one PUBLISH. DROP is the default for every basis because a
redacted placeholder can itself reveal that someone is protected; REDACT is
an explicit, per-basis opt-in in a versioned policy file.

An event that meets a protected person on weak keys only (a sound-alike
name, a name without a date...) is HELD for a reviewer by default. A policy
may turn HOLD into DROP, for operators who have no reviewers; it can never
turn it into anything that publishes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from guard.policy.errors import PolicyError
from guard.registry.model import Match, ProtectionBasis

DEFAULT_POLICY_VERSION = "default-drop-all"


class Decision(StrEnum):
    """The outcome for one event (same symbols as the audit schema's ``Decision``)."""

    PUBLISH = "PUBLISH"
    DROP = "DROP"
    REDACT = "REDACT"
    REJECT = "REJECT"
    HOLD = "HOLD"


ALLOWED_ACTIONS = frozenset({Decision.DROP, Decision.REDACT})
"""What a policy may choose for a protected person."""
ALLOWED_WEAK_MATCH_ACTIONS = frozenset({Decision.HOLD, Decision.DROP})
"""What a policy may choose for an event that meets a protected person on weak keys only."""

_BASES = frozenset(ProtectionBasis)
_DOCUMENT_KEYS = frozenset({"version", "actions", "weak_match"})


@dataclass(frozen=True, slots=True)
class Policy:
    """A versioned action per basis (bases not listed are dropped) and one for weak matches.

    Raises:
        PolicyError: the version is empty, a basis unknown, or an action not allowed.
    """

    version: str
    actions: Mapping[ProtectionBasis, Decision]
    weak_match: Decision = field(default=Decision.HOLD)

    def __post_init__(self) -> None:
        version = _valid_version(self.version, "policy")
        object.__setattr__(self, "version", version)
        where = f"policy {version}"
        # A private read-only copy of enum members: the caller's mapping
        # changing later must not change decisions already tied to this version.
        object.__setattr__(self, "actions", MappingProxyType(_valid_actions(self.actions, where)))
        object.__setattr__(self, "weak_match", _valid_weak_match(self.weak_match, where))

    def action_for(self, basis: ProtectionBasis) -> Decision:
        return self.actions.get(basis, Decision.DROP)

    def decide(self, matches: Iterable[Match]) -> Decision:
        """The decision for an event with these matches.

        No match: PUBLISH. Weak matches only: the policy's weak-match action
        (HOLD or DROP). A strong match: the most restrictive action over
        every matched basis, weak matches included (the same person may be
        registered twice, once on a basis that forbids even a redacted notice).
        """
        matches = tuple(matches)
        if not matches:
            return Decision.PUBLISH
        if not any(match.is_strong for match in matches):
            return self.weak_match
        if any(self.action_for(match.basis) is Decision.DROP for match in matches):
            return Decision.DROP
        return Decision.REDACT


def default_policy() -> Policy:
    """Drop every event about any protected person; hold weak matches for review."""
    return Policy(DEFAULT_POLICY_VERSION, {})


def load_policy(path: Path | None) -> Policy:
    """The policy in ``path``, or the default.

    The file is ``{"version": ..., "actions": {BASIS: ACTION}, "weak_match": ACTION}``;
    ``weak_match`` is optional (HOLD).

    Raises:
        PolicyError: one line naming the file and the problem: unreadable,
            not JSON, a duplicate or unknown key, an unknown basis, or an
            action that is not allowed.
    """
    if path is None:
        return default_policy()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(f"policy file {path}: cannot read it ({type(error).__name__})") from None
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as error:
        raise PolicyError(
            f"policy file {path}: not valid JSON ({error.msg} at line {error.lineno} "
            f"column {error.colno})"
        ) from None
    except _DuplicateKey as duplicate:
        raise PolicyError(f"policy file {path}: key {duplicate.key!r} appears twice") from None
    return _policy_from_document(document, f"policy file {path}")


def _policy_from_document(document: Any, where: str) -> Policy:
    if not isinstance(document, dict):
        raise PolicyError(f"{where}: must be a JSON object")
    unknown = sorted(set(document) - _DOCUMENT_KEYS)
    if unknown:
        raise PolicyError(f"{where}: unknown key {unknown[0]!r}")
    version = _valid_version(document.get("version"), where)
    raw_actions = document.get("actions")
    if not isinstance(raw_actions, dict):
        raise PolicyError(f'{where}: "actions" must be an object')
    return Policy(
        version,
        _valid_actions(raw_actions, where),
        _valid_weak_match(document.get("weak_match", Decision.HOLD), where),
    )


def _valid_version(version: object, where: str) -> str:
    if not isinstance(version, str) or not version.strip():
        raise PolicyError(f'{where}: "version" must be a non-empty string')
    return version.strip()


def _valid_actions(raw: Mapping[Any, Any], where: str) -> dict[ProtectionBasis, Decision]:
    """The one validation of a basis → action mapping, for files and for code alike."""
    actions: dict[ProtectionBasis, Decision] = {}
    for raw_basis, raw_action in raw.items():
        if not isinstance(raw_basis, str) or raw_basis not in _BASES:
            raise PolicyError(f"{where}: unknown protection basis {raw_basis!r}")
        if not isinstance(raw_action, str) or raw_action not in ALLOWED_ACTIONS:
            raise PolicyError(f'{where}: action for {raw_basis} must be "DROP" or "REDACT"')
        actions[ProtectionBasis(raw_basis)] = Decision(raw_action)
    return actions


def _valid_weak_match(raw: object, where: str) -> Decision:
    if not isinstance(raw, str) or raw not in ALLOWED_WEAK_MATCH_ACTIONS:
        raise PolicyError(f'{where}: "weak_match" must be "HOLD" or "DROP"')
    return Decision(raw)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A repeated key would let the later one win silently; refuse it instead."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result
