"""Stream failures. Each one stops the worker rather than acknowledge an event."""


class StreamError(Exception):
    """Base class for failures of the custody stream."""


class OutputFailed(StreamError):
    """A transaction carrying decisions and input offsets could not be committed.

    Nothing of the batch is visible to read_committed readers and its input
    offsets were not committed, so a restarted worker decides it again.
    """


class PartitionFenced(StreamError):
    """Another worker owns the input partition now; this worker's commit for it was refused.

    Nothing of the transaction is visible. Not fatal: the partition's new
    owner decides those events from the offset committed before it.
    """
