"""Ask a starting broker, over its own wire protocol, whether it serves clients yet.

An open TCP port is not enough: a KRaft broker binds its listener early but
only answers requests after it has caught up with the metadata log, and only
lists itself in metadata once the controller has unfenced it. Until then
producers fail with "no leader". A Metadata request answers exactly the
question clients will ask first.

The probe speaks the protocol directly (one request, a few lines of framing)
rather than through aiokafka so that ``LocalKafkaBroker.start`` stays
synchronous and works whether or not the caller already runs an event loop.
"""

from __future__ import annotations

import socket
import ssl
import struct

_METADATA_API_KEY = 3
_METADATA_VERSION = 1
"""Supported by every 3.x broker; v1 is the first where an empty list means no topics."""

_CLIENT_ID = b"guard-devbroker-probe"
_CORRELATION_ID = 1367


class _Truncated(Exception):
    """The response ended before the fields Metadata v1 promises."""


def is_broker_serving(
    host: str, port: int, timeout: float = 2.0, tls: ssl.SSLContext | None = None
) -> bool:
    """True once the broker at ``host:port`` answers Metadata and lists a broker on ``port``.

    Every network failure means "not yet": the caller decides how long to
    keep asking and what to report when it gives up. ``tls`` speaks TLS (a
    secure broker's certificate-authenticated internal listener).
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            connection = tls.wrap_socket(raw, server_hostname=host) if tls is not None else raw
            connection.settimeout(timeout)
            connection.sendall(_metadata_request())
            payload = _read_frame(connection)
    except (OSError, _Truncated):
        return False
    try:
        return _lists_broker(payload, port)
    except (_Truncated, struct.error, UnicodeDecodeError):
        return False


def _metadata_request() -> bytes:
    header = struct.pack(
        ">hhih", _METADATA_API_KEY, _METADATA_VERSION, _CORRELATION_ID, len(_CLIENT_ID)
    )
    no_topics = struct.pack(">i", 0)
    body = header + _CLIENT_ID + no_topics
    return struct.pack(">i", len(body)) + body


def _read_frame(connection: socket.socket) -> bytes:
    (size,) = struct.unpack(">i", _read_exactly(connection, 4))
    return _read_exactly(connection, size)


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = connection.recv(size - len(chunks))
        if not chunk:
            raise _Truncated
        chunks.extend(chunk)
    return bytes(chunks)


def _lists_broker(payload: bytes, port: int) -> bool:
    """Walk the response's broker array: [node_id, host, port, rack]."""
    correlation_id, broker_count = struct.unpack_from(">ii", payload, 0)
    if correlation_id != _CORRELATION_ID:
        return False
    offset = 8
    for _ in range(broker_count):
        offset += 4  # node_id
        (host_length,) = struct.unpack_from(">h", payload, offset)
        offset += 2 + host_length
        (broker_port,) = struct.unpack_from(">i", payload, offset)
        offset += 4
        (rack_length,) = struct.unpack_from(">h", payload, offset)
        offset += 2 + max(rack_length, 0)
        if offset > len(payload):
            raise _Truncated
        if broker_port == port:
            return True
    return False
