"""``guard``: the one command-line entry point.

Every expected failure (configuration, input, broker) ends as one line on
stderr and exit status 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from aiokafka.errors import KafkaError

from guard import __version__
from guard.cli.errors import CliError
from guard.codec.errors import CodecError
from guard.config.errors import ConfigError
from guard.config.settings import load_config
from guard.devbroker.errors import DevBrokerError
from guard.identity.errors import IdentityError
from guard.policy.errors import PolicyError

EXPECTED_FAILURES = (
    CliError,
    ConfigError,
    CodecError,
    IdentityError,
    PolicyError,
    DevBrokerError,
    KafkaError,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guard",
        description="Keep custody events about people protected by 8 U.S.C. 1367 "
        "off the public notification feed. Configured by GUARD_* variables.",
    )
    parser.add_argument("--version", action="version", version=f"guard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("worker", help="run the guard worker until stopped")

    registry = commands.add_parser("registry", help="write protection records")
    registry_commands = registry.add_subparsers(dest="registry_command", required=True)
    importer = registry_commands.add_parser("import", help="blind and import JSON-lines entries")
    importer.add_argument("file", help="JSON-lines file, or - for standard input")
    revoke = registry_commands.add_parser("revoke", help="lift the protection of one record")
    revoke.add_argument("record_id")

    produce = commands.add_parser("produce", help="send JSON-lines custody events")
    produce.add_argument("file", help="JSON-lines file, or - for standard input")

    tail = commands.add_parser("tail", help="print a topic as JSON lines")
    tail.add_argument("name", help="custody, registry, public, audit, deadletter, or a topic")
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument(
        "--idle-exit",
        type=float,
        metavar="SECONDS",
        help="exit after this many seconds without a new record",
    )

    status = commands.add_parser("status", help="readiness, counts and lag of a running worker")
    status.add_argument("--url", help="worker ops endpoint (default: from GUARD_METRICS_HOST/PORT)")

    topics = commands.add_parser("topics", help="manage the guard's topics")
    topics.add_argument("action", choices=["create"])

    broker = commands.add_parser("dev-broker", help="run a local Apache Kafka broker (KRaft)")
    broker.add_argument("--port", type=int, default=9092)
    broker.add_argument("--data-dir", type=Path, default=None)

    demo = commands.add_parser("demo", help="broker + worker + sample data, then a summary")
    demo.add_argument(
        "--keep-dir",
        type=Path,
        default=None,
        help="keep broker data here instead of a temporary directory",
    )
    return parser


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "dev-broker":
        from guard.devbroker.foreground import run_dev_broker

        return run_dev_broker(args.port, args.data_dir)
    if args.command == "demo":
        from guard.cli.demo import run_demo

        return run_demo(keep_dir=args.keep_dir)
    config = load_config()
    if args.command == "worker":
        from guard.stream.runner import run_worker

        return run_worker(config)
    if args.command == "status":
        from guard.cli.status import fetch_status, render_status

        host = "127.0.0.1" if config.metrics_host in ("0.0.0.0", "::") else config.metrics_host
        worker_status = fetch_status(args.url or f"http://{host}:{config.metrics_port}")
        print(render_status(worker_status))
        return 0 if worker_status.is_ready else 1
    if args.command == "topics":
        from guard.cli.topics import topic_specs
        from guard.devbroker.topics import ensure_topics

        asyncio.run(ensure_topics(config.brokers, topic_specs(config)))
        print(f"topics ready on {config.brokers}")
        return 0
    if args.command == "produce":
        from guard.cli.feed import produce_custody

        count = asyncio.run(produce_custody(config, args.file))
        print(f"sent {count} custody events to {config.custody_topic}", file=sys.stderr)
        return 0
    if args.command == "registry":
        from guard.cli import feed

        if args.registry_command == "import":
            count = asyncio.run(feed.import_registry(config, args.file))
            print(
                f"imported {count} protection records into {config.registry_topic}", file=sys.stderr
            )
        else:
            asyncio.run(feed.revoke_registry(config, args.record_id))
            print(f"revoked {args.record_id}", file=sys.stderr)
        return 0
    if args.command == "tail":
        from guard.cli.tail import tail

        asyncio.run(
            tail(
                config,
                args.name,
                from_beginning=args.from_beginning,
                idle_exit=args.idle_exit,
                out=sys.stdout,
            )
        )
        return 0
    raise CliError(f"unknown command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except EXPECTED_FAILURES as exc:
        print(f"guard: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
