"""The scrubbing API: traces and any JSON-like value (snapshot data) through one map."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from deploysim.privacy._detect import ProseDetector
from deploysim.privacy._hints import hint_for_entity_type
from deploysim.privacy._pseudonymizer import Pseudonymizer
from deploysim.privacy._trace import collect_trace, rewrite_trace, trace_options
from deploysim.privacy._types import EntityType
from deploysim.privacy._walk import Collector, Rewriter, WalkOptions
from deploysim.traces._model import Trace

__all__ = ["ScrubResult", "Scrubber", "scrub_traces", "scrub_value"]


class ScrubResult(BaseModel):
    """Scrubbed traces and what was done to them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    traces: list[Trace]
    replaced: dict[EntityType, int] = Field(
        description="Occurrences replaced per entity type, over every scrubbed field."
    )
    values: dict[EntityType, int] = Field(
        description="Distinct real values with a pseudonym, per entity type (the vault)."
    )
    dropped_opaque: list[str] = Field(
        default_factory=list,
        description="Locations of opaque reasoning blocks dropped (they cannot be scrubbed).",
    )


def _options(
    path_hints: Mapping[str, EntityType] | None,
    rewrite_keys: bool,
    protected_values: Iterable[str],
) -> WalkOptions:
    return WalkOptions(
        protected_values=frozenset(protected_values),
        path_hints=tuple((g, hint_for_entity_type(t)) for g, t in (path_hints or {}).items()),
        rewrite_keys=rewrite_keys,
    )


class Scrubber:
    """Two-phase scrubbing over traces and snapshot data sharing one pseudonymizer.

    Observe everything first, then scrub: values are linked across all of it (a person's
    name found in a database row is replaced in the prose of every trace)::

        scrubber = Scrubber(pseudonymizer)
        for t in traces:
            scrubber.observe_trace(t)
        scrubber.observe_value(snapshot_rows, path_hints={"*.cust_nm": "PERSON"})
        clean = [scrubber.scrub_trace(t) for t in traces]
        rows = scrubber.scrub_value(snapshot_rows, rewrite_keys=True)

    Args:
        pseudonymizer: the key and the real-to-fake map.
        prose_detectors: extra detectors (an NER model) run on natural-language text only.
    """

    def __init__(
        self, pseudonymizer: Pseudonymizer, *, prose_detectors: Sequence[ProseDetector] = ()
    ) -> None:
        self.pseudonymizer = pseudonymizer
        self._collector = Collector(pseudonymizer, prose_detectors=prose_detectors)
        self.replaced: Counter[EntityType] = Counter()
        self.dropped_opaque: list[str] = []

    def observe_trace(self, trace: Trace) -> None:
        """Phase 1: note the private values of a trace."""
        self._collector.options = trace_options(trace, WalkOptions())
        collect_trace(self._collector, trace)

    def observe_value(
        self,
        value: Any,
        *,
        path_hints: Mapping[str, EntityType] | None = None,
        protected_values: Iterable[str] = (),
        prose: bool = False,
        where: str = "value",
    ) -> None:
        """Phase 1: note the private values of a JSON-like value (see :meth:`scrub_value`)."""
        self._collector.options = _options(path_hints, False, protected_values)
        self._collector.walk(value, where, prose=prose)

    def scrub_trace(self, trace: Trace) -> Trace:
        """Phase 2: the trace with every known private value replaced."""
        self.pseudonymizer.finalize()
        rewriter = Rewriter(self.pseudonymizer, trace_options(trace, WalkOptions()))
        out = rewrite_trace(rewriter, trace, self.dropped_opaque.append)
        self.replaced.update(rewriter.counts)
        return out

    def scrub_value(
        self,
        value: Any,
        *,
        path_hints: Mapping[str, EntityType] | None = None,
        rewrite_keys: bool = False,
        protected_values: Iterable[str] = (),
        prose: bool = False,
        where: str = "value",
    ) -> Any:
        """Phase 1 and 2 on a JSON-like value; returns the scrubbed copy.

        Args:
            value: dicts, lists, strings, numbers (a snapshot's rows, a file's text).
            path_hints: extra field hints as ``{glob: entity type}``; a glob matches the
                dotted path (``users[3].nm``) or the key (``cust_nm``).
            rewrite_keys: also rewrite dict keys that are known private values (data keyed
                by user id); trace payloads never need it.
            protected_values: strings to leave alone (tool names).
            prose: the value is natural-language text (prose detectors run on it).
            where: name of the value in error messages.
        """
        self.observe_value(
            value,
            path_hints=path_hints,
            protected_values=protected_values,
            prose=prose,
            where=where,
        )
        self.pseudonymizer.finalize()
        rewriter = Rewriter(
            self.pseudonymizer, _options(path_hints, rewrite_keys, protected_values)
        )
        out = rewriter.walk(value, where, prose=prose)
        self.replaced.update(rewriter.counts)
        return out


def scrub_traces(
    traces: Iterable[Trace],
    pseudonymizer: Pseudonymizer,
    *,
    prose_detectors: Sequence[ProseDetector] = (),
) -> ScrubResult:
    """Scrub traces with consistent pseudonyms: observe all, draw fakes, rewrite all."""
    items = list(traces)
    scrubber = Scrubber(pseudonymizer, prose_detectors=prose_detectors)
    for t in items:
        scrubber.observe_trace(t)
    out = [scrubber.scrub_trace(t) for t in items]
    return ScrubResult(
        traces=out,
        replaced=dict(sorted(scrubber.replaced.items())),
        values=pseudonymizer.counts(),
        dropped_opaque=scrubber.dropped_opaque,
    )


def scrub_value(
    value: Any,
    pseudonymizer: Pseudonymizer,
    *,
    path_hints: Mapping[str, EntityType] | None = None,
    rewrite_keys: bool = False,
    protected_values: Iterable[str] = (),
    prose: bool = False,
) -> Any:
    """Scrub one JSON-like value (snapshot rows, file text) with a shared pseudonymizer.

    Values already mapped (from traces scrubbed before) get the same fakes; new ones are
    added to the map. See :meth:`Scrubber.scrub_value` for the arguments.
    """
    return Scrubber(pseudonymizer).scrub_value(
        value,
        path_hints=path_hints,
        rewrite_keys=rewrite_keys,
        protected_values=protected_values,
        prose=prose,
    )
