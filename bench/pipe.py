"""The baseline: a plain aiokafka consume → produce pipe, no decoding, no transaction.

``python -m bench.pipe BROKERS SOURCE SINK COUNT`` copies the first COUNT
records of SOURCE (every partition, from the beginning) to SINK and exits once
the broker has acknowledged them all. It is what a Python process on this
machine can move through Kafka at best, so the guard's rate divided by this
one says what the guard's own work (Faust, decoding, deciding, the
transaction, two output records per event) costs.
"""

from __future__ import annotations

import asyncio
import sys

from aiokafka import TopicPartition

from bench.kafka import bench_connection
from guard.kafka.clients import new_consumer, new_producer
from guard.topic_metadata import partitions_of


async def pipe(brokers: str, source: str, sink: str, count: int) -> None:
    connection = bench_connection(brokers)
    consumer = new_consumer(
        connection,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    # acks=all and the same linger as the guard's output producer.
    producer = new_producer(connection, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        partitions = await partitions_of(connection, source)
        consumer.assign([TopicPartition(source, p) for p in sorted(partitions)])
        copied = 0
        pending = []
        while copied < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=5_000)
            for records in batches.values():
                for record in records:
                    pending.append(await producer.send(sink, record.value, key=record.key))
                    copied += 1
            if len(pending) >= 5_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
        await consumer.stop()


def main(argv: list[str]) -> int:
    brokers, source, sink, count = argv
    asyncio.run(pipe(brokers, source, sink, int(count)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
