"""Detection in free text: secrets, pattern PII, positional rules, optional prose detectors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from deploysim.privacy._pii import detect_pii
from deploysim.privacy._prose import detect_prose
from deploysim.privacy._secrets import detect_secrets
from deploysim.privacy._types import PRECEDENCE, Span

__all__ = ["ProseDetector", "detect_text", "resolve_overlaps"]

# A detector for natural-language text (an NER model): returns spans, typically PERSON.
ProseDetector = Callable[[str], list[Span]]


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Keep non-overlapping spans: the more precise type first, then the longer span."""
    chosen: list[Span] = []
    for s in sorted(spans, key=lambda s: (PRECEDENCE[s.type], s.start - s.end, s.start)):
        if all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    return sorted(chosen, key=lambda s: s.start)


def detect_text(text: str, prose_detectors: Sequence[ProseDetector] = ()) -> list[Span]:
    """Private values in ``text``, most precise detector first, overlaps resolved.

    Args:
        text: any string (message text, a tool result, an argument value).
        prose_detectors: extra detectors to run too, e.g. an NER model; callers pass them
            for natural-language text only (NER on JSON, code and logs mostly misfires).
    """
    spans = detect_secrets(text) + detect_pii(text) + detect_prose(text)
    for detector in prose_detectors:
        spans.extend(detector(text))
    return resolve_overlaps(spans) if len(spans) > 1 else spans
