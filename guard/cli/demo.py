"""``guard demo``: the whole pipeline on a local broker, then what it decided.

Starts a broker, creates the topics, imports the sample registry, sends the
sample custody feed plus one malformed message, runs a real worker process,
waits for one decision per event and prints what was published, dropped and
rejected. Keys are random for each run and never leave the temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiokafka import ConsumerRecord

from guard.cli.errors import CliError
from guard.cli.feed import import_registry, produce_custody
from guard.cli.tail import read_records
from guard.cli.topics import topic_specs
from guard.codec.avro import codec_for
from guard.codec.jsonlines import iter_json_lines
from guard.codec.schemas import SchemaName
from guard.config.keys import registry_blinder, subject_ref_blinder
from guard.config.settings import GuardConfig, load_config
from guard.decision.projection import notice_id
from guard.decision.references import event_reference
from guard.devbroker.broker import LocalKafkaBroker, free_port
from guard.devbroker.jars import ensure_kafka_jars
from guard.kafka.clients import new_producer
from guard.kafka.connection import kafka_connection
from guard.kafka.topics import ensure_topics

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DECISION_TIMEOUT_SECONDS = 180.0


def demo_environment(workdir: Path, bootstrap: str) -> dict[str, str]:
    """Worker environment with fresh random keys, written to files only the demo reads."""
    blinding = workdir / "blinding.key"
    subject = workdir / "subject-ref.key"
    for path in (blinding, subject):
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return {
        "GUARD_BROKERS": bootstrap,
        "GUARD_BLINDING_KEY_FILE": str(blinding),
        "GUARD_SUBJECT_REF_KEY_FILE": str(subject),
        "GUARD_WORKER_ID": "demo",
        "GUARD_DATA_DIR": str(workdir / "guard"),
        "GUARD_METRICS_PORT": "0",
    }


async def feed(config: GuardConfig) -> int:
    connection = kafka_connection(config)
    await ensure_topics(connection, topic_specs(config))
    await import_registry(config, str(EXAMPLES / "registry.jsonl"))
    sent = await produce_custody(config, str(EXAMPLES / "custody.jsonl"))
    producer = new_producer(connection, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(config.custody_topic, b"\x02not an avro record")
    finally:
        await producer.stop()
    return sent + 1


def wait_for_decisions(
    config: GuardConfig, expected: int, worker: subprocess.Popen[bytes]
) -> list[ConsumerRecord[bytes, bytes]]:
    """Audit records, once there is one per event, or once the worker has died."""
    deadline = time.monotonic() + DECISION_TIMEOUT_SECONDS
    while True:
        audit = asyncio.run(
            read_records(
                kafka_connection(config),
                config.audit_topic,
                at_least=expected,
                timeout=5,
                drain=False,
            )
        )
        if len(audit) >= expected or worker.poll() is not None or time.monotonic() > deadline:
            return audit


def _sample_event_ids(config: GuardConfig) -> dict[str, str]:
    """Keyed reference (audit event_ref or public notice_id) → the sample's event id.

    Outputs never carry an upstream event id; the demo holds the keys and the
    sample file, so it can name its own events again for the summary.
    """
    blinder, notice_blinder = registry_blinder(config), subject_ref_blinder(config)
    ids: dict[str, str] = {}
    with (EXAMPLES / "custody.jsonl").open(encoding="utf-8") as sample:
        for _, event in iter_json_lines(sample):
            event_id = str(event["event_id"])
            ids[event_reference(blinder, event_id)] = event_id
            ids[notice_id(event_id, notice_blinder)] = event_id
    return ids


def summarise(config: GuardConfig, expected: int, worker: subprocess.Popen[bytes]) -> int:
    audit = wait_for_decisions(config, expected, worker)
    public = asyncio.run(
        read_records(kafka_connection(config), config.public_topic, at_least=0, timeout=1)
    )
    decode_audit = codec_for(SchemaName.GUARD_DECISION).decode
    decode_notice = codec_for(SchemaName.PUBLIC_NOTICE).decode
    names = _sample_event_ids(config)
    decisions = [decode_audit(r.value) for r in audit if r.value is not None]
    for decision in decisions:
        decision["event"] = names.get(decision["event_ref"] or "", "(undecodable)")
    print(f"\n{'event':<14} {'decision':<8} {'reason':<26} {'match':<7} bases")
    for d in sorted(decisions, key=lambda d: (d["event"], d["input_offset"])):
        print(
            f"{d['event']:<14} {d['decision']:<8} {d['reason']:<26} {d['match_strength']:<7} "
            f"{','.join(d['bases']) or '-'}"
        )
    print("\nPublished notices (public topic):")
    for record in public:
        n = decode_notice(record.value or b"")
        print(
            f"  {names.get(n['notice_id'], '?')}: {n['given_name']} {n['family_name']} "
            f"A{n['a_number']} {n['custody_status']} at {n['facility_name']} "
            f"(ref {n['subject_ref'][:12]}...)"
        )
    counts = Counter(d["decision"] for d in decisions)
    kinds = ("PUBLISH", "DROP", "REDACT", "HOLD", "REJECT")
    print(
        "\n" + ", ".join(f"{k}: {counts.get(k, 0)}" for k in kinds),
        f"({len(decisions)} decisions for {expected} events)",
    )
    if counts.get("HOLD"):
        print("Held events wait for a reviewer: guard review list, then release or confirm.")
    return 0 if len(decisions) == expected else 1


def run_demo(keep_dir: Path | None = None) -> int:
    if not EXAMPLES.is_dir():
        raise CliError(f"sample data not found at {EXAMPLES}")
    print("Fetching Apache Kafka from Maven Central if not cached...", flush=True)
    ensure_kafka_jars()
    with tempfile.TemporaryDirectory(prefix="guard-demo-") as tmp:
        workdir = keep_dir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        with LocalKafkaBroker(free_port(), workdir / "kafka") as broker:
            print(f"Broker up at {broker.bootstrap}", flush=True)
            env = {**os.environ, **demo_environment(workdir, broker.bootstrap)}
            config = load_config(env)
            expected = asyncio.run(feed(config))
            print(
                f"Registry: 3 protected people. Custody feed: {expected} events "
                "(one of them malformed bytes).",
                flush=True,
            )
            log_path = workdir / "worker.log"
            with log_path.open("w") as log:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "guard", "worker"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                try:
                    status = summarise(config, expected, worker)
                finally:
                    worker.send_signal(signal.SIGTERM)
                    try:
                        worker.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        worker.kill()
            if status:
                print(f"Not every event got a decision; worker log: {log_path}")
            return status
