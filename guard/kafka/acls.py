"""Least-privilege ACLs as code: what each party of a deployment may do, and no more.

One table (:func:`grants`) says, for the topics and ids of a configuration,
which operations each principal needs. ``guard acls`` prints it (for operators
who manage ACLs elsewhere), ``guard acls --apply`` creates it through the admin
API, ``guard acls --check`` compares it with the cluster's, and the worker
checks its own part of it before it starts (:mod:`guard.kafka.preflight`).

Kafka's rules this table relies on: READ, WRITE, DELETE and ALTER each imply
DESCRIBE; an idempotent producer needs only WRITE on its topics (KIP-679); a
transactional producer needs WRITE on its transactional id; a consumer group
needs READ on the group.

aiokafka's admin client has no ACL methods, but aiokafka ships the
CreateAcls/DescribeAcls wire classes: they are sent through a bare
``AIOKafkaClient`` from :func:`guard.kafka.clients.new_client`, so no JVM
tool is needed to apply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest, DescribeAclsRequest

from guard.config.settings import GuardConfig
from guard.kafka.clients import new_client
from guard.kafka.connection import KafkaConnection

REGISTRY_WRITER_PREFIX = "guard-registry-writer-"
"""Transactional ids of ``guard registry`` writes: this prefix and a fresh UUID."""


class ResourceType(IntEnum):
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class PatternType(IntEnum):
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14


ALLOW = 3
ANY_PERMISSION = 1

ROLES = ("worker", "operator", "upstream", "subscriber", "auditor", "reviewer", "canary")


@dataclass(frozen=True, slots=True)
class Principals:
    """The Kafka principal of each party (``User:NAME``)."""

    worker: str = "User:guard-worker"
    operator: str = "User:registry-operator"
    upstream: str = "User:custody-upstream"
    subscriber: str = "User:public-subscriber"
    auditor: str = "User:auditor"
    reviewer: str = "User:reviewer"
    canary: str = "User:guard-canary"
    subscriber_groups: str = "public-subscriber-"
    """Prefix of the consumer groups subscribers may use."""
    auditor_groups: str = "auditor-"

    def of(self, role: str) -> str:
        principal: str = getattr(self, role)
        return principal


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """One ALLOW binding: ``principal`` may ``operation`` on a resource, from any host."""

    principal: str
    resource: ResourceType
    name: str
    pattern: PatternType
    operation: Operation

    def describe(self) -> str:
        pattern = "prefix " if self.pattern is PatternType.PREFIXED else ""
        return (
            f"{self.principal} {self.operation.name} "
            f"{self.resource.name.lower().replace('_', '-')} {pattern}{self.name}"
        )


def grants(config: GuardConfig, principals: Principals) -> list[Grant]:
    """Every grant the deployment needs, principal by principal (sorted)."""
    topic, group, txn = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID
    literal, prefixed = PatternType.LITERAL, PatternType.PREFIXED
    read, write = Operation.READ, Operation.WRITE
    table: dict[str, list[tuple[ResourceType, str, PatternType, Operation]]] = {
        # Reads custody (its group) and the registry; writes every output under
        # one transactional id per custody partition; follows the review topic and
        # its partitions' publications (retraction), and writes withdrawals.
        "worker": [
            (topic, config.custody_topic, literal, read),
            (topic, config.registry_topic, literal, read),
            (topic, config.review_topic, literal, read),
            (topic, config.publications_topic, literal, read),
            (topic, config.public_topic, literal, write),
            (topic, config.audit_topic, literal, write),
            (topic, config.deadletter_topic, literal, write),
            (topic, config.review_topic, literal, write),
            (topic, config.publications_topic, literal, write),
            (topic, config.retractions_topic, literal, write),
            (group, config.app_id, literal, read),
            (txn, worker_transactional_prefix(config), prefixed, write),
        ],
        # Writes the registry (imports, revocations, key retirement reads it back).
        "operator": [
            (topic, config.registry_topic, literal, read),
            (topic, config.registry_topic, literal, write),
            (txn, REGISTRY_WRITER_PREFIX, prefixed, write),
        ],
        "upstream": [(topic, config.custody_topic, literal, write)],
        "subscriber": [
            (topic, config.public_topic, literal, read),
            (topic, config.retractions_topic, literal, read),
            (group, principals.subscriber_groups, prefixed, read),
        ],
        "auditor": [
            (topic, config.audit_topic, literal, read),
            (group, principals.auditor_groups, prefixed, read),
        ],
        # guard review release/confirm: re-decides against the registry, may read
        # the held event back from custody, publishes, audits, tombstones.
        "reviewer": [
            (topic, config.review_topic, literal, read),
            (topic, config.custody_topic, literal, read),
            (topic, config.registry_topic, literal, read),
            (topic, config.public_topic, literal, write),
            (topic, config.audit_topic, literal, write),
            (topic, config.review_topic, literal, write),
            (topic, config.publications_topic, literal, write),
            (txn, f"{config.app_id}-review", literal, write),
        ],
        # guard canary: protects its synthetic people like an operator, sends their
        # custody events like an upstream, and watches what the workers write.
        "canary": [
            (topic, config.registry_topic, literal, write),
            (topic, config.custody_topic, literal, write),
            (topic, config.public_topic, literal, read),
            (topic, config.audit_topic, literal, read),
            (txn, REGISTRY_WRITER_PREFIX, prefixed, write),
        ],
    }
    return sorted(
        Grant(principals.of(role), *entry) for role in ROLES for entry in table[role]
    )


def worker_transactional_prefix(config: GuardConfig) -> str:
    """Every transactional id a worker uses starts with this (one per custody partition)."""
    return f"{config.app_id}-{config.custody_topic}-"


def render(grants_: Sequence[Grant]) -> str:
    """The table ``guard acls`` prints: one line per grant, grouped by principal."""
    width = max((len(g.principal) for g in grants_), default=0)
    return "\n".join(
        f"{g.principal:<{width}}  ALLOW {g.operation.name:<5} "
        f"{g.resource.name:<16} {g.pattern.name:<8} {g.name}"
        for g in grants_
    )


def excess(existing: Iterable[Grant], wanted: Sequence[Grant]) -> list[Grant]:
    """Grants held beyond the table that reach this deployment's resources.

    A principal may serve several deployments on one cluster; grants on
    resources of another deployment are not this table's business. Anything
    on the cluster itself, on ``*``, on one of this deployment's names, or
    under a prefix that covers one of them, is.
    """
    names = {(g.resource, g.name) for g in wanted}

    def reaches_us(grant: Grant) -> bool:
        if grant.resource is ResourceType.CLUSTER or grant.name == "*":
            return True
        if grant.pattern is PatternType.PREFIXED:
            return any(r == grant.resource and n.startswith(grant.name) for r, n in names)
        return (grant.resource, grant.name) in names

    return sorted(g for g in set(existing) - set(wanted) if reaches_us(g))


class AclError(Exception):
    """The broker refused to create or describe ACLs (the message names the error)."""


async def apply(connection: KafkaConnection, wanted: Iterable[Grant]) -> list[Grant]:
    """Create every grant in ``wanted`` that the cluster lacks; return those created."""
    client = new_client(connection)
    await client.bootstrap()
    try:
        existing = await _describe(client, sorted({g.principal for g in wanted}))
        created = []
        for grant in sorted(set(wanted) - existing):
            request = CreateAclsRequest(
                int(grant.resource), grant.name, int(grant.pattern), grant.principal, "*",
                int(grant.operation), ALLOW,
            )  # fmt: skip
            response = await client.send(client.get_random_node(), request)
            for result in response.to_object()["creation_responses"]:
                if result["error_code"]:
                    raise AclError(
                        f"creating '{grant.describe()}' failed: "
                        f"{for_code(result['error_code']).__name__}"
                    )
            created.append(grant)
        return created
    finally:
        await client.close()


async def existing_grants(connection: KafkaConnection, principals: Iterable[str]) -> set[Grant]:
    """The ALLOW grants the cluster holds for ``principals`` (any host)."""
    client = new_client(connection)
    await client.bootstrap()
    try:
        return await _describe(client, sorted(set(principals)))
    finally:
        await client.close()


async def _describe(client: object, principals: Sequence[str]) -> set[Grant]:
    found: set[Grant] = set()
    for principal in principals:
        request = DescribeAclsRequest(
            int(ResourceType.ANY), None, int(PatternType.ANY), principal, None,
            int(Operation.ANY), ANY_PERMISSION,
        )  # fmt: skip
        response = await client.send(client.get_random_node(), request)  # type: ignore[attr-defined]
        decoded = response.to_object()
        if decoded["error_code"]:
            raise AclError(
                f"describing the ACLs of {principal} failed: "
                f"{for_code(decoded['error_code']).__name__}"
            )
        for resource in decoded["resources"]:
            for acl in resource["acls"]:
                found.add(_grant_of(resource, acl))
    return found


def _grant_of(resource: dict[str, object], acl: dict[str, object]) -> Grant:
    """A described binding. A DENY or a host-restricted binding is marked in the
    principal, so it never counts as one of the wanted grants."""
    is_plain_allow = acl["host"] == "*" and acl["permission_type"] == ALLOW
    return Grant(
        principal=str(acl["principal"]) + ("" if is_plain_allow else " (DENY or one host)"),
        resource=ResourceType(int(str(resource["resource_type"]))),
        name=str(resource["resource_name"]),
        pattern=PatternType(int(str(resource["resource_pattern_type"]))),
        operation=Operation(int(str(acl["operation"]))),
    )
