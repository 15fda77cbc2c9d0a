"""What to do with an event about a protected person, per protection basis.

The policy can only choose between DROP and REDACT for a protected person:
it can never make one PUBLISH. DROP is the default for every basis because a
redacted placeholder can itself reveal that someone is protected; REDACT is
an explicit, per-basis opt-in in a versioned policy file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


ALLOWED_ACTIONS = frozenset({Decision.DROP, Decision.REDACT})
"""What a policy may choose for a protected person."""

_BASES = frozenset(ProtectionBasis)


@dataclass(frozen=True, slots=True)
class Policy:
    """A versioned action per basis; bases not listed are dropped."""

    version: str
    actions: Mapping[ProtectionBasis, Decision]

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version.strip():
            raise PolicyError("policy version must be a non-empty string")
        actions: dict[ProtectionBasis, Decision] = {}
        for raw_basis, raw_action in self.actions.items():
            if not isinstance(raw_basis, str) or raw_basis not in _BASES:
                raise PolicyError(f"policy {self.version}: unknown protection basis {raw_basis!r}")
            if not isinstance(raw_action, str) or raw_action not in ALLOWED_ACTIONS:
                raise PolicyError(
                    f"policy {self.version}: action {raw_action!r} for {raw_basis} is not "
                    "allowed (only DROP or REDACT)"
                )
            # Plain strings become enum members, so identity checks downstream hold.
            actions[ProtectionBasis(raw_basis)] = Decision(raw_action)
        # A private read-only copy: the caller's mapping changing later must
        # not change decisions already tied to this version.
        object.__setattr__(self, "actions", MappingProxyType(actions))

    def action_for(self, basis: ProtectionBasis) -> Decision:
        return self.actions.get(basis, Decision.DROP)

    def decide(self, matches: Iterable[Match]) -> Decision:
        """PUBLISH without a match; else the most restrictive action over the matched bases."""
        decision = Decision.PUBLISH
        for match in matches:
            if self.action_for(match.basis) is Decision.DROP:
                return Decision.DROP
            decision = Decision.REDACT
        return decision


def default_policy() -> Policy:
    """Drop every event about any protected person."""
    return Policy(DEFAULT_POLICY_VERSION, {})


def load_policy(path: Path | None) -> Policy:
    """The policy in ``path`` (``{"version": ..., "actions": {BASIS: ACTION}}``), or the default.

    Raises:
        PolicyError: one line naming the file and the problem: unreadable,
            not JSON, a duplicate or unknown key, an unknown basis, or an
            action other than DROP or REDACT.
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
    return _policy_from_document(document, path)


def _policy_from_document(document: Any, path: Path) -> Policy:
    if not isinstance(document, dict):
        raise PolicyError(f"policy file {path}: must be a JSON object")
    unknown = sorted(set(document) - {"version", "actions"})
    if unknown:
        raise PolicyError(f"policy file {path}: unknown key {unknown[0]!r}")
    version = document.get("version")
    if not isinstance(version, str) or not version.strip():
        raise PolicyError(f"policy file {path}: \"version\" must be a non-empty string")
    raw_actions = document.get("actions")
    if not isinstance(raw_actions, dict):
        raise PolicyError(f"policy file {path}: \"actions\" must be an object")
    actions: dict[ProtectionBasis, Decision] = {}
    for raw_basis, raw_action in raw_actions.items():
        if raw_basis not in _BASES:
            raise PolicyError(f"policy file {path}: unknown protection basis {raw_basis!r}")
        if not isinstance(raw_action, str) or raw_action not in ALLOWED_ACTIONS:
            raise PolicyError(
                f"policy file {path}: action for {raw_basis} must be \"DROP\" or \"REDACT\""
            )
        actions[ProtectionBasis(raw_basis)] = Decision(raw_action)
    return Policy(version.strip(), actions)


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
