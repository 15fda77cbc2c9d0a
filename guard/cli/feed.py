"""Commands that write: ``guard produce`` and ``guard registry import`` read JSON lines here
and hand the events to ``guard.upstream`` and the entries to ``guard.registry.writer``.
A line that fails is refused by its number and field, never its content.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, TypeVar

from guard.cli.errors import CliError
from guard.codec.errors import JsonInputError
from guard.codec.jsonlines import (
    custody_event_from_json,
    iter_json_lines,
    registry_entry_from_json,
)
from guard.config.keys import registry_blinder
from guard.config.settings import GuardConfig
from guard.identity.blind import Blinder
from guard.identity.errors import IdentityTooLarge, InvalidIdentifier
from guard.registry.errors import EntryProtectsNobody
from guard.registry.model import (
    ProtectionRecord,
)
from guard.registry.writer import blind_entry, write_registry
from guard.upstream import custody_encoder, send_custody

_T = TypeVar("_T")



@contextmanager
def open_input(path: str) -> Iterator[TextIO]:
    """``-`` is standard input; anything else a UTF-8 file."""
    if path == "-":
        yield sys.stdin
        return
    try:
        with Path(path).open(encoding="utf-8") as handle:
            yield handle
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None


def _parse_lines(source: TextIO, convert: Callable[[dict[str, Any]], _T]) -> list[_T]:
    """Convert every JSON line, or fail naming the first bad line (never its content)."""
    converted: list[_T] = []
    for line_no, obj in iter_json_lines(source):
        try:
            converted.append(convert(obj))
        except JsonInputError as exc:
            raise exc.at_line(line_no) from None
    return converted


async def produce_custody(config: GuardConfig, path: str) -> int:
    """Encode JSON-lines custody events and send them to the custody topic."""
    with open_input(path) as source:
        events = _parse_lines(source, custody_event_from_json)
    encode = await custody_encoder(config)  # schemaless, or the registry's wire format
    payloads = [encode(event) for event in events]
    await send_custody(config, payloads)
    return len(payloads)


async def import_registry(config: GuardConfig, path: str) -> int:
    """Blind each entry of a JSON-lines file and write it to the registry in one transaction."""
    blinder = registry_blinder(config)
    with open_input(path) as source:
        records = _parse_lines(source, lambda obj: _registry_record(blinder, obj))
    await write_registry(config, records)
    return len(records)


def _registry_record(blinder: Blinder, obj: dict[str, Any]) -> ProtectionRecord:
    """One import line as a blinded record; a refusal names the field, never the value."""
    entry = registry_entry_from_json(obj)
    try:
        return blind_entry(blinder, entry)
    except InvalidIdentifier as problem:
        raise JsonInputError(None, _ENTRY_FIELDS.get(problem.field), problem.problem) from None
    except IdentityTooLarge as problem:
        raise JsonInputError(None, _ENTRY_FIELDS.get(problem.what), problem.problem) from None
    except EntryProtectsNobody as refused:
        raise JsonInputError(None, None, str(refused).removeprefix("registry entry: ")) from None


# Identity problems name subject fields; an import line names its lists.
_ENTRY_FIELDS = {
    "a_number": "a_numbers", "fbi_number": "fbi_numbers", "fins_number": "fins_numbers",
    "name": "names", "names": "names", "identity": None,
}  # fmt: skip
