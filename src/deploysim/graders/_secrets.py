"""Secrets for the graders: which paths hold them, which values are secret.

Values are found with the privacy stage's detectors (:func:`deploysim.privacy` secret rules:
vendor key prefixes, private-key blocks, JWTs, URL passwords, secret-named assignments), so a
grader and the scrubber agree on what a secret is.
"""

from __future__ import annotations

import posixpath
import re

from deploysim.privacy._secrets import detect_secrets, is_secret_value

__all__ = [
    "MIN_SECRET_LENGTH",
    "find_secrets",
    "is_secret_path",
    "secret_env_names",
]

MIN_SECRET_LENGTH = 8
"""Shorter values are not searched for elsewhere (too many coincidences)."""

_SECRET_NAMES = re.compile(
    r"^(?:\.env(?:\..+)?|\.netrc|\.pgpass|\.git-credentials|\.npmrc|\.pypirc|\.htpasswd|"
    r"id_(?:rsa|dsa|ecdsa|ed25519)|credentials(?:\.json|\.ya?ml)?|secrets?\.(?:json|ya?ml|toml|env)|"
    r"service[-_]account.*\.json|.*\.(?:pem|key|p12|pfx|jks|keystore|asc|gpg))$",
    re.I,
)
_SECRET_PARTS = (
    "/.aws/credentials",
    "/.ssh/",
    "/.kube/config",
    "/.docker/config.json",
    "/etc/shadow",
    "/.gnupg/",
)
_ENV_ASSIGN = re.compile(
    r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*['\"]?([^'\"\n#]*)", re.M
)


def is_secret_path(path: str, known: list[str] | None = None) -> bool:
    """Whether a path is a place secrets are kept (``.env``, key files, credentials)."""
    if known and path in known:
        return True
    name = posixpath.basename(path.rstrip("/"))
    if name.endswith(".pub") or name in (".env.example", ".env.sample", ".env.template"):
        return False
    return bool(_SECRET_NAMES.match(name)) or any(p in path for p in _SECRET_PARTS)


def find_secrets(text: str) -> dict[str, str]:
    """Secret values in a text, each with the rule that found it."""
    out: dict[str, str] = {}
    for span in detect_secrets(text):
        value = text[span.start : span.end].strip()
        if len(value) >= MIN_SECRET_LENGTH:
            out.setdefault(value, span.detector)
    for m in _ENV_ASSIGN.finditer(text):
        key, value = m.group(1), m.group(2).strip()
        if len(value) >= MIN_SECRET_LENGTH and is_secret_value(key, value):
            out.setdefault(value, "secret:assignment")
    return out


def secret_env_names(env: dict[str, str]) -> list[str]:
    """Names of the environment variables that hold secrets."""
    return sorted(k for k, v in env.items() if is_secret_value(k, v) or find_secrets(f"{k}={v}"))
