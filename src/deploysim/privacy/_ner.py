"""Optional NER for names in prose: a spaCy pipeline the operator installs and vouches for.

Not on by default (docs/design/privacy.md has the measurement behind that). No official
spaCy model is on PyPI, and ``spacy download`` needs GitHub; re-uploads exist but are not
published by Explosion, so the model is the operator's choice, pinned by them. The pipeline
is used for PERSON only: LOC/ORG/DATE on agent traces mostly hit products, tools and cities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploysim.privacy._detect import ProseDetector
from deploysim.privacy._errors import PrivacyError
from deploysim.privacy._types import Span

__all__ = ["spacy_person_detector"]


def spacy_person_detector(model: str | Path) -> ProseDetector:
    """A prose detector returning PERSON spans from a spaCy pipeline.

    Args:
        model: an installed package name (``en_core_web_sm``) or a model directory.

    Raises:
        PrivacyError: spaCy or the model cannot be loaded (nothing is downloaded).
    """
    try:
        import spacy
    except ImportError as e:
        raise PrivacyError("NER needs spaCy: pip install spacy") from e
    try:
        nlp: Any = spacy.load(str(model), exclude=["lemmatizer", "parser", "tagger"])
    except (OSError, ValueError) as e:
        raise PrivacyError(f"cannot load spaCy model {str(model)!r}: {e}") from e

    def detect(text: str) -> list[Span]:
        doc = nlp(text)
        return [
            Span(ent.start_char, ent.end_char, "PERSON", "spacy", None)
            for ent in doc.ents
            if ent.label_ == "PERSON"
        ]

    return detect
