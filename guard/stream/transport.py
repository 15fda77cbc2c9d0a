"""A Faust transport whose consumer hands whole fetched batches to the guard.

Faust keeps what it does well: the worker process, consumer-group membership,
the assignor, rebalance callbacks, pausing and seeking. What it does per
message is replaced. Faust's ``Consumer._drain_messages`` awaits a callback
per record through ``Service.wait_first`` (four tasks per message), then the
conductor, then the stream iterator: about 67 µs of machinery per message
(see ``/work/shared/notes/faust.md``). Here the drain loop awaits
``_wait_next_records`` (one fetch, every partition) and passes the record map
with the consumer generation it was fetched under to one handler, doing the
two things Faust's ``getmany`` does around a fetch: nothing is handed over
while flow is stopped (a rebalance is under way), and a fetch that returns
while flow is stopped makes the consumer seek back to the committed offsets.

Also set here, because Faust hard-codes them:

* ``fetch_max_wait_ms``: Faust passes 1500 ms. aiokafka keeps one fetch in
  flight per broker, so a fetch that holds only idle partitions stalls the
  busy ones for that long. The guard uses ``GUARD_BATCH_WITHIN``.

These are private hooks of faust-streaming 0.15 and aiokafka 0.14; the
versions are pinned in pyproject.toml and ``tests/stream/test_faust_hooks.py``
fails loudly if an upgrade moves any of them.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import aiokafka
import faust
from aiokafka.structs import ConsumerRecord
from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from mode import Service, ServiceT

log = logging.getLogger(__name__)

TRANSPORT_SCHEME = "guardkafka"
"""URL scheme of the guard's transport: ``guardkafka://host:port``."""

RecordMap = Mapping[TP, Sequence[ConsumerRecord[bytes, bytes]]]
BatchHandler = Callable[[RecordMap, int], Awaitable[None]]
"""Receives one fetch (partition → records, in offset order) and its consumer generation."""


@dataclass(frozen=True, slots=True)
class ConsumerHooks:
    """What the guard's consumer needs from the application that owns it."""

    handle_batch: BatchHandler
    fetch_max_wait_ms: int


_HOOKS: weakref.WeakKeyDictionary[faust.App, ConsumerHooks] = weakref.WeakKeyDictionary()


def register() -> None:
    """Make ``guardkafka://`` name this transport; call before the app touches its transport."""
    drivers.TRANSPORTS[TRANSPORT_SCHEME] = f"{__name__}:GuardTransport"


def install(app: faust.App, hooks: ConsumerHooks) -> None:
    """Route ``app``'s fetched batches to ``hooks.handle_batch``.

    The app must have been built with ``broker="guardkafka://..."`` after :func:`register`.
    """
    _HOOKS[app] = hooks


def _hooks_of(app: Any) -> ConsumerHooks:
    hooks = _HOOKS.get(app)
    if hooks is None:
        raise RuntimeError("guard transport used by an app without guard hooks installed")
    return hooks


class GuardConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's aiokafka consumer thread with the guard's fetch wait, reading committed
    records only: an event of an upstream transaction that was aborted never happened,
    and must not be decided (Faust reads ``read_uncommitted`` unless it runs its own
    exactly-once mode, which the guard does not use)."""

    def _create_worker_consumer(
        self, transport: faust_aiokafka.Transport
    ) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # Read by AIOKafkaConsumer.start() when it builds its Fetcher.
        consumer._fetch_max_wait_ms = _hooks_of(self.app).fetch_max_wait_ms
        consumer._isolation_level = "read_committed"
        return consumer


class GuardConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer with a drain loop that hands over whole fetches."""

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return GuardConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _drain_messages(self, fetcher: ServiceT) -> None:
        """Fetch, filter to active partitions, hand over; until the consumer or fetcher stops."""
        handle_batch = _hooks_of(self.app).handle_batch
        consumer_should_stop = cast(Service, self)._stopped.is_set
        fetcher_should_stop = cast(Service, fetcher)._stopped.is_set
        while not (consumer_should_stop() or fetcher_should_stop()):
            records, active = await self._wait_next_records(1.0)
            if records is None or self.should_stop:
                continue
            if not self.flow_active:
                # Fetched while a rebalance stopped the flow: what was
                # fetched may predate the new assignment, so rewind.
                await self.perform_seek()
                continue
            generation_id = self.app.consumer_generation_id
            batch = {
                tp: tp_records
                for tp, tp_records in records.items()
                if tp_records and (active is None or tp in active)
            }
            if batch:
                await handle_batch(batch, generation_id)


class GuardTransport(faust_aiokafka.Transport):
    """The aiokafka transport with :class:`GuardConsumer`."""

    Consumer = GuardConsumer
