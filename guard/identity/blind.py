"""Keyed blinding: identifier keys become HMAC-SHA256 digests.

A plain hash of an A-number can be reversed by hashing all billion
A-numbers; an HMAC under a secret key cannot, as long as the key stays
secret. The registry topic and the audit trail only ever hold these digests.

Two independent keys exist on purpose: the registry blinding key, and the
subject-reference key that makes the public ``subject_ref``. Were they one
key, a public reference would equal a registry digest and the public feed
could be joined against a leaked registry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from pathlib import Path

from guard.identity.errors import KeyMaterialError
from guard.secretfiles import PrivateFileError, read_private_file

MIN_SECRET_BYTES = 32
"""As long as the HMAC-SHA256 output: a shorter key weakens the construction."""

DIGEST_BYTES = hashlib.sha256().digest_size

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


class Blinder:
    """HMAC-SHA256 under one secret, named by ``key_id`` so keys can be rotated.

    Holds the secret in a slot and never shows it: ``repr`` names the key id.
    """

    __slots__ = ("_keyed", "_secret", "key_id")

    def __init__(self, secret: bytes, key_id: str) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise KeyMaterialError(
                f"secret of blinding key {key_id!r}",
                f"shorter than {MIN_SECRET_BYTES} bytes",
            )
        self._secret = bytes(secret)
        self.key_id = key_id
        # HMAC hashes the key's inner and outer pads before any message;
        # ``hmac.digest`` redoes that on every call. A keyed HMAC object,
        # copied per digest, does it once: several times cheaper at several
        # keys per event. It is as secret as the key: a slot, never shown.
        self._keyed = hmac.new(self._secret, digestmod=hashlib.sha256)

    def blind(self, key: str) -> bytes:
        """The 32-byte digest of one canonical key string: HMAC-SHA256(secret, key)."""
        # surrogatepass: a string with a lone surrogate still gets a
        # deterministic digest instead of an exception halfway through a decision.
        mac = self._keyed.copy()
        mac.update(key.encode("utf-8", "surrogatepass"))
        return mac.digest()

    def blind_all(self, keys: Iterable[str]) -> frozenset[bytes]:
        return frozenset(self.blind(key) for key in keys)

    def shares_secret_with(self, other: Blinder) -> bool:
        """True when both blinders use the same secret (compared in constant time)."""
        return hmac.compare_digest(self._secret, other._secret)

    def __repr__(self) -> str:
        return f"Blinder(key_id={self.key_id!r})"


def load_secret(value: str | None, file: Path | None, *, what: str) -> bytes:
    """Read a secret given either as a value (an environment variable) or in a key file.

    The text is hex or base64 (standard or URL-safe alphabet); ``hex:`` or
    ``base64:`` in front removes the ambiguity of a string that is both.
    Without a prefix, an even-length run of hex digits is read as hex.

    Raises:
        KeyMaterialError: naming ``what`` and the problem, never the secret:
            missing, given twice, unreadable, undecodable, or shorter than
            32 bytes.
    """
    if value is not None and file is not None:
        raise KeyMaterialError(what, "given both as a value and as a key file; give one")
    if value is not None:
        text = value
    elif file is not None:
        text = _read_key_file(file, what)
    else:
        raise KeyMaterialError(what, "not set (give the value or a key file)")
    secret = _decode_secret(text.strip(), what)
    if len(secret) < MIN_SECRET_BYTES:
        raise KeyMaterialError(what, f"shorter than {MIN_SECRET_BYTES} bytes once decoded")
    return secret


def _read_key_file(file: Path, what: str) -> str:
    try:
        raw = read_private_file(file)
    except PrivateFileError as problem:
        raise KeyMaterialError(what, f"key file {problem}") from None
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise KeyMaterialError(what, f"key file {file} is not hex or base64 text") from None


def _decode_secret(text: str, what: str) -> bytes:
    if not text:
        raise KeyMaterialError(what, "is empty")
    try:
        if text.startswith("hex:"):
            return bytes.fromhex(text.removeprefix("hex:"))
        if text.startswith("base64:"):
            return _decode_base64(text.removeprefix("base64:"))
        if _HEX.fullmatch(text):
            return bytes.fromhex(text)
        return _decode_base64(text)
    except (ValueError, binascii.Error):
        # The decoder's message may quote part of the secret: never chain it.
        raise KeyMaterialError(what, "is neither hex nor base64") from None


def _decode_base64(text: str) -> bytes:
    if "-" in text or "_" in text:
        return base64.b64decode(text, altchars=b"-_", validate=True)
    return base64.b64decode(text, validate=True)


def qualified_key_id(label: str, secret: bytes) -> str:
    """``label`` plus a check value of the secret, e.g. ``k1.3f9a02c1``.

    Registry records carry the id of the key that blinded them, and the
    reader refuses records under any other id. With the check value in the
    id, a worker started with the right label but a wrong secret refuses the
    registry (and holds) instead of silently matching nobody. The check value
    is an HMAC of a fixed string: it reveals nothing about the secret.
    """
    check = hmac.new(secret, b"disclosure-guard/key-check", hashlib.sha256).hexdigest()[:8]
    return f"{label}.{check}"
