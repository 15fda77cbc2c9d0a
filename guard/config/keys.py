"""The guard's two blinders, built from configuration in one place.

Every command that blinds (the worker, ``guard registry import`` and
``revoke``) must derive the registry key id the same way, or a worker would
refuse the records an import just wrote. That two secrets differ is checked
where they meet, by :class:`guard.decision.engine.DecisionEngine`.
"""

from __future__ import annotations

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
