"""The CLI: expected failures are one line on stderr and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from guard.cli.main import main


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("guard: error: ")
    return err


def test_bad_configuration_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARD_BATCH_MAX", "zero")
    assert main(["worker"]) == 2
    assert "GUARD_BATCH_MAX" in _one_error_line(capsys)


def test_missing_blinding_key_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GUARD_BLINDING_KEY", raising=False)
    monkeypatch.delenv("GUARD_BLINDING_KEY_FILE", raising=False)
    assert main(["worker"]) == 2
    assert "GUARD_BLINDING_KEY" in _one_error_line(capsys)


def test_short_key_is_refused_without_echoing_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARD_BLINDING_KEY", "c0ffee" * 4)
    monkeypatch.setenv("GUARD_SUBJECT_REF_KEY", "ab" * 32)
    assert main(["worker"]) == 2
    line = _one_error_line(capsys)
    assert "c0ffee" not in line


def test_bad_import_line_names_the_line_not_the_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARD_BLINDING_KEY", "ab" * 32)
    source = tmp_path / "registry.jsonl"
    source.write_text(
        '{"record_id": "r1", "basis": "U_VISA", "a_numbers": ["A-012-345-678"]}\n'
        '{"record_id": "r2", "basis": "NOT_A_BASIS", "a_numbers": ["A-098-765-432"]}\n'
    )
    assert main(["registry", "import", str(source)]) == 2
    line = _one_error_line(capsys)
    assert "line 2" in line
    assert "098" not in line


def test_missing_input_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARD_BLINDING_KEY", "ab" * 32)
    assert main(["produce", str(tmp_path / "absent.jsonl")]) == 2
    assert "no such file" in _one_error_line(capsys)


def test_unreachable_broker_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARD_BLINDING_KEY", "ab" * 32)
    monkeypatch.setenv("GUARD_SUBJECT_REF_KEY", "cd" * 32)
    monkeypatch.setenv("GUARD_BROKERS", "127.0.0.1:1")
    assert main(["worker"]) == 2
    assert "cannot reach Kafka" in _one_error_line(capsys)


def test_equal_blinding_and_subject_keys_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUARD_BLINDING_KEY", "ab" * 32)
    monkeypatch.setenv("GUARD_SUBJECT_REF_KEY", "ab" * 32)
    assert main(["worker"]) == 2
    line = _one_error_line(capsys)
    assert "must differ" in line
    assert "abab" not in line
