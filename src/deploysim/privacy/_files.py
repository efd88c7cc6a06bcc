"""``deploysim scrub`` as a library call: import, scrub, write, gate, seal the vault."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploysim.privacy._detect import ProseDetector
from deploysim.privacy._errors import VaultError
from deploysim.privacy._gate import Leak, gate_files
from deploysim.privacy._pseudonymizer import Pseudonymizer
from deploysim.privacy._scrub import scrub_traces
from deploysim.privacy._types import EntityType
from deploysim.privacy._vault import create_key_file, load_key, load_vault, save_vault
from deploysim.traces import (
    DEFAULT_LIMITS,
    ImportLimits,
    SkippedLink,
    SkippedRecord,
    ToolSpec,
    import_traces,
    write_traces,
)

__all__ = ["ScrubReport", "scrub_files"]


class ScrubReport(BaseModel):
    """The outcome of :func:`scrub_files`; :meth:`summary` is what ``--json`` prints."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    traces: int
    replaced: dict[EntityType, int] = Field(description="Occurrences replaced per type.")
    values: dict[EntityType, int] = Field(description="Distinct real values per type.")
    gate: Literal["pass", "fail"]
    leaks: list[Leak] = Field(default_factory=list)
    notices: list[Leak] = Field(
        default_factory=list,
        description="Original values in protocol fields copied verbatim (tool specs).",
    )
    output: str | None = Field(description="The scrubbed traces; None when the gate failed.")
    vault: str | None = Field(default=None, description="The vault written, if any.")
    key_created: bool = Field(default=False, description="The key file was created now.")
    dropped_opaque: int = Field(default=0, description="Opaque reasoning blocks dropped.")
    skipped: list[SkippedRecord] = Field(default_factory=list)
    skipped_links: list[SkippedLink] = Field(
        default_factory=list, description="Symlinks in input folders leading outside: not read."
    )

    def summary(self) -> dict[str, Any]:
        """``{"traces", "replaced", "gate", "leaks"}``: the stable, documented JSON report."""
        return {
            "traces": self.traces,
            "replaced": self.replaced,
            "gate": self.gate,
            "leaks": len(self.leaks),
        }


def _key(key_file: str | Path | None) -> tuple[bytes, bool]:
    if key_file is None:
        return secrets.token_bytes(32), False
    p = Path(key_file)
    if p.exists():
        return load_key(p), False
    return create_key_file(p), True


def scrub_files(
    inputs: Iterable[str | Path],
    output: str | Path,
    *,
    key_file: str | Path | None = None,
    vault: str | Path | None = None,
    tools: Sequence[ToolSpec] = (),
    format: str | None = None,
    skip_invalid: bool = False,
    prose_detectors: Sequence[ProseDetector] = (),
    on_record: Callable[[], None] | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
    follow_symlinks: bool = False,
) -> ScrubReport:
    """Scrub trace files into canonical JSONL at ``output``, behind the leak gate.

    The output is written to a temporary file beside ``output`` and gated there; it is moved
    into place only when no original value survives, and deleted otherwise (the report then
    lists each leak by location and fingerprint). The vault is sealed only on success.

    Args:
        inputs: trace files or directories, any format ``deploysim traces import`` reads.
        output: the canonical JSONL to write.
        key_file: the dataset key; created (mode 0600) when missing; random when None.
        vault: encrypted real-to-fake map: read if it exists (to extend it), then rewritten.
        tools: tool specs for traces that carry none (tau-bench).
        format: importer name; detected when None.
        skip_invalid: skip malformed records (listed in the report) instead of failing.
        prose_detectors: extra detectors for natural-language text (NER).
        on_record: progress callback, once per imported record.
        limits: how many bytes inputs may hold uncompressed (``deploysim traces import``'s).
        follow_symlinks: follow links in input folders that lead outside them.

    Raises:
        VaultError: ``vault`` without ``key_file``, or an unreadable key or vault.
        TraceFormatError: a malformed input record (without ``skip_invalid``).
        NestingError: a value nests deeper than the walkers follow.
    """
    if vault is not None and key_file is None:
        raise VaultError("a vault needs a key file: pass --key-file too")
    key, created = _key(key_file)
    entries = load_vault(vault, key) if vault is not None and Path(vault).exists() else []
    pz = Pseudonymizer(key, entries)
    # Deep input is bounded where it is read: the importers raise TraceFormatError for it.
    imported = import_traces(
        list(inputs),
        format=format,
        tools=tools,
        skip_invalid=skip_invalid,
        on_record=on_record,
        limits=limits,
        follow_symlinks=follow_symlinks,
    )
    result = scrub_traces(imported.traces, pz, prose_detectors=prose_detectors)
    out = Path(output)
    tmp = out.with_name(f".{out.name}.scrubbing")
    try:
        write_traces(result.traces, tmp)
        report = gate_files([tmp], pz, labels={str(tmp): str(out)})
        if report.passed:
            tmp.replace(out)
            if vault is not None:
                save_vault(vault, key, pz.entries())
    finally:
        tmp.unlink(missing_ok=True)
    return ScrubReport(
        traces=len(result.traces),
        replaced=result.replaced,
        values=result.values,
        gate=report.status,
        leaks=report.leaks,
        notices=report.notices,
        output=str(out) if report.passed else None,
        vault=str(vault) if vault is not None and report.passed else None,
        key_created=created,
        dropped_opaque=len(result.dropped_opaque),
        skipped=imported.skipped,
        skipped_links=imported.skipped_links,
    )
