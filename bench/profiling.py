"""Sampling the worker process with py-spy, and what its samples say.

Only used with ``python -m bench --only end_to_end --profile-worker`` (py-spy
must be installed: ``pip install '.[bench]'``). py-spy samples the worker
from outside, so the worker runs unmodified; on a 2-core machine the sampler
still takes some CPU, so a profiled run's rates are not the figures of record.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# Where a sample's time goes. Groups are tried in order; within a group the
# innermost matching frame decides. So aiokafka's send under the guard's
# output counts as the output transaction, fastavro under the decider as the
# codec, and faust's stream iteration (called from the agent in worker.py)
# as faust rather than as the worker loop.
LAYER_GROUPS: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] = (
    (
        ("guard codec (fastavro + checks)", ("guard/codec/", "fastavro")),
        (
            "guard decision (decider, engine, identity, index, policy)",
            (
                "guard/stream/decider.py",
                "guard/decision/",
                "guard/identity/",
                "guard/registry/index.py",
                "guard/policy/",
            ),
        ),
        ("guard output transaction (aiokafka producer calls)", ("guard/stream/output.py",)),
        ("guard registry reader and gate", ("guard/registry/reader.py",)),
        ("guard metrics and health", ("guard/ops/", "guard/stream/monitor.py", "prometheus")),
    ),
    (
        ("faust stream / agent / consumer machinery", ("faust/", "mode/")),
        ("aiokafka (fetch, parse, send) outside guard calls", ("aiokafka/",)),
    ),
    (
        (
            "guard worker batch loop and drain loop",
            ("guard/stream/worker.py", "guard/stream/transport.py"),
        ),
    ),
    (("asyncio event loop", ("asyncio/", "selectors.py")),),
)


def start_sampler(pid: int, seconds: int, output: Path) -> subprocess.Popen[bytes] | None:
    """Start ``py-spy record`` on ``pid`` (folded stacks); None when py-spy is missing."""
    py_spy = shutil.which("py-spy") or _beside_python("py-spy")
    if py_spy is None:
        return None
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _beside_python(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


def summarize(folded: Path, top: int = 25) -> str:
    """Share of samples per layer (inclusive, outermost guard layer wins) and top self frames."""
    layers: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        own[_short(frames[-1])] += count
        layers[_layer_of(frames)] += count
    if not total:
        return "(no samples)"
    lines = [f"{total} samples", "", "time by layer:"]
    for layer, count in layers.most_common():
        lines.append(f"  {100 * count / total:5.1f}%  {layer}")
    lines += ["", f"top {top} frames by own time:"]
    for frame, count in own.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}%  {frame}")
    return "\n".join(lines)


def _layer_of(frames: list[str]) -> str:
    for group in LAYER_GROUPS:
        for frame in reversed(frames):
            for layer, markers in group:
                if any(marker in frame for marker in markers):
                    return layer
    return "other (interpreter, idle, C extensions)"


def _short(frame: str) -> str:
    """``func (path/to/file.py:12)`` → ``func (file.py:12)`` with the package kept."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    parts = where.split("/")
    return f"{name} ({'/'.join(parts[-2:])})" if where else name
