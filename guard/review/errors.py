"""Review failures: one line each, naming positions and reasons, never event data."""

from __future__ import annotations


class ReviewError(Exception):
    """A review command could not do what was asked."""


class NotHeld(ReviewError):
    """A position that is not (or no longer) held: unknown, or already resolved."""

    def __init__(self, position: str) -> None:
        super().__init__(f"{position}: not held (unknown position, or already resolved)")
        self.position = position


class EventUnavailable(ReviewError):
    """A held event whose bytes are no longer anywhere: too large to copy, and past the
    custody topic's retention."""

    def __init__(self, position: str) -> None:
        super().__init__(
            f"{position}: the held event is no longer available (too large to copy into the "
            "review topic, and gone from the custody topic); confirm it to close it"
        )
        self.position = position
