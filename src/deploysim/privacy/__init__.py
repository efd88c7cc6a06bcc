"""Privacy: detect private data and replace it with consistent, format-preserving pseudonyms.

::

    from deploysim.privacy import Pseudonymizer, scrub_traces, scrub_value, gate_files
    from deploysim.privacy import load_key, load_vault, save_vault

    pz = Pseudonymizer(load_key("dataset.key"), load_vault("dataset.vault", key))
    result = scrub_traces(traces, pz)          # same real value -> same fake, everywhere
    rows = scrub_value(snapshot_rows, pz, rewrite_keys=True)   # snapshots: same map
    report = gate_files(["scrubbed.jsonl"], pz)                 # no original may survive

or, for files, :func:`scrub_files` (what ``deploysim scrub`` runs). Importing this package
is cheap; presidio (and spaCy under it) loads on first detection.
"""

from deploysim.privacy._detect import ProseDetector, detect_text, resolve_overlaps
from deploysim.privacy._errors import MAX_NESTING, NestingError, PrivacyError, VaultError
from deploysim.privacy._files import ScrubReport, scrub_files
from deploysim.privacy._gate import GateReport, Layer, Leak, gate_files, gate_text, gate_value
from deploysim.privacy._hints import looks_like_person_name, normalize_key
from deploysim.privacy._ner import spacy_person_detector
from deploysim.privacy._pseudonymizer import Pseudonymizer, VaultEntry, normalize
from deploysim.privacy._scrub import Scrubber, ScrubResult, scrub_traces, scrub_value
from deploysim.privacy._types import ENTITY_TYPES, Entity, EntityType, Kind, Span
from deploysim.privacy._vault import (
    create_key_file,
    load_key,
    load_vault,
    open_pseudonymizer,
    save_vault,
)

__all__ = [
    "ENTITY_TYPES",
    "MAX_NESTING",
    "Entity",
    "EntityType",
    "GateReport",
    "Kind",
    "Layer",
    "Leak",
    "NestingError",
    "PrivacyError",
    "ProseDetector",
    "Pseudonymizer",
    "ScrubReport",
    "ScrubResult",
    "Scrubber",
    "Span",
    "VaultEntry",
    "VaultError",
    "create_key_file",
    "detect_text",
    "gate_files",
    "gate_text",
    "gate_value",
    "load_key",
    "load_vault",
    "looks_like_person_name",
    "normalize",
    "normalize_key",
    "open_pseudonymizer",
    "resolve_overlaps",
    "save_vault",
    "scrub_files",
    "scrub_traces",
    "scrub_value",
    "spacy_person_detector",
]
