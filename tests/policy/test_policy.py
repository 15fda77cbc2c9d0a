"""Policy loading (one clear line per mistake) and the most-restrictive decision rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guard.policy.errors import PolicyError
from guard.policy.model import (
    DEFAULT_POLICY_VERSION,
    Decision,
    Policy,
    default_policy,
    load_policy,
)
from guard.registry.model import Match, ProtectionBasis


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(text, encoding="utf-8")
    return path


def match(basis: ProtectionBasis, record_id: str = "r1") -> Match:
    return Match(record_id, basis)


def test_no_path_gives_the_drop_all_default() -> None:
    policy = load_policy(None)
    assert policy.version == DEFAULT_POLICY_VERSION == "default-drop-all"
    for basis in ProtectionBasis:
        assert policy.action_for(basis) is Decision.DROP
        assert policy.decide([match(basis)]) is Decision.DROP


def test_policy_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, '{"version": "2026-11-01", "actions": {"U_VISA": "REDACT"}}')
    policy = load_policy(path)
    assert policy.version == "2026-11-01"
    assert policy.action_for(ProtectionBasis.U_VISA) is Decision.REDACT
    assert policy.action_for(ProtectionBasis.T_VISA) is Decision.DROP


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"actions": {}}', '"version"'),
        ('{"version": "", "actions": {}}', '"version"'),
        ('{"version": 3, "actions": {}}', '"version"'),
        ('{"version": "v"}', '"actions"'),
        ('{"version": "v", "actions": []}', '"actions"'),
        ('{"version": "v", "actions": {}, "default": "REDACT"}', "unknown key 'default'"),
        ('{"version": "v", "actions": {"H1B": "DROP"}}', "unknown protection basis 'H1B'"),
        ('{"version": "v", "actions": {"U_VISA": "PUBLISH"}}', "must be \"DROP\" or \"REDACT\""),
        ('{"version": "v", "actions": {"U_VISA": "REJECT"}}', "must be \"DROP\" or \"REDACT\""),
        ('{"version": "v", "actions": {"U_VISA": "redact"}}', "must be \"DROP\" or \"REDACT\""),
        ('{"version": "v", "actions": {"U_VISA": null}}', "must be \"DROP\" or \"REDACT\""),
        ('{"version": "v", "actions": {"U_VISA": "DROP", "U_VISA": "REDACT"}}', "appears twice"),
    ],
)
def test_bad_policy_file_gives_one_clear_line(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    message = str(raised.value)
    assert problem in message
    assert str(path) in message
    assert "\n" not in message
    assert raised.value.__cause__ is None


def test_unreadable_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.json")


def test_policy_cannot_be_built_to_publish_a_protected_person() -> None:
    with pytest.raises(PolicyError):
        Policy("v", {ProtectionBasis.U_VISA: Decision.PUBLISH})
    with pytest.raises(PolicyError):
        Policy("v", {"NOT_A_BASIS": Decision.DROP})  # type: ignore[dict-item]
    with pytest.raises(PolicyError):
        Policy(" ", {})


def test_plain_strings_become_enum_members() -> None:
    policy = Policy("v", {"U_VISA": "DROP"})  # type: ignore[dict-item]
    assert policy.action_for(ProtectionBasis.U_VISA) is Decision.DROP
    assert policy.decide([match(ProtectionBasis.U_VISA)]) is Decision.DROP


def test_policy_keeps_its_own_copy_of_the_actions() -> None:
    actions = {ProtectionBasis.U_VISA: Decision.REDACT}
    policy = Policy("v", actions)
    actions[ProtectionBasis.U_VISA] = Decision.DROP
    assert policy.action_for(ProtectionBasis.U_VISA) is Decision.REDACT


REDACT_U = Policy("v", {ProtectionBasis.U_VISA: Decision.REDACT,
                        ProtectionBasis.T_VISA: Decision.REDACT,
                        ProtectionBasis.OTHER_1367: Decision.DROP})


@pytest.mark.parametrize(
    ("bases", "decision"),
    [
        ((), Decision.PUBLISH),
        ((ProtectionBasis.U_VISA,), Decision.REDACT),
        ((ProtectionBasis.U_VISA, ProtectionBasis.T_VISA), Decision.REDACT),
        ((ProtectionBasis.OTHER_1367,), Decision.DROP),
        ((ProtectionBasis.U_VISA, ProtectionBasis.OTHER_1367), Decision.DROP),
        ((ProtectionBasis.OTHER_1367, ProtectionBasis.U_VISA), Decision.DROP),
        ((ProtectionBasis.VAWA_SELF_PETITION,), Decision.DROP),  # not listed
        ((ProtectionBasis.U_VISA, ProtectionBasis.BATTERED_SPOUSE_OR_CHILD), Decision.DROP),
    ],
)
def test_most_restrictive_action_wins(
    bases: tuple[ProtectionBasis, ...], decision: Decision
) -> None:
    matches = [match(basis, f"r{n}") for n, basis in enumerate(bases)]
    assert REDACT_U.decide(matches) is decision


def test_default_policy_publishes_only_without_a_match() -> None:
    assert default_policy().decide([]) is Decision.PUBLISH
    assert default_policy().decide(iter([match(ProtectionBasis.T_VISA)])) is Decision.DROP


def test_written_default_round_trips(tmp_path: Path) -> None:
    document = {"version": "2026-11-01", "actions": {b.value: "REDACT" for b in ProtectionBasis}}
    policy = load_policy(write(tmp_path, json.dumps(document)))
    assert all(policy.action_for(b) is Decision.REDACT for b in ProtectionBasis)
