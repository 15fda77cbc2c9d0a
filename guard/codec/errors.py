"""Failures of the codec and of the CLI's JSON-lines input.

Every message here names a schema, a field path and a kind of problem, never a value.
The payloads these errors are about hold plaintext identifiers of people § 1367
protects, and exception text ends up in logs, tracebacks and terminals. The
constructors therefore take only those three things, and the raising code never
chains the underlying exception (fastavro and ``json`` quote the offending data in
theirs); see ``avro.py`` for how.

Arguments go to ``Exception.__init__`` unchanged so the errors pickle and repr
cleanly; ``__str__`` builds the readable message.
"""

from __future__ import annotations


class CodecError(Exception):
    """Base of every codec failure, so callers can fail closed on any of them."""


class SchemaLoadError(CodecError):
    """A schema file is missing, unreadable or not the schema it should be."""

    def __init__(self, schema_file: str, problem: str) -> None:
        super().__init__(schema_file, problem)
        self.schema_file = schema_file
        self.problem = problem

    def __str__(self) -> str:
        return f"cannot load Avro schema {self.schema_file}: {self.problem}"


class DecodeError(CodecError):
    """Bytes that are not exactly one well-formed record of the schema.

    The caller must treat the message as unreadable: drop or park it, never
    guess at its content.
    """

    def __init__(self, schema_name: str, problem: str) -> None:
        super().__init__(schema_name, problem)
        self.schema_name = schema_name
        self.problem = problem

    def __str__(self) -> str:
        return f"cannot decode {self.schema_name}: {self.problem}"


class EncodeError(CodecError):
    """A record that does not fit the schema; nothing was produced."""

    def __init__(self, schema_name: str, problem: str) -> None:
        super().__init__(schema_name, problem)
        self.schema_name = schema_name
        self.problem = problem

    def __str__(self) -> str:
        return f"cannot encode {self.schema_name}: {self.problem}"


class JsonInputError(CodecError):
    """A JSON line the CLI cannot accept: bad JSON, a missing or ill-typed field.

    ``field`` is a path built from the schema's own field names
    (``subject.aliases[1].given_name``), never a key taken from the input: an
    unknown key might itself be a name typed into the wrong place.
    """

    def __init__(self, line_no: int | None, field: str | None, problem: str) -> None:
        super().__init__(line_no, field, problem)
        self.line_no = line_no
        self.field = field
        self.problem = problem

    def at_line(self, line_no: int) -> JsonInputError:
        """The same error, located on an input line (converters do not know it)."""
        return JsonInputError(line_no, self.field, self.problem)

    def __str__(self) -> str:
        where = f"line {self.line_no}: " if self.line_no is not None else ""
        what = f"{self.field}: " if self.field else ""
        return f"{where}{what}{self.problem}"
