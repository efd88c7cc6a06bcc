"""Secret detection: known key prefixes, private-key blocks, JWTs, URL passwords, key=value.

The most precise detector, so it runs first and wins overlaps. Rules come from the shapes
vendors document (and gitleaks encodes); generic rules only fire beside a secret-like key
name and, for tokens, only on high-entropy values, so hashes, ids and versions survive.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import NamedTuple

from deploysim.privacy._types import Span

__all__ = [
    "SECRET_KEY_NAME",
    "SecretRule",
    "detect_secrets",
    "is_placeholder",
    "is_secret_value",
    "shannon_entropy",
]


class SecretRule(NamedTuple):
    """A named secret pattern; ``group`` is the regex group holding the secret itself."""

    name: str
    pattern: re.Pattern[str]
    group: int = 0


_B = r"(?<![A-Za-z0-9_-])"  # start boundary for prefixed tokens
_E = r"(?![A-Za-z0-9_-])"

RULES: tuple[SecretRule, ...] = (
    SecretRule(
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"[\s\S]{16,}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        ),
    ),
    SecretRule(
        "jwt",
        re.compile(_B + r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{0,}" + _E),
    ),
    SecretRule("anthropic", re.compile(_B + r"sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{20,}" + _E)),
    SecretRule("openai", re.compile(_B + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}" + _E)),
    SecretRule("stripe", re.compile(_B + r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}" + _E)),
    SecretRule(
        "github", re.compile(_B + r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})" + _E)
    ),
    SecretRule("gitlab", re.compile(_B + r"glpat-[A-Za-z0-9_-]{20,}" + _E)),
    SecretRule("slack", re.compile(_B + r"xox[abposr]-[A-Za-z0-9-]{10,}" + _E)),
    SecretRule(
        "aws-access-key-id",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    ),
    SecretRule("google-api-key", re.compile(_B + r"AIza[0-9A-Za-z_-]{35}" + _E)),
    SecretRule("huggingface", re.compile(_B + r"hf_[A-Za-z0-9]{30,}" + _E)),
    SecretRule("npm", re.compile(_B + r"npm_[A-Za-z0-9]{36}" + _E)),
    SecretRule("sendgrid", re.compile(_B + r"SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}" + _E)),
    # Webhook URLs: the path is the credential (anyone holding it can post).
    SecretRule(
        "slack-webhook",
        re.compile(
            r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/-]{20,})"
        ),
        1,
    ),
    SecretRule(
        "discord-webhook",
        re.compile(
            r"https?://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/(\d+/[A-Za-z0-9_-]{20,})"
        ),
        1,
    ),
    SecretRule(
        "teams-webhook",
        re.compile(r"https?://[\w.-]+\.webhook\.office\.com/(webhookb2/[^\s\"'<>]{20,})"),
        1,
    ),
    SecretRule(
        "url-password",
        re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"]+:([^\s@/'\"]{3,})@[A-Za-z0-9.-]+"),
        1,
    ),
    SecretRule(
        "bearer",
        re.compile(r"\b(?:Bearer|Token|Basic)\s+([A-Za-z0-9._~+/-]{16,}=*)(?![A-Za-z0-9._~+/=-])"),
        1,
    ),
)

# Names of fields and variables that hold secrets. "token" alone is too common in LLM
# payloads (max_tokens, prompt_tokens) to count without a high-entropy value.
SECRET_KEY_NAME = re.compile(
    r"(?i)(?:^|[_.-])(?:pass(?:word|wd|phrase)?|pwd|secret|client[_-]?secret|api[_-]?key|"
    r"apikey|access[_-]?key|secret[_-]?key|private[_-]?key|auth[_-]?token|access[_-]?token|"
    r"refresh[_-]?token|session[_-]?token|bearer|authorization|credentials?|token)(?:$|[_.-])"
)
_PASSWORD_NAME = re.compile(r"(?i)(?:^|[_.-])(?:pass(?:word|wd|phrase)?|pwd)(?:$|[_.-])")
_COUNT_NAME = re.compile(r"(?i)tokens$|_count$|^max_|_type$|_len(?:gth)?$|_id$")

_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9])(?P<key>[A-Za-z_][A-Za-z0-9_.-]{1,60})[ \t]*(?:=|:)[ \t]*"
    r"(?P<q>[\"']?)(?P<value>[^\s\"',;&]{4,})(?P=q)"
)
_PLACEHOLDER = re.compile(
    r"(?i)^(?:\*+|x{3,}|\.{3,}|<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%\(?[a-z_]*\)?s?|"
    r"\{\{.*\}\}|null|none|true|false|changeme|redacted|\[redacted\]|your[_-].*|example.*|"
    r"dummy|placeholder|test|password|secret|string|required|optional|undefined)$"
)


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s character distribution."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def is_placeholder(value: str) -> bool:
    """True for values that stand in for a secret (``***``, ``${TOKEN}``, ``<your-key>``)."""
    return bool(_PLACEHOLDER.match(value.strip()))


def is_secret_value(key: str, value: str) -> bool:
    """Whether ``value`` stored under the field or variable ``key`` is a secret.

    Passwords count whatever they look like; other secret-named fields need a value that
    looks random (long, mixed, high entropy), so ``token_type: "bearer"`` and counts survive.
    """
    if not SECRET_KEY_NAME.search(key) or is_placeholder(value) or len(value) < 4:
        return False
    if _PASSWORD_NAME.search(key):
        return not any(ch.isspace() for ch in value.strip())
    if _COUNT_NAME.search(key):
        return False
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
        )
    )
    return len(value) >= 12 and classes >= 2 and shannon_entropy(value) >= 3.0


# Other services' webhook and capability URLs: a path segment named hook(s)/webhook(s),
# or a trigger/callback path, followed by a random token (the entropy test keeps
# "/webhooks/github-events" and "/hooks/42" out).
_HOOK_URL = re.compile(
    r"https?://[^\s/\"'<>]+/(?:[^\s\"'<>?#]*/)?(?:webhooks?|hooks?|triggers?|callbacks?)/"
    r"([^\s\"'<>?#]{16,})"
)


def _random_token(value: str) -> bool:
    longest = max((p for p in re.split(r"[/_.-]", value)), key=len, default="")
    classes = sum(
        (
            any(c.islower() for c in longest),
            any(c.isupper() for c in longest),
            any(c.isdigit() for c in longest),
        )
    )
    return len(longest) >= 16 and classes >= 2 and shannon_entropy(longest) >= 3.5


def detect_secrets(text: str) -> list[Span]:
    """Spans of secrets in ``text`` (may overlap; the caller resolves overlaps)."""
    spans: list[Span] = []
    for rule in RULES:
        for m in rule.pattern.finditer(text):
            start, end = m.span(rule.group)
            spans.append(Span(start, end, "SECRET", f"secret:{rule.name}", "secret"))
    if "://" in text:
        for m in _HOOK_URL.finditer(text):
            if _random_token(m.group(1)):
                spans.append(Span(*m.span(1), "SECRET", "secret:hook-url", "secret"))
    if "=" in text or ":" in text:
        for m in _ASSIGNMENT.finditer(text):
            value = m.group("value")
            if is_secret_value(m.group("key"), value):
                start, end = m.span("value")
                spans.append(Span(start, end, "SECRET", "secret:assignment", "secret"))
    return spans
