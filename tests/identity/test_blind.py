"""Blinding is a keyed, deterministic 32-byte digest; secrets load strictly and quietly."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from guard.identity.blind import Blinder, load_secret
from guard.identity.errors import KeyMaterialError

SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))


def test_blind_is_hmac_sha256_of_the_utf8_key() -> None:
    expected = hmac.new(SECRET, b"a:012345678", hashlib.sha256).digest()
    assert Blinder(SECRET, "k1").blind("a:012345678") == expected


def test_blind_is_deterministic_and_32_bytes() -> None:
    first, second = Blinder(SECRET, "k1"), Blinder(SECRET, "k1")
    assert first.blind("name:jose|1980-02-03") == second.blind("name:jose|1980-02-03")
    assert len(first.blind("x")) == 32


def test_blind_depends_on_the_secret_and_the_key() -> None:
    blinder = Blinder(SECRET, "k1")
    assert blinder.blind("a:012345678") != Blinder(OTHER_SECRET, "k1").blind("a:012345678")
    assert blinder.blind("a:012345678") != blinder.blind("a:012345679")


def test_blind_all_is_the_set_of_digests() -> None:
    blinder = Blinder(SECRET, "k1")
    assert blinder.blind_all(["a", "b", "a"]) == {blinder.blind("a"), blinder.blind("b")}


def test_blind_survives_a_lone_surrogate() -> None:
    assert len(Blinder(SECRET, "k1").blind("name:\ud800")) == 32


def test_short_secret_is_refused_by_the_blinder() -> None:
    with pytest.raises(KeyMaterialError):
        Blinder(b"x" * 31, "k1")


def test_repr_shows_the_key_id_not_the_secret() -> None:
    text = repr(Blinder(SECRET, "k1"))
    assert "k1" in text
    assert SECRET.hex() not in text
    assert repr(SECRET) not in text


def test_shares_secret_with() -> None:
    assert Blinder(SECRET, "a").shares_secret_with(Blinder(SECRET, "b"))
    assert not Blinder(SECRET, "a").shares_secret_with(Blinder(OTHER_SECRET, "a"))


@pytest.mark.parametrize(
    "written",
    [
        SECRET.hex(),
        SECRET.hex().upper(),
        f"  {SECRET.hex()}\n",
        "hex:" + SECRET.hex(),
        base64.b64encode(SECRET).decode(),
        "base64:" + base64.b64encode(SECRET).decode(),
        base64.urlsafe_b64encode(SECRET).decode(),
    ],
)
def test_load_secret_reads_hex_and_base64(written: str) -> None:
    assert load_secret(written, None, what="GUARD_BLINDING_KEY") == SECRET


def test_load_secret_reads_a_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "blinding.key"
    key_file.write_text(SECRET.hex() + "\n")
    key_file.chmod(0o600)
    assert load_secret(None, key_file, what="GUARD_BLINDING_KEY") == SECRET


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644, 0o660])
def test_a_key_file_others_may_access_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "blinding.key"
    key_file.write_text(SECRET.hex())
    key_file.chmod(mode)
    error = _refusal(None, key_file)
    assert f"mode {mode:04o}" in str(error)
    assert f"chmod 600 {key_file}" in str(error)
    assert SECRET.hex() not in str(error)


def test_ambiguous_text_is_read_as_hex_unless_prefixed() -> None:
    text = "ab" * 48  # 96 hex digits: also valid base64
    assert load_secret(text, None, what="K") == bytes.fromhex(text)
    assert load_secret("base64:" + text, None, what="K") == base64.b64decode(text)


def _refusal(value: str | None, file: Path | None) -> KeyMaterialError:
    with pytest.raises(KeyMaterialError) as raised:
        load_secret(value, file, what="GUARD_TEST_KEY")
    assert "GUARD_TEST_KEY" in str(raised.value)
    assert raised.value.__cause__ is None
    return raised.value


def test_missing_secret_is_refused() -> None:
    assert "not set" in str(_refusal(None, None))


def test_secret_given_twice_is_refused(tmp_path: Path) -> None:
    assert "both" in str(_refusal(SECRET.hex(), tmp_path / "k"))


def test_unreadable_key_file_is_refused(tmp_path: Path) -> None:
    assert "cannot read" in str(_refusal(None, tmp_path / "absent.key"))


def test_binary_key_file_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "binary.key"
    key_file.write_bytes(b"\xff" * 40)
    key_file.chmod(0o600)
    _refusal(None, key_file)


@pytest.mark.parametrize("written", ["", "   ", "not a secret!", "hex:zz", "base64:@@@@"])
def test_undecodable_secret_is_refused_without_quoting_it(written: str) -> None:
    error = _refusal(written, None)
    if written.strip():
        assert written.strip() not in str(error)


@pytest.mark.parametrize("length", [1, 16, 31])
def test_short_secret_is_refused_without_quoting_it(length: int) -> None:
    secret = bytes(range(100, 100 + length))
    for written in (secret.hex(), base64.b64encode(secret).decode()):
        error = _refusal(written, None)
        assert "32 bytes" in str(error)
        assert written not in str(error) and written not in repr(error)
