"""Reading a file that holds a secret, refusing it when others could read it too.

A key or password file that its group or other users can open is a secret
shared with them, whatever the operator meant. Like ssh with a private key,
the guard refuses such a file at start-up instead of using it, and says how
to fix it. The rule is checked on the file the path resolves to, so a
Kubernetes Secret mounted through symlinks is judged by its real mode.

Only secrets go through here: blinding keys, the SASL password, the TLS
private key. Certificates and CA bundles are public and may be world-readable.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_SHARED_BITS = stat.S_IRWXG | stat.S_IRWXO


class PrivateFileError(Exception):
    """The file cannot be used as a secret; the message says why and how to fix it.

    Names the path and the mode, never any of the content.
    """


def check_private_file(path: Path) -> None:
    """Refuse ``path`` unless it is a regular file only its owner may access.

    Raises:
        PrivateFileError: missing, not a regular file, or any group/other
            permission bit set (the message gives the ``chmod`` that fixes it).
    """
    try:
        info = os.stat(path)
    except OSError as error:
        raise PrivateFileError(f"cannot read {path} ({type(error).__name__})") from None
    if not stat.S_ISREG(info.st_mode):
        raise PrivateFileError(f"{path} is not a regular file")
    if info.st_mode & _SHARED_BITS:
        mode = stat.S_IMODE(info.st_mode)
        raise PrivateFileError(
            f"{path} is accessible by group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}"
        )


def read_private_file(path: Path) -> bytes:
    """The bytes of a secret file, after :func:`check_private_file`.

    Raises:
        PrivateFileError: as :func:`check_private_file`, or the file cannot be read.
    """
    check_private_file(path)
    try:
        return path.read_bytes()
    except OSError as error:
        raise PrivateFileError(f"cannot read {path} ({type(error).__name__})") from None
