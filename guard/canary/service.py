"""``guard canary`` as a long-running process: the canary plus its ``/metrics``.

The canary runs apart from the workers (its own deployment), so that a
guard which stops deciding, or starts publishing, is seen by something that
does not share its fate. Its readiness is simply "the canary loop is
running"; what matters to operators is in its metrics and alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from guard.canary.metrics import CanaryMetrics
from guard.canary.monitor import Canary, CanarySettings
from guard.config.settings import GuardConfig
from guard.ops.health import READY, NotReadyReason, Readiness
from guard.ops.http import OpsServer

log = logging.getLogger(__name__)


async def run_canary(
    config: GuardConfig,
    settings: CanarySettings,
    *,
    metrics_port: int,
    should_install: bool = True,
) -> int:
    """Run until SIGTERM or SIGINT; exit status 0 if no canary event was ever published."""
    metrics = CanaryMetrics()
    canary = Canary(config, settings, report=metrics.report)
    running = False

    def readiness() -> Readiness:
        return READY if running else Readiness(False, NotReadyReason.STARTING)

    server = OpsServer(
        host=config.metrics_host, port=metrics_port, metrics=metrics, readiness=readiness
    )
    await server.start()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    for signum in (signal.SIGTERM, signal.SIGINT):
        if task is not None:
            loop.add_signal_handler(signum, task.cancel)
    try:
        if should_install:
            await canary.install()
        running = True
        log.info(
            "canary: one event every %.0f s, each to be decided within %.0f s",
            settings.interval,
            settings.bound,
        )
        with contextlib.suppress(asyncio.CancelledError):
            await canary.run()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await server.stop()
    counts = canary.counts
    log.info(
        "canary: sent %d, decided %s, late %d, published %d",
        counts.sent,
        counts.decided,
        counts.late,
        counts.published,
    )
    return 1 if counts.published else 0
