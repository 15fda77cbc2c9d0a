"""Readiness verdicts from the registry reader's state."""

from __future__ import annotations

import pytest

from guard.ops.health import NotReadyReason, assess_readiness


def _assess(**overrides: object) -> tuple[bool, str]:
    state: dict[str, object] = {
        "has_started": True,
        "is_restored": True,
        "is_halted": False,
        "last_caught_up_at": 100.0,
        "now": 105.0,
        "stale_after": 15.0,
    }
    state.update(overrides)
    verdict = assess_readiness(**state)  # type: ignore[arg-type]
    return verdict.is_ready, verdict.reason


def test_ready_when_restored_and_recently_caught_up() -> None:
    assert _assess() == (True, "ok")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"has_started": False}, NotReadyReason.STARTING),
        ({"is_restored": False}, NotReadyReason.REGISTRY_RESTORING),
        ({"is_halted": True}, NotReadyReason.REGISTRY_HALTED),
        ({"is_halted": True, "is_restored": False}, NotReadyReason.REGISTRY_HALTED),
        ({"now": 115.1}, NotReadyReason.REGISTRY_STALE),
        ({"last_caught_up_at": None}, NotReadyReason.REGISTRY_STALE),
        ({"schema_registry_unavailable": True}, NotReadyReason.SCHEMA_REGISTRY_UNAVAILABLE),
        (
            {"schema_registry_unavailable": True, "is_halted": True},
            NotReadyReason.REGISTRY_HALTED,
        ),
    ],
)
def test_not_ready_says_why(overrides: dict[str, object], reason: str) -> None:
    assert _assess(**overrides) == (False, reason)


def test_stale_boundary_is_inclusive_of_the_limit() -> None:
    assert _assess(now=115.0) == (True, "ok")
