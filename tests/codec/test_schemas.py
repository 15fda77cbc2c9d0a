"""Schema discovery, parsing and the facts the codec derives from the schemas."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from guard.codec.errors import SchemaLoadError
from guard.codec.schemas import SCHEMA_DIR_ENV, SchemaName, ValueKind, load_schema, schema_dir
from guard.registry.model import ProtectionBasis, ProtectionStatus

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    load_schema.cache_clear()
    yield
    load_schema.cache_clear()


def _symbols(schema: object, enum_name: str) -> list[str]:
    """Find a named enum anywhere in a raw schema."""
    if isinstance(schema, dict):
        if schema.get("type") == "enum" and schema.get("name") == enum_name:
            return list(schema["symbols"])
        for value in schema.values():
            found = _symbols(value, enum_name)
            if found:
                return found
    if isinstance(schema, list):
        for item in schema:
            found = _symbols(item, enum_name)
            if found:
                return found
    return []


@pytest.mark.parametrize("name", list(SchemaName))
def test_every_schema_loads_from_the_repository(name: SchemaName) -> None:
    loaded = load_schema(name)
    assert loaded.name is name
    assert f"{loaded.raw['namespace']}.{loaded.raw['name']}" == name.full_name
    assert (schema_dir() / f"{name.value}.avsc").is_file()


def test_schemas_are_parsed_once() -> None:
    assert load_schema(SchemaName.CUSTODY_EVENT) is load_schema(SchemaName.CUSTODY_EVENT)


def test_checked_fields_cover_timestamps_and_integers_at_any_depth() -> None:
    def checked(name: SchemaName) -> set[tuple[tuple[str, ...], ValueKind]]:
        return {(field.path, field.kind) for field in load_schema(name).checked_fields}

    assert checked(SchemaName.CUSTODY_EVENT) == {
        (("occurred_at",), ValueKind.TIMESTAMP),
        (("custody", "status_changed_at"), ValueKind.TIMESTAMP),
    }
    assert checked(SchemaName.GUARD_DECISION) == {
        (("input_partition",), ValueKind.INT),
        (("input_offset",), ValueKind.LONG),
        (("registry_offsets", "*"), ValueKind.LONG),
        (("decided_at",), ValueKind.TIMESTAMP),
    }
    assert checked(SchemaName.HELD_EVENT) == {
        (("input_partition",), ValueKind.INT),
        (("input_offset",), ValueKind.LONG),
        (("registry_offsets", "*"), ValueKind.LONG),
        (("held_at",), ValueKind.TIMESTAMP),
        (("event_size",), ValueKind.INT),
    }
    assert checked(SchemaName.PROTECTION_RECORD) == {
        (("created_at",), ValueKind.TIMESTAMP),
        (("updated_at",), ValueKind.TIMESTAMP),
    }


def test_the_custody_status_list_matches_both_schemas() -> None:
    """One list in the code (guard.decision.event); both schemas must agree with it."""
    from guard.decision.event import CUSTODY_STATUSES

    custody = load_schema(SchemaName.CUSTODY_EVENT).raw
    public = load_schema(SchemaName.PUBLIC_NOTICE).raw
    assert _symbols(custody, "CustodyStatus") == list(CUSTODY_STATUSES)
    assert _symbols(public, "PublicCustodyStatus") == list(CUSTODY_STATUSES)


def test_decision_and_match_strength_enums_match_the_audit_schema() -> None:
    from guard.decision.verdict import MatchStrength
    from guard.policy.model import Decision

    raw = load_schema(SchemaName.GUARD_DECISION).raw
    assert _symbols(raw, "Decision") == [member.value for member in Decision]
    assert _symbols(raw, "MatchStrength") == [member.value for member in MatchStrength]


def test_registry_model_enums_match_the_schema() -> None:
    raw = load_schema(SchemaName.PROTECTION_RECORD).raw
    assert _symbols(raw, "ProtectionBasis") == [member.value for member in ProtectionBasis]
    assert _symbols(raw, "ProtectionStatus") == [member.value for member in ProtectionStatus]


def test_env_var_overrides_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    shutil.copytree(REPO_SCHEMAS, tmp_path / "s")
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(tmp_path / "s"))
    assert schema_dir() == tmp_path / "s"
    assert load_schema(SchemaName.GUARD_DECISION).raw["name"] == "GuardDecision"


def test_missing_schema_file_is_a_schema_load_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(tmp_path))
    with pytest.raises(SchemaLoadError, match="unreadable"):
        load_schema(SchemaName.PUBLIC_NOTICE)


def test_wrong_schema_under_a_name_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    shutil.copy(
        REPO_SCHEMAS / "guard_decision.avsc", tmp_path / f"{SchemaName.PUBLIC_NOTICE.value}.avsc"
    )
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(tmp_path))
    with pytest.raises(SchemaLoadError, match=r"expected gov\.custody\.public\.v1"):
        load_schema(SchemaName.PUBLIC_NOTICE)


def test_timestamps_inside_arrays_and_unions_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    raw = json.loads((REPO_SCHEMAS / "guard_decision.avsc").read_text())
    millis = {"type": "long", "logicalType": "timestamp-millis"}
    raw["fields"].append({"name": "history", "type": {"type": "array", "items": millis}})
    raw["fields"].append({"name": "expires_at", "type": ["null", millis], "default": None})
    (tmp_path / "guard_decision.avsc").write_text(json.dumps(raw))
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(tmp_path))
    kinds = {f.path: f.kind for f in load_schema(SchemaName.GUARD_DECISION).checked_fields}
    assert kinds[("history", "*")] is ValueKind.TIMESTAMP
    assert kinds[("expires_at",)] is ValueKind.TIMESTAMP


def test_invalid_json_schema_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache: None
) -> None:
    (tmp_path / "protection_record.avsc").write_text("{not json")
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(tmp_path))
    with pytest.raises(SchemaLoadError, match="not valid JSON"):
        load_schema(SchemaName.PROTECTION_RECORD)
