"""A shared check for importers: a format's sniff claims no other format's files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from deploysim.errors import DeploysimError
from deploysim.traces import get_importer, read_document


def assert_claims_no_other_format(
    fmt: str, fixtures: Path, shared_traces: Path, *, own: Iterable[str] = ()
) -> None:
    """The importer ``fmt`` says no to every other format's fixtures and to the real traces.

    ``own`` names the shared-data folders that hold this format's real files.
    """
    sniff = get_importer(fmt).sniff
    mine = set(own)
    others = [p for p in sorted(fixtures.rglob("*")) if p.is_file() and p.parent.name != fmt]
    others += [
        p
        for p in sorted(shared_traces.rglob("*"))
        if p.suffix in (".json", ".jsonl", ".eval", ".traj", ".csv")
        and p.relative_to(shared_traces).parts[0] not in mine
    ]
    checked = 0
    for p in others:
        try:
            doc = read_document(p)
        except DeploysimError:
            continue  # unreadable files are the importers' malformed-input fixtures
        assert not sniff(doc), p
        checked += 1
    assert checked > 20
