"""Keyed references that stand in for upstream text in restricted outputs.

An upstream ``event_id`` is free text chosen by another system; some embed
an A-number or a name. Audit records, held events and log lines therefore
carry the HMAC of the id under the registry blinding key (with its own
prefix, so it never equals an identifier's digest), never the id itself.
``guard ref event ID`` computes it for an operator tracing one event.
"""

from __future__ import annotations

from guard.identity.blind import Blinder

EVENT_REFERENCE_PREFIX = "event:"


def event_reference(blinder: Blinder, event_id: str) -> str:
    """Hex HMAC of ``event:<event_id>`` under the registry blinding key."""
    return blinder.blind(EVENT_REFERENCE_PREFIX + event_id).hex()
