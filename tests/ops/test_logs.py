"""Log formatting never carries an exception's message (it may quote data)."""

from __future__ import annotations

import json
import logging
import sys

from guard.ops.logs import JsonLineFormatter, TextFormatter

PLANTED = "A-012-345-678 GARCIA 1987-03-14"


def _record_with_exception() -> logging.LogRecord:
    try:
        raise ValueError(PLANTED)
    except ValueError:
        exc_info = sys.exc_info()
    return logging.LogRecord("guard.test", logging.ERROR, __file__, 1, "failed", None, exc_info)


def test_text_format_keeps_type_and_frames_not_message() -> None:
    line = TextFormatter().format(_record_with_exception())
    assert "ValueError" in line
    assert "test_logs.py" in line
    assert PLANTED not in line
    assert "GARCIA" not in line


def test_json_format_is_one_object_without_the_message() -> None:
    line = JsonLineFormatter().format(_record_with_exception())
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["message"] == "failed"
    assert "ValueError" in entry["exception"]
    assert "GARCIA" not in line
