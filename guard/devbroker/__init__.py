"""A real Apache Kafka broker on 127.0.0.1 for tests and local development.

Import from the submodules (``broker``, ``jars``, ``topics``, ``foreground``):
this package deliberately imports nothing itself, so that
``python -m guard.devbroker.jars`` runs without importing its own module twice.
"""
