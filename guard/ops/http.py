"""``/metrics``, ``/healthz`` and ``/readyz`` on the worker's own event loop.

The server runs on the loop that runs the stream, so an answer from
``/healthz`` proves that loop is turning: that is the liveness check.
prometheus-client renders the exposition; the HTTP part is a few lines of
asyncio because the endpoints are three fixed GET paths and Faust 0.15 no
longer ships a web server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from guard.ops.health import Readiness


class HasRegistry(Protocol):
    """Metrics to expose: the worker's, or the canary's."""

    @property
    def registry(self) -> CollectorRegistry: ...

log = logging.getLogger(__name__)

_MAX_REQUEST_LINE = 1024
_READ_TIMEOUT_SECONDS = 5.0


class OpsServer:
    """Serves the three endpoints until stopped."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        metrics: HasRegistry,
        readiness: Callable[[], Readiness],
        before_scrape: Callable[[], None] | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._metrics = metrics
        self._readiness = readiness
        self._before_scrape = before_scrape
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when started with port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)
        log.info("ops endpoints on http://%s:%d (/metrics /healthz /readyz)", self._host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), _READ_TIMEOUT_SECONDS)
            # Drain the headers; nothing in them matters here.
            while (
                line := await asyncio.wait_for(reader.readline(), _READ_TIMEOUT_SECONDS)
            ) not in (
                b"\r\n",
                b"\n",
                b"",
            ):
                if len(line) > _MAX_REQUEST_LINE:
                    break
            status, content_type, body = self._respond(request[:_MAX_REQUEST_LINE])
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("ascii")
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _respond(self, request_line: bytes) -> tuple[str, str, bytes]:
        parts = request_line.decode("latin-1").split()
        if len(parts) < 2 or parts[0] not in ("GET", "HEAD"):
            return "405 Method Not Allowed", "text/plain", b"only GET\n"
        path = parts[1].split("?", 1)[0]
        if path == "/metrics":
            if self._before_scrape is not None:
                self._before_scrape()
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._metrics.registry)
        if path == "/healthz":
            return "200 OK", "application/json", b'{"alive": true}\n'
        if path == "/readyz":
            readiness = self._readiness()
            status = "200 OK" if readiness.is_ready else "503 Service Unavailable"
            return status, "application/json", (readiness.as_json() + "\n").encode("ascii")
        return "404 Not Found", "text/plain", b"not found: try /metrics, /healthz or /readyz\n"
