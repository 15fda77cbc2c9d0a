"""Failures of the guard's own Kafka administration (topics), apart from the client's.

Messages are one line and name the topic involved; topic names and broker
answers never carry protected identifiers.
"""

from __future__ import annotations


class TopicSetupError(Exception):
    """A topic specification is invalid or the broker refused to create it."""
