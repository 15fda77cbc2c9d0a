"""Can a reader schema read what a writer schema wrote? Decided from the schemas alone.

Avro's resolution rules (the specification's "Schema Resolution") let a
reader read data written under another schema: fields are matched by name
(or a reader alias), writer-only fields are skipped, reader-only fields take
their default, numbers may widen, an enum symbol the reader lacks becomes the
reader's default. fastavro applies those rules while it reads, one datum at
a time, so a mismatch inside a union branch or an enum symbol shows only when
an event happens to use it, and it compares named types by name only. The
guard must not accept one event of a writer schema and refuse the next for a
reason that was knowable up front, so this module decides once per writer
schema, over the whole schema, before any event of it is read.

It is also what the start-up check uses for BACKWARD compatibility (the
guard's new output schema, as reader, must read the latest registered one),
because the registry's own answer depends on the compatibility level the
operator set (Apicurio's default, NONE, accepts anything).

Beyond the specification, two rules follow fastavro's behaviour:

* **Logical types must agree.** fastavro converts a value by the *writer's*
  logical type, so a writer ``long`` read into a reader
  ``timestamp-millis`` field would hand the guard a bare integer.
* **A union is resolved into the first reader branch of the same kind**, as
  fastavro picks it; that branch must then be fully readable.

Problems are described with the reader's field names and fixed words only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "enum", "fixed", "error"})
_PROMOTIONS = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}
_CONVERTED_LOGICAL_TYPES = frozenset(
    {
        "date",
        "time-millis",
        "time-micros",
        "timestamp-millis",
        "timestamp-micros",
        "local-timestamp-millis",
        "local-timestamp-micros",
        "decimal",
        "uuid",
    }
)
"""Logical types fastavro converts on read; any other is read as its underlying type."""


@dataclass(frozen=True, slots=True)
class Compatibility:
    """The verdict for one (reader, writer) pair."""

    problems: tuple[str, ...]
    """Why the reader cannot read the writer's data; empty when it can."""
    defaulted: frozenset[str] = field(default_factory=frozenset)
    """Dotted reader field paths the writer does not have, filled by the reader's default."""

    @property
    def is_compatible(self) -> bool:
        return not self.problems


class _Names:
    """Named types of one schema by full name (and by short name, as a fallback)."""

    def __init__(self, schema: Any) -> None:
        self.by_name: dict[str, Mapping[str, Any]] = {}
        self._collect(schema, "")

    def _collect(self, schema: Any, namespace: str) -> None:
        if isinstance(schema, list):
            for branch in schema:
                self._collect(branch, namespace)
            return
        if not isinstance(schema, Mapping):
            return
        kind = schema.get("type")
        if kind in _NAMED:
            full = _full_name(schema, namespace)
            self.by_name.setdefault(full, schema)
            self.by_name.setdefault(full.rsplit(".", 1)[-1], schema)
            namespace = full.rpartition(".")[0]
            for item in schema.get("fields", ()):
                if isinstance(item, Mapping):
                    self._collect(item.get("type"), namespace)
        elif kind in ("array", "map"):
            self._collect(schema.get("items" if kind == "array" else "values"), namespace)
        elif isinstance(kind, (Mapping, list)):
            self._collect(kind, namespace)

    def resolve(self, schema: Any) -> Any:
        """A schema with a type-name reference replaced by the named type it names."""
        if isinstance(schema, str) and schema not in _PRIMITIVES:
            found = self.by_name.get(schema) or self.by_name.get(schema.rsplit(".", 1)[-1])
            return found if found is not None else schema
        if isinstance(schema, Mapping):
            kind = schema.get("type")
            if isinstance(kind, (Mapping, list)) or (
                isinstance(kind, str) and kind not in _PRIMITIVES | _NAMED | {"array", "map"}
            ):
                return self.resolve(kind)
        return schema


def _full_name(schema: Mapping[str, Any], namespace: str) -> str:
    name = str(schema.get("name", ""))
    if "." in name:
        return name
    own = schema.get("namespace", namespace) or ""
    return f"{own}.{name}" if own else name


def _kind(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, Mapping):
        kind = schema.get("type")
        return kind if isinstance(kind, str) else "unknown"
    return schema if isinstance(schema, str) else "unknown"


def _logical(schema: Any) -> str | None:
    if isinstance(schema, Mapping):
        logical = schema.get("logicalType")
        if logical in _CONVERTED_LOGICAL_TYPES:
            return str(logical)
    return None


def _short(name: Any) -> str:
    return str(name).rsplit(".", 1)[-1]


def check_compatibility(reader: Any, writer: Any) -> Compatibility:
    """Whether every datum ``writer`` can produce is readable by ``reader`` (raw JSON schemas)."""
    checker = _Checker(_Names(reader), _Names(writer))
    problems = list(checker.check(reader, writer, ()))
    return Compatibility(tuple(dict.fromkeys(problems)), frozenset(checker.defaulted))


class _Checker:
    def __init__(self, reader_names: _Names, writer_names: _Names) -> None:
        self._reader_names = reader_names
        self._writer_names = writer_names
        self._in_progress: set[tuple[int, int]] = set()
        self.defaulted: set[str] = set()

    def check(self, reader: Any, writer: Any, path: tuple[str, ...]) -> Iterator[str]:
        reader = self._reader_names.resolve(reader)
        writer = self._writer_names.resolve(writer)
        pair = (id(reader), id(writer))
        if pair in self._in_progress:
            return  # a recursive type already being checked
        self._in_progress.add(pair)
        try:
            yield from self._check(reader, writer, path)
        finally:
            self._in_progress.discard(pair)

    def _check(self, reader: Any, writer: Any, path: tuple[str, ...]) -> Iterator[str]:
        where = ".".join(path) or "(top level)"
        r_kind, w_kind = _kind(reader), _kind(writer)
        if w_kind == "union":
            for branch in writer:
                yield from self.check(reader, branch, path)
            return
        if r_kind == "union":
            chosen = self._union_branch(reader, writer)
            if chosen is None:
                yield f"{where}: a type the writer uses is in no branch of the reader's union"
            else:
                yield from self.check(chosen, writer, path)
            return
        if not self._same_kind(reader, writer):
            yield f"{where}: the writer's {w_kind} cannot be read as {r_kind}"
            return
        if _logical(reader) != _logical(writer):
            yield f"{where}: logical types differ"
            return
        if r_kind in ("record", "error"):
            yield from self._record(reader, writer, path)
        elif r_kind == "enum":
            symbols = set(reader.get("symbols", ()))
            missing = [s for s in writer.get("symbols", ()) if s not in symbols]
            if missing and reader.get("default") not in symbols:
                yield f"{where}: the writer has enum symbols the reader lacks, and no default"
        elif r_kind == "fixed":
            if reader.get("size") != writer.get("size"):
                yield f"{where}: fixed sizes differ"
        elif r_kind == "array":
            yield from self.check(reader.get("items"), writer.get("items"), (*path, "[]"))
        elif r_kind == "map":
            yield from self.check(reader.get("values"), writer.get("values"), (*path, "{}"))

    def _record(
        self, reader: Mapping[str, Any], writer: Mapping[str, Any], path: tuple[str, ...]
    ) -> Iterator[str]:
        writer_fields = {f["name"]: f for f in writer.get("fields", ()) if isinstance(f, Mapping)}
        for reader_field in reader.get("fields", ()):
            name = reader_field["name"]
            names = (name, *reader_field.get("aliases", ()))
            found = next((writer_fields[n] for n in names if n in writer_fields), None)
            if found is None:
                if "default" not in reader_field:
                    yield f"{'.'.join((*path, name))}: missing from the writer, and no default"
                else:
                    self.defaulted.add(".".join((*path, name)))
                continue
            yield from self.check(reader_field["type"], found["type"], (*path, name))

    def _same_kind(self, reader: Any, writer: Any) -> bool:
        """fastavro's shallow match: equal or promotable primitives, same-named types."""
        r_kind, w_kind = _kind(reader), _kind(writer)
        if r_kind in _NAMED or w_kind in _NAMED:
            if r_kind != w_kind:
                return False
            names = {_short(reader.get("name")), *map(_short, reader.get("aliases", ()))}
            aliases = set(reader.get("aliases", ()))
            return _short(writer.get("name")) in names or writer.get("name") in aliases
        if r_kind == w_kind:
            return True
        return r_kind in _PROMOTIONS.get(w_kind, frozenset())

    def _union_branch(self, reader: list[Any], writer: Any) -> Any | None:
        for branch in reader:
            resolved = self._reader_names.resolve(branch)
            if _kind(resolved) != "union" and self._same_kind(resolved, writer):
                return resolved
        return None
