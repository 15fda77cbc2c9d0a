"""``guard acls``: print, apply or check the least-privilege ACLs (``guard.kafka.acls``).

Applying needs a principal allowed to ALTER the cluster (on the secure dev
broker, ``guard-admin``). It only ever adds: an ACL the table does not list is
reported, never deleted, because someone else may have granted it on purpose;
``--check`` exits 1 while any differs, so a drift towards more privilege shows.
Grants of the same principals on another deployment's resources are not compared.
"""

from __future__ import annotations

import asyncio

from guard.config.settings import GuardConfig
from guard.kafka.acls import (
    Grant,
    Principals,
    apply,
    excess,
    existing_grants,
    grants,
    render,
)
from guard.kafka.connection import kafka_connection


def run_acls(config: GuardConfig, principals: Principals, *, apply: bool, check: bool) -> int:
    wanted = grants(config, principals)
    if not (apply or check):
        print(render(wanted))
        return 0
    return asyncio.run(_apply_or_check(config, wanted, is_apply=apply))


async def _apply_or_check(config: GuardConfig, wanted: list[Grant], *, is_apply: bool) -> int:
    connection = kafka_connection(config)
    if is_apply:
        created = await apply(connection, wanted)
        for grant in created:
            print(f"created  {grant.describe()}")
        print(f"{len(created)} ACLs created, {len(wanted) - len(created)} already present")
    existing = await existing_grants(connection, {g.principal for g in wanted})
    missing = sorted(set(wanted) - existing)
    extra = excess(existing, wanted)
    for grant in missing:
        print(f"MISSING  {grant.describe()}")
    for grant in extra:
        print(f"EXTRA    {grant.describe()} (more than this party needs; not removed)")
    return 0 if not missing and not extra else 1
