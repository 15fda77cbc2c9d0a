"""Kafka connections: the one place that turns configuration into client options.

Every Kafka client of the project (worker, registry reader, transactional
producers, every CLI command, the review commands, the dev-broker tooling and
the benchmark harness) is made by :mod:`guard.kafka.clients` from a
:class:`~guard.kafka.connection.KafkaConnection`, so one set of security
settings reaches all of them; ``tests/kafka/test_one_place.py`` fails if a
module builds a client any other way.
"""
