"""``guard schemas check`` / ``guard schemas register``.

For deploy pipelines: ``check`` says, without writing anything, whether the
guard's output schemas are BACKWARD compatible with what each output
subject holds (the guard's schema reads the latest registered version) and
whether the guard can read the custody subject's latest version; exit 0
when everything passes, 1 when something does not. ``register`` runs the
same checks and registers the output schemas only if all pass (the worker
does the same at start-up).

How ``guard produce`` frames custody events is ``guard.upstream``'s business.
"""

from __future__ import annotations

import json
from typing import TextIO

from guard.codec.compatibility import check_compatibility
from guard.codec.schemas import SchemaName, load_schema
from guard.codec.wire import IDENTITY_FIELDS
from guard.config.settings import GuardConfig
from guard.schemaregistry.client import SchemaRegistryClient
from guard.schemaregistry.wireformat import (
    SubjectCheck,
    output_subjects,
    refusal_line,
    register_subjects,
    registry_client,
    value_subject,
)


async def schemas_command(config: GuardConfig, *, register: bool, out: TextIO) -> int:
    """Check (and with ``register``, register) every output subject; report the custody one."""
    async with registry_client(config) as client:
        checks = await register_subjects(client, output_subjects(config), register=register)
        custody = await _custody_line(client, config)
    failed = False
    for check in checks:
        failed |= not check.is_compatible
        out.write(_line(check) + "\n")
    out.write(custody[1] + "\n")
    return 1 if failed or not custody[0] else 0


def _line(check: SubjectCheck) -> str:
    if not check.is_compatible:
        return f"INCOMPATIBLE {refusal_line(check)}"
    if check.schema_id is not None:
        return f"registered   {check.subject}: {check.name.value} has id {check.schema_id}"
    if check.latest_version is None:
        return f"ok           {check.subject}: new subject, nothing registered yet"
    return f"ok           {check.subject}: BACKWARD compatible with version {check.latest_version}"


async def _custody_line(client: SchemaRegistryClient, config: GuardConfig) -> tuple[bool, str]:
    """Whether the guard reads the custody subject's latest version (the input contract)."""
    subject = value_subject(config.custody_topic)
    latest = await client.latest(subject)
    if latest is None:
        return True, f"ok           {subject}: nothing registered by upstream yet"
    try:
        writer = json.loads(latest.schema)
    except ValueError:
        return False, f"UNREADABLE   {subject}: version {latest.version} is not JSON"
    verdict = check_compatibility(load_schema(SchemaName.CUSTODY_EVENT).raw, writer)
    problems = list(verdict.problems)
    lacking = sorted(IDENTITY_FIELDS[SchemaName.CUSTODY_EVENT] & verdict.defaulted)
    if lacking:
        problems.append(f"lacks fields the guard matches on: {', '.join(lacking)}")
    if problems:
        return False, f"UNREADABLE   {subject}: version {latest.version}: {'; '.join(problems)}"
    return True, f"ok           {subject}: the guard reads version {latest.version}"
