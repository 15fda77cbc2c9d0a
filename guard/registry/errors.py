"""Registry failures. Messages carry record ids and offsets, never identifiers."""


class RegistryError(Exception):
    """Base class for registry failures."""

    @property
    def cause(self) -> str:
        """One short line for ``/readyz``: what stopped the reader (no identifier, ever)."""
        return str(self)


class EntryProtectsNobody(RegistryError):
    """An ACTIVE registry entry from which no key comes out: it would protect nobody."""


class RegistryHalted(RegistryError):
    """The registry reader met a record it cannot apply and stopped.

    Publishing stays stopped until an operator acts: skipping the record
    could skip a protection.
    """

    def __init__(self, partition: int, offset: int, problem: str) -> None:
        super().__init__(
            f"registry record at partition {partition} offset {offset} cannot be applied "
            f"({problem}); publishing is halted until an operator replaces it and lists "
            f"{partition}:{offset} in GUARD_REGISTRY_ACCEPTED_UNDECODABLE"
        )
        self.partition = partition
        self.offset = offset
        self.problem = problem

    @property
    def cause(self) -> str:
        return f"record at partition {self.partition} offset {self.offset}: {self.problem}"


class RegistryUnavailable(RegistryError):
    """The registry topic is missing or has no partitions."""


class RegistryPartitionsChanged(RegistryError):
    """The registry topic's partitions changed while the worker ran.

    The reader knows only the partitions it assigned at start-up; records in
    a new partition would be invisible to it. Publishing halts until the
    worker is restarted and reads them all.
    """

    def __init__(self, known: int, now: int) -> None:
        super().__init__(
            f"registry topic had {known} partitions at start-up and has {now} now; "
            "publishing is halted until the worker is restarted"
        )
        self.known = known
        self.now = now

    @property
    def cause(self) -> str:
        return f"registry partitions changed from {self.known} to {self.now}"


class RegistryReaderFailed(RegistryError):
    """The reader's follow loop failed on something other than a bad record: a bug.

    Carries the exception's type name only (messages can quote data).
    Publishing halts until the worker is restarted.
    """

    def __init__(self, failure: str) -> None:
        super().__init__(
            f"registry reader stopped ({failure}); publishing is halted until the worker "
            "is restarted"
        )
        self.failure = failure

    @property
    def cause(self) -> str:
        return f"registry reader failed: {self.failure}"
