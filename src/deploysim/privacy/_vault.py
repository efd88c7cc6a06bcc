"""The dataset key file and the encrypted vault (the real-to-fake map), kept apart from data.

The key file holds 32 random bytes as hex. The vault is a small JSON envelope whose only
payload is a Fernet token (AES-128-CBC + HMAC-SHA256, from ``cryptography``) sealed with a
key derived from the dataset key by HKDF-SHA256; without the key file the vault reveals
nothing but its own size. The vault is written only where asked, never beside the output
unless the caller puts it there.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from deploysim.privacy._errors import VaultError
from deploysim.privacy._pseudonymizer import Pseudonymizer, VaultEntry

__all__ = ["create_key_file", "load_key", "load_vault", "open_pseudonymizer", "save_vault"]

_FORMAT = "deploysim-vault/1"
_ENTRIES = TypeAdapter(list[VaultEntry])


def create_key_file(path: str | Path) -> bytes:
    """Write a new random 32-byte key (hex, mode 0600) to ``path``; refuse to overwrite."""
    p = Path(path)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise VaultError(f"{p}: key file exists already; not overwriting it") from e
    except OSError as e:
        raise VaultError(f"{p}: cannot create key file: {e.strerror}") from e
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
    return key


def load_key(path: str | Path) -> bytes:
    """Read a dataset key: hex (as :func:`create_key_file` writes) or base64, >= 16 bytes."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise VaultError(f"{p}: cannot read key file: {e.strerror}") from e
    key: bytes | None = None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        try:
            key = base64.b64decode(text, validate=True)
        except ValueError:
            key = None
    if key is None or len(key) < 16:
        raise VaultError(f"{p}: not a key file (expected at least 16 bytes as hex or base64)")
    return key


def _fernet(key: bytes) -> object:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"deploysim/vault/v1"
    ).derive(key)
    return Fernet(base64.urlsafe_b64encode(derived))


def save_vault(path: str | Path, key: bytes, entries: Iterable[VaultEntry]) -> int:
    """Seal ``entries`` with ``key`` into ``path`` (atomically); return how many."""
    from cryptography.fernet import Fernet

    items = list(entries)
    fernet = _fernet(key)
    assert isinstance(fernet, Fernet)
    payload = _ENTRIES.dump_json(items)
    envelope = {
        "format": _FORMAT,
        "kdf": "HKDF-SHA256",
        "cipher": "Fernet",
        "token": fernet.encrypt(payload).decode("ascii"),
    }
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(envelope, f)
        f.write("\n")
    tmp.replace(p)
    return len(items)


def load_vault(path: str | Path, key: bytes) -> list[VaultEntry]:
    """Open a vault written by :func:`save_vault` with the same key."""
    from cryptography.fernet import Fernet, InvalidToken

    p = Path(path)
    try:
        envelope = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise VaultError(f"{p}: cannot read vault: {e.strerror}") from e
    except ValueError as e:
        raise VaultError(f"{p}: not a vault file (not JSON)") from e
    if not isinstance(envelope, dict) or envelope.get("format") != _FORMAT:
        raise VaultError(f"{p}: not a vault file (format is not {_FORMAT!r})")
    fernet = _fernet(key)
    assert isinstance(fernet, Fernet)
    try:
        payload = fernet.decrypt(str(envelope.get("token", "")).encode("ascii"))
    except InvalidToken as e:
        raise VaultError(f"{p}: cannot open vault: wrong key file, or the vault is damaged") from e
    try:
        return _ENTRIES.validate_json(payload)
    except ValidationError as e:
        raise VaultError(f"{p}: vault content is malformed: {e.error_count()} bad entries") from e


def open_pseudonymizer(
    key_file: str | Path | None, vault: str | Path | None, *, create_key: bool = True
) -> Pseudonymizer:
    """A pseudonymizer from a key file (created if missing) and an existing vault, if any.

    Without a key file the key is random: pseudonyms are consistent within the run only,
    and no vault can be written.

    Raises:
        VaultError: a vault is asked for without a key file, or a file is unreadable.
    """
    if key_file is None:
        if vault is not None:
            raise VaultError("a vault needs a key file: pass --key-file too")
        return Pseudonymizer(secrets.token_bytes(32))
    kp = Path(key_file)
    key = load_key(kp) if kp.exists() or not create_key else create_key_file(kp)
    entries = load_vault(vault, key) if vault is not None and Path(vault).exists() else []
    return Pseudonymizer(key, entries)
