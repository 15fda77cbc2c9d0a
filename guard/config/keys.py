"""The guard's two blinders, built from configuration in one place.

Every command that blinds (the worker, ``guard registry import`` and
``revoke``) must derive the registry key id the same way, or a worker would
refuse the records an import just wrote. That two secrets differ is checked
where they meet, by :class:`guard.decision.engine.DecisionEngine`.
"""

from __future__ import annotations

from dataclasses import dataclass

from guard.config.errors import ConfigError
from guard.config.settings import GuardConfig
from guard.identity.blind import Blinder, load_secret, qualified_key_id


def registry_blinder(config: GuardConfig) -> Blinder:
    """Blinds identifier keys for the registry and the audit topic."""
    secret = load_secret(config.blinding_key, config.blinding_key_file, what="GUARD_BLINDING_KEY")
    return Blinder(secret, qualified_key_id(config.blinding_key_id, secret))


def subject_ref_blinder(config: GuardConfig) -> Blinder:
    """Makes the public, unlinkable subject reference."""
    secret = load_secret(
        config.subject_ref_key, config.subject_ref_key_file, what="GUARD_SUBJECT_REF_KEY"
    )
    return Blinder(secret, "subject-ref")


# --- blinding-key rotation (issue 9) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class RegistryKeys:
    """The registry blinding key, and during a rotation the key being retired.

    Imports and references use ``current``; the worker accepts registry
    records under either key id and, while any record under ``previous``
    is active, matches every event under both (docs/DESIGN.md §1.12).
    """

    current: Blinder
    previous: Blinder | None = None

    @property
    def previous_key_id(self) -> str | None:
        return self.previous.key_id if self.previous is not None else None

    def __repr__(self) -> str:
        return f"RegistryKeys(current={self.current!r}, previous={self.previous!r})"


def registry_keys(config: GuardConfig) -> RegistryKeys:
    """The current blinder and, when ``GUARD_BLINDING_KEY_PREVIOUS*`` is set, the previous one.

    Raises:
        ConfigError / KeyMaterialError: the previous key without its id (or the
            reverse), an id equal to the current one, or the same secret twice.
    """
    current = registry_blinder(config)
    has_secret = config.previous_blinding_key is not None or (
        config.previous_blinding_key_file is not None
    )
    label = config.previous_blinding_key_id
    if not has_secret and label is None:
        return RegistryKeys(current)
    if not has_secret or label is None:
        raise ConfigError(
            "GUARD_BLINDING_KEY_PREVIOUS_ID and GUARD_BLINDING_KEY_PREVIOUS(_FILE): "
            "give both, or neither"
        )
    if label == config.blinding_key_id:
        raise ConfigError(
            f"GUARD_BLINDING_KEY_PREVIOUS_ID ({label}): must differ from GUARD_BLINDING_KEY_ID"
        )
    secret = load_secret(
        config.previous_blinding_key,
        config.previous_blinding_key_file,
        what="GUARD_BLINDING_KEY_PREVIOUS",
    )
    previous = Blinder(secret, qualified_key_id(label, secret))
    if previous.shares_secret_with(current):
        raise ConfigError("GUARD_BLINDING_KEY_PREVIOUS: the same secret as GUARD_BLINDING_KEY")
    return RegistryKeys(current, previous)
