"""The caps that bound what deciding on one identity can cost.

Every decision must finish in bounded time and produce output records of
bounded size, whatever an upstream system sends: an event with hundreds of
name words once made an audit record larger than the producer accepts, so
the transaction failed, the worker restarted and failed again on the same
batch for ever. Above any cap an event is refused (REJECT
``identity_too_large``) and a registry entry is refused at import, each
with a message naming the cap. The caps sit far above any real person.
"""

from __future__ import annotations

MAX_FIELD_CHARS = 256
"""Characters in one identifier or name field."""
MAX_WORDS_PER_NAME = 10
"""Words in one name: given, middle and family together."""
MAX_NAMES = 16
"""Names of one identity: the primary name plus aliases."""
MAX_IDENTIFIERS = 16
"""Numbers of one kind (A, FBI, FINS) on one identity."""
MAX_KEYS = 1_000
"""Keys, strong and weak, one identity may produce (about 40 for a typical subject)."""
