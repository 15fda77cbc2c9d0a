"""Logging set-up: readable text or one JSON object a line.

The guard never passes event contents to a logger; what it logs is event
positions, decisions, reasons, record ids and counts. Third-party libraries
are the risk: at DEBUG, Kafka clients can log whole messages, so their
loggers are held at INFO or above whatever level the guard runs at.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime

# Libraries whose DEBUG output can include message payloads or keys.
_CHATTY_LIBRARIES = ("aiokafka", "kafka", "faust", "mode")


def describe_exception(ei: object) -> str:
    """An exception's type and where it was raised, without its message.

    Messages of library exceptions can quote data (fastavro's quote field
    values); frames and types cannot.
    """
    if not isinstance(ei, tuple) or len(ei) != 3 or not isinstance(ei[0], type):
        return "  (exception details withheld)"
    frames = traceback.extract_tb(ei[2])[-8:]
    where = "\n".join(f"    at {f.filename}:{f.lineno} in {f.name}" for f in frames)
    return f"  {ei[0].__name__} (message withheld)\n{where}"


class JsonLineFormatter(logging.Formatter):
    """One JSON object a line. Tracebacks keep types and frames, not exception text."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = describe_exception(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Readable lines. An exception shows its type only: messages may carry data."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatException(self, ei: object) -> str:
        return describe_exception(ei)


def configure_logging(level: str, fmt: str) -> None:
    """Route every logger to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    library_level = max(logging.INFO, logging.getLevelName(level))
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
