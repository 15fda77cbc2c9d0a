"""``guard``: the one command-line entry point.

Every expected failure (configuration, input, broker) ends as one line on
stderr and exit status 2; a traceback means a bug. Each sub-command carries
its own handler (``set_defaults(handler=...)``), so adding a command is one
parser entry and one small function.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from aiokafka.errors import KafkaError

from guard import __version__
from guard.canary.people import MAX_CANARY_PEOPLE
from guard.cli.errors import CliError
from guard.codec.errors import CodecError
from guard.config.errors import ConfigError
from guard.config.settings import load_config
from guard.identity.errors import IdentityError
from guard.kafka.acls import AclError
from guard.kafka.errors import TopicSetupError
from guard.policy.errors import PolicyError
from guard.registry.errors import RegistryError
from guard.review.errors import ReviewError
from guard.schemaregistry.client import SchemaRegistryError

EXPECTED_FAILURES = (
    CliError,
    ConfigError,
    CodecError,
    IdentityError,
    PolicyError,
    TopicSetupError,
    AclError,
    RegistryError,
    ReviewError,
    KafkaError,
    SchemaRegistryError,
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guard",
        description="Keep custody events about people protected by 8 U.S.C. 1367 "
        "off the public notification feed. Configured by GUARD_* variables.",
    )
    parser.add_argument("--version", action="version", version=f"guard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("worker", help="run the guard worker until stopped").set_defaults(
        handler=_worker
    )
    _add_registry(commands)
    _add_review(commands)

    produce = commands.add_parser("produce", help="send JSON-lines custody events")
    produce.add_argument("file", help="JSON-lines file, or - for standard input")
    produce.set_defaults(handler=_produce)

    tail = commands.add_parser("tail", help="print a topic as JSON lines")
    tail.add_argument(
        "name",
        help="custody, registry, public, audit, deadletter, review, publications, "
        "retractions, or a topic",
    )
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument(
        "--idle-exit",
        type=float,
        metavar="SECONDS",
        help="exit after this many seconds without a new record",
    )
    tail.set_defaults(handler=_tail)

    _add_schemas(commands)

    status = commands.add_parser("status", help="readiness, counts and lag of a running worker")
    status.add_argument("--url", help="worker ops endpoint (default: from GUARD_METRICS_HOST/PORT)")
    status.set_defaults(handler=_status)

    subscribe = commands.add_parser(
        "subscribe", help="keep the public feed in a SQLite file, as a lookup service would"
    )
    subscribe.add_argument("--db", type=Path, required=True, metavar="FILE")
    subscribe.add_argument(
        "--idle-exit", type=float, metavar="SECONDS", help="exit after this long with nothing new"
    )
    subscribe.set_defaults(handler=_subscribe)

    lookup = commands.add_parser("lookup", help="look someone up in a subscriber's SQLite file")
    lookup.add_argument("--db", type=Path, required=True, metavar="FILE")
    who = lookup.add_mutually_exclusive_group(required=True)
    who.add_argument("--a-number")
    who.add_argument("--name", nargs=2, metavar=("GIVEN", "FAMILY"))
    lookup.set_defaults(handler=_lookup)

    ref = commands.add_parser("ref", help="the keyed reference outputs use for an id")
    ref.add_argument(
        "kind", choices=["event", "record"], help="an upstream event id or a record id"
    )
    ref.add_argument("id")
    ref.set_defaults(handler=_ref)

    _add_acls(commands)

    topics = commands.add_parser("topics", help="manage the guard's topics")
    topics.add_argument("action", choices=["create"])
    topics.set_defaults(handler=_topics)

    broker = commands.add_parser("dev-broker", help="run a local Apache Kafka broker (KRaft)")
    broker.add_argument("--port", type=int, default=9092)
    broker.add_argument("--data-dir", type=Path, default=None)
    broker.add_argument(
        "--secure",
        action="store_true",
        help="SASL_SSL (SCRAM) with a generated CA, the ACL authorizer and one user per party",
    )
    broker.set_defaults(handler=_dev_broker)

    _add_canary(commands)

    demo = commands.add_parser("demo", help="broker + worker + sample data, then a summary")
    demo.add_argument(
        "--keep-dir",
        type=Path,
        default=None,
        help="keep broker data here instead of a temporary directory",
    )
    demo.set_defaults(handler=_demo)
    return parser


def _add_registry(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    registry = commands.add_parser("registry", help="write protection records")
    registry_commands = registry.add_subparsers(dest="registry_command", required=True)
    importer = registry_commands.add_parser("import", help="blind and import JSON-lines entries")
    importer.add_argument("file", help="JSON-lines file, or - for standard input")
    importer.set_defaults(handler=_registry_import)
    revoke = registry_commands.add_parser("revoke", help="lift the protection of one record")
    revoke.add_argument("record_id")
    revoke.set_defaults(handler=_registry_revoke)
    retire = registry_commands.add_parser(
        "retire-previous",
        help="end a key rotation: tombstone every record under the previous blinding key",
    )
    retire.add_argument("file", help="the source records already imported under the new key")
    retire.set_defaults(handler=_registry_retire)


def _add_canary(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    canary = commands.add_parser(
        "canary", help="send events about synthetic protected people; alert if one publishes"
    )
    canary.add_argument("--interval", type=_positive, default=30.0, help="seconds between events")
    canary.add_argument("--bound", type=_positive, default=60.0, help="seconds to a decision")
    canary.add_argument(
        "--people", type=int, choices=range(1, MAX_CANARY_PEOPLE + 1), default=2,
        metavar=f"1-{MAX_CANARY_PEOPLE}",
    )  # fmt: skip
    canary.add_argument("--metrics-port", type=int, default=9101, help="its /metrics port")
    canary.add_argument(
        "--no-install", action="store_true", help="the canary people are already in the registry"
    )
    canary.set_defaults(handler=_canary)


def _positive(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {raw}")
    return value


def _add_schemas(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``guard schemas check|register`` (issue 11)."""
    schemas = commands.add_parser("schemas", help="output schemas in the schema registry")
    actions = schemas.add_subparsers(dest="schemas_command", required=True)
    actions.add_parser(
        "check", help="are the output schemas BACKWARD compatible? (writes nothing; exit 1 if not)"
    ).set_defaults(handler=_schemas, register=False)
    actions.add_parser(
        "register", help="check, then register the output schemas under <topic>-value"
    ).set_defaults(handler=_schemas, register=True)


def _schemas(args: argparse.Namespace) -> int:
    from guard.cli.schemas import schemas_command

    return asyncio.run(schemas_command(load_config(), register=args.register, out=sys.stdout))


def _add_review(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    review = commands.add_parser("review", help="events held for review (restricted)")
    review_commands = review.add_subparsers(dest="review_command", required=True)
    listing = review_commands.add_parser("list", help="held events, oldest first")
    listing.add_argument(
        "--show-identifiers",
        action="store_true",
        help="also print each held subject's name, A-number and date of birth",
    )
    listing.set_defaults(handler=_review_list)
    for name, handler, text in (
        ("release", _review_release, "publish held events (re-decided against the registry now)"),
        ("confirm", _review_confirm, "finalise held events as DROP"),
    ):
        command = review_commands.add_parser(name, help=text)
        command.add_argument(
            "positions", nargs="+", metavar="POSITION", help="topic/partition/offset"
        )
        command.add_argument(
            "--operator",
            default=getpass.getuser(),
            help="who is resolving them, for the audit record (default: the login name)",
        )
        command.set_defaults(handler=handler)


def _worker(args: argparse.Namespace) -> int:
    from guard.stream.runner import run_worker

    return run_worker(load_config())


def _status(args: argparse.Namespace) -> int:
    from guard.cli.status import fetch_status, render_status

    config = load_config()
    host = "127.0.0.1" if config.metrics_host in ("0.0.0.0", "::") else config.metrics_host
    worker_status = fetch_status(args.url or f"http://{host}:{config.metrics_port}")
    print(render_status(worker_status))
    return 0 if worker_status.is_ready else 1


def _topics(args: argparse.Namespace) -> int:
    from guard.cli.topics import topic_specs
    from guard.kafka.connection import kafka_connection
    from guard.kafka.topics import ensure_topics

    config = load_config()
    asyncio.run(ensure_topics(kafka_connection(config), topic_specs(config)))
    print(f"topics ready on {config.brokers}")
    return 0


def _produce(args: argparse.Namespace) -> int:
    from guard.cli.feed import produce_custody

    config = load_config()
    count = asyncio.run(produce_custody(config, args.file))
    print(f"sent {count} custody events to {config.custody_topic}", file=sys.stderr)
    return 0


def _registry_import(args: argparse.Namespace) -> int:
    from guard.cli.feed import import_registry

    config = load_config()
    count = asyncio.run(import_registry(config, args.file))
    print(f"imported {count} protection records into {config.registry_topic}", file=sys.stderr)
    return 0


def _registry_revoke(args: argparse.Namespace) -> int:
    from guard.registry.writer import revoke_registry

    reference = asyncio.run(revoke_registry(load_config(), args.record_id))
    print(f"revoked record {reference[:16]}…", file=sys.stderr)
    return 0


def _registry_retire(args: argparse.Namespace) -> int:
    from guard.cli.rotation import run_retire

    print(run_retire(load_config(), args.file), file=sys.stderr)
    return 0


def _ref(args: argparse.Namespace) -> int:
    from guard.config.keys import registry_blinder
    from guard.decision.references import event_reference
    from guard.registry.model import record_reference

    blinder = registry_blinder(load_config())
    make = event_reference if args.kind == "event" else record_reference
    print(make(blinder, args.id))
    return 0


def _review_list(args: argparse.Namespace) -> int:
    from guard.cli.review import render_held
    from guard.review.held import load_held

    held = asyncio.run(load_held(load_config()))
    print(render_held(list(held.values()), show_identifiers=args.show_identifiers))
    return 0


def _review_release(args: argparse.Namespace) -> int:
    from guard.cli.review import render_resolutions
    from guard.review.resolve import release

    resolutions = asyncio.run(release(load_config(), args.positions, args.operator))
    return render_resolutions(resolutions, sys.stdout)


def _review_confirm(args: argparse.Namespace) -> int:
    from guard.cli.review import render_resolutions
    from guard.review.resolve import confirm

    resolutions = asyncio.run(confirm(load_config(), args.positions, args.operator))
    return render_resolutions(resolutions, sys.stdout)


def _subscribe(args: argparse.Namespace) -> int:
    from guard.subscriber.follow import subscribe

    applied = asyncio.run(subscribe(load_config(), args.db, idle_exit=args.idle_exit))
    print(f"applied {applied} records to {args.db}", file=sys.stderr)
    return 0


def _lookup(args: argparse.Namespace) -> int:
    import json

    from guard.subscriber.store import SubscriberStore

    store = SubscriberStore(args.db)
    try:
        rows = store.by_a_number(args.a_number) if args.a_number else store.by_name(*args.name)
    finally:
        store.close()
    for row in rows:
        print(json.dumps(row, sort_keys=True))
    return 0 if rows else 1


def _tail(args: argparse.Namespace) -> int:
    from guard.cli.tail import tail

    asyncio.run(
        tail(
            load_config(),
            args.name,
            from_beginning=args.from_beginning,
            idle_exit=args.idle_exit,
            out=sys.stdout,
        )
    )
    return 0


def _canary(args: argparse.Namespace) -> int:
    from guard.canary.monitor import CanarySettings
    from guard.canary.service import run_canary
    from guard.ops.logs import configure_logging

    config = load_config()
    configure_logging(config.log_level, config.log_format)
    settings = CanarySettings(interval=args.interval, bound=args.bound, people=args.people)
    return asyncio.run(
        run_canary(
            config, settings, metrics_port=args.metrics_port, should_install=not args.no_install
        )
    )


def _dev_broker(args: argparse.Namespace) -> int:
    from guard.devbroker.foreground import run_dev_broker

    return run_dev_broker(args.port, args.data_dir, secure=args.secure)


def _demo(args: argparse.Namespace) -> int:
    # Imported here, not at the top: the worker's path never loads development tooling.
    from guard.cli.demo import run_demo
    from guard.devbroker.errors import DevBrokerError

    try:
        return run_demo(keep_dir=args.keep_dir)
    except DevBrokerError as error:
        raise CliError(str(error)) from None


# --- guard acls (issue 9) -------------------------------------------------------


def _add_acls(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from guard.kafka.acls import ROLES, Principals

    acls = commands.add_parser(
        "acls", help="the least-privilege ACLs of each party; --apply creates them"
    )
    mode = acls.add_mutually_exclusive_group()
    mode.add_argument("--apply", action="store_true", help="create the missing ACLs")
    mode.add_argument(
        "--check", action="store_true", help="compare with the cluster's (exit 1 on a difference)"
    )
    defaults = Principals()
    for role in ROLES:
        acls.add_argument(f"--{role}", default=defaults.of(role), metavar="PRINCIPAL")
    acls.add_argument("--subscriber-groups", default=defaults.subscriber_groups, metavar="PREFIX")
    acls.add_argument("--auditor-groups", default=defaults.auditor_groups, metavar="PREFIX")
    acls.set_defaults(handler=_acls)


def _acls(args: argparse.Namespace) -> int:
    from guard.cli.acls import run_acls
    from guard.kafka.acls import ROLES, Principals

    principals = Principals(
        **{role: getattr(args, role) for role in ROLES},
        subscriber_groups=args.subscriber_groups,
        auditor_groups=args.auditor_groups,
    )
    return run_acls(load_config(), principals, apply=args.apply, check=args.check)


QUIET_CLIENT_COMMANDS = frozenset({"worker", "demo", "dev-broker"})
"""Commands that set up their own logging; every other one reports failures as one line."""


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in QUIET_CLIENT_COMMANDS:
        # aiokafka logs a refused login or a denied request at ERROR before
        # raising it; the command's own line says it once, without the noise.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    handler: Handler = args.handler
    return handler(args)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except EXPECTED_FAILURES as exc:
        print(f"guard: error: {_kafka_cause(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _kafka_cause(exc: Exception) -> str:
    """The line for a failure; for a Kafka one, what the broker really objected to."""
    from guard.kafka.diagnose import describe_failure

    return describe_failure(exc) if isinstance(exc, KafkaError) else str(exc)


if __name__ == "__main__":
    sys.exit(main())
