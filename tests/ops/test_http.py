"""The ops endpoints, served on the test's own event loop."""

from __future__ import annotations

import asyncio
import json

from prometheus_client.parser import text_string_to_metric_families

from guard.ops.health import NotReadyReason, Readiness
from guard.ops.http import OpsServer
from guard.ops.metrics import GuardMetrics


async def _get(port: int, path: str, method: str = "GET") -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


async def test_endpoints_answer() -> None:
    metrics = GuardMetrics()
    metrics.decisions.labels("DROP", "protected", "U_VISA").inc()
    readiness = [Readiness(False, NotReadyReason.REGISTRY_RESTORING)]
    scrapes: list[int] = []
    server = OpsServer(host="127.0.0.1", port=0, metrics=metrics,
                       readiness=lambda: readiness[0], before_scrape=lambda: scrapes.append(1))
    await server.start()
    try:
        assert await _get(server.port, "/healthz") == (200, '{"alive": true}\n')

        status, body = await _get(server.port, "/readyz")
        assert status == 503
        assert json.loads(body) == {"ready": False, "reason": "registry_restoring"}

        readiness[0] = Readiness(True, "ok")
        status, body = await _get(server.port, "/readyz")
        assert (status, json.loads(body)) == (200, {"ready": True, "reason": "ok"})

        status, body = await _get(server.port, "/metrics")
        assert status == 200
        assert scrapes == [1]
        families = {f.name: f for f in text_string_to_metric_families(body)}
        (sample,) = [s for s in families["guard_decisions"].samples if s.name.endswith("_total")]
        assert sample.labels == {"decision": "DROP", "reason": "protected", "basis": "U_VISA"}
        assert sample.value == 1

        assert (await _get(server.port, "/nope"))[0] == 404
        assert (await _get(server.port, "/metrics", method="POST"))[0] == 405
    finally:
        await server.stop()


def test_metric_names_follow_prometheus_conventions() -> None:
    metrics = GuardMetrics()
    for family in metrics.registry.collect():
        if not family.name.startswith("guard_"):
            continue
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        if family.type == "histogram":
            assert family.name.endswith("_seconds")
