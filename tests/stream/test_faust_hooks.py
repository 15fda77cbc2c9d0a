"""Every private hook of faust-streaming and aiokafka the guard relies on, checked by name.

The batch handoff (guard/stream/transport.py) replaces private methods and
sets a private attribute. An upgrade that renames or reshapes any of them
must fail here, loudly, rather than quietly fall back to Faust's own
per-message path or to its 1.5 s fetch wait.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import aiokafka
import faust
import pytest
from faust.transport import consumer as faust_consumer
from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka

from guard.stream.transport import (
    TRANSPORT_SCHEME,
    GuardConsumer,
    GuardConsumerThread,
    GuardTransport,
    register,
)


def test_the_pinned_minor_versions_are_installed() -> None:
    assert version("faust-streaming").startswith("0.15.")
    assert version("aiokafka").startswith("0.14.")


def test_faust_consumer_has_the_methods_the_drain_loop_overrides_and_calls() -> None:
    base = faust_consumer.Consumer
    for name in (
        "_drain_messages",
        "_wait_next_records",
        "perform_seek",
        "seek_to_committed",
        "seek_wait",
        "earliest_offsets",
    ):
        assert inspect.iscoroutinefunction(getattr(base, name)), name
    assert list(inspect.signature(base._wait_next_records).parameters) == ["self", "timeout"]
    assert list(inspect.signature(base._drain_messages).parameters) == ["self", "fetcher"]
    assert base.flow_active is True  # class default, toggled by stop_flow/resume_flow
    assert "consumer._drain_messages(self)" in inspect.getsource(faust_consumer.Fetcher)


def test_the_aiokafka_driver_classes_are_where_the_transport_extends_them() -> None:
    assert issubclass(GuardConsumer, faust_aiokafka.Consumer)
    assert issubclass(GuardConsumerThread, faust_aiokafka.AIOKafkaConsumerThread)
    assert issubclass(GuardTransport, faust_aiokafka.Transport)
    thread_factory = inspect.getsource(faust_aiokafka.Consumer._new_consumer_thread)
    assert "AIOKafkaConsumerThread(self, loop=self.loop, beacon=self.beacon)" in thread_factory
    worker_consumer = inspect.getsource(
        faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer
    )
    assert "return aiokafka.AIOKafkaConsumer(" in worker_consumer
    assert "fetch_max_wait_ms=1500" in worker_consumer  # what the transport overrides


async def test_aiokafka_reads_the_fetch_wait_and_isolation_attributes_when_it_starts() -> None:
    consumer = aiokafka.AIOKafkaConsumer(
        fetch_max_wait_ms=123, isolation_level="read_committed"
    )
    assert consumer._fetch_max_wait_ms == 123
    assert consumer._isolation_level == "read_committed"
    start = inspect.getsource(aiokafka.AIOKafkaConsumer.start)
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in start
    assert "isolation_level=self._isolation_level" in start


def test_the_rebalance_listener_sets_the_generation_before_faust_hears_of_the_assignment() -> None:
    source = inspect.getsource(faust_aiokafka.ConsumerRebalanceListener.on_partitions_assigned)
    assert source.index("consumer_generation_id = generation") < source.index(
        "on_partitions_assigned(ensure_TPset(assigned), generation)"
    )
    assert "consumer_generation_id" in faust.App.__dict__ or hasattr(
        faust.App("hooks-check"), "consumer_generation_id"
    )


def test_the_guard_scheme_names_the_guard_transport() -> None:
    register()
    assert drivers.by_url(f"{TRANSPORT_SCHEME}://127.0.0.1:9092") is GuardTransport
    assert GuardTransport.Consumer is GuardConsumer


@pytest.mark.parametrize("setting", ["topic_disable_leader", "topic_allow_declare"])
def test_faust_still_has_the_settings_the_app_uses(setting: str) -> None:
    assert hasattr(faust.App("hooks-check").conf, setting)
