"""Symlinks in an import folder do not lead the import outside it (issue 11, #14)."""

import os
from pathlib import Path

import pytest

from deploysim.traces import Document, import_traces
from deploysim.traces import _import as driver
from tests.traces.hostile import GOOD, dumps


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An import folder with one trace of its own, links to a file and to a folder outside
    it, a link to a file inside it, and a link loop (to the folder itself)."""
    outside = tmp_path / "outside"
    (outside / "secrets").mkdir(parents=True)
    (outside / "host.jsonl").write_text(dumps(GOOD) + "\n")
    (outside / "secrets" / "key.jsonl").write_text(dumps(GOOD) + "\n")
    root = tmp_path / "imports"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "own.jsonl").write_text(dumps(GOOD) + "\n")
    os.symlink(outside / "host.jsonl", root / "escape.jsonl")
    os.symlink("../outside/secrets", root / "escape-dir")
    os.symlink("sub/own.jsonl", root / "alias.jsonl")
    os.symlink(".", root / "sub" / "loop")
    return root


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every path the import driver reads."""
    seen: list[Path] = []
    real = driver.read_document

    def spy(path: Path, *args: object, **kwargs: object) -> Document:
        seen.append(path.resolve())
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(driver, "read_document", spy)
    return seen


def test_links_leaving_the_folder_are_reported_and_never_read(
    folder: Path, opened: list[Path]
) -> None:
    """A link to a file and a link to a folder outside the import folder are skipped with a
    warning naming each link and its target; nothing outside the folder is opened."""
    result = import_traces([folder])
    assert {Path(s.path).name for s in result.skipped_links} == {"escape.jsonl", "escape-dir"}
    for link in result.skipped_links:
        assert "points outside" in link.reason and "--follow-symlinks" in link.reason
        assert Path(link.target).resolve() == (Path(link.path)).resolve()
    root = folder.resolve()
    assert opened and all(p.is_relative_to(root) for p in opened)
    assert len(result.traces) == 1


def test_links_inside_the_folder_are_followed_once_and_loops_end(folder: Path) -> None:
    """Links that stay inside (to a file, and a loop back to a parent folder) are fine: each
    real file is imported once and the walk ends."""
    result = import_traces([folder])
    assert [Path(f.path).relative_to(folder).as_posix() for f in result.files] == ["sub/own.jsonl"]


def test_follow_symlinks_reads_outside_targets_when_asked(folder: Path) -> None:
    """--follow-symlinks (follow_symlinks=True) imports what the outside links point at."""
    result = import_traces([folder], follow_symlinks=True)
    assert result.skipped_links == []
    names = sorted(Path(f.path).name for f in result.files)
    assert names == ["escape.jsonl", "key.jsonl", "own.jsonl"]
    assert len(result.traces) == 3


def test_a_folder_named_through_a_link_is_walked(tmp_path: Path, folder: Path) -> None:
    """The folder the user names may itself be a link (like ../shared): inside means inside
    its real location."""
    os.symlink(folder, tmp_path / "named")
    result = import_traces([tmp_path / "named"])
    assert len(result.traces) == 1 and len(result.skipped_links) == 2


def test_a_fifo_inside_the_folder_is_listed_not_opened(folder: Path, opened: list[Path]) -> None:
    """A FIFO in an import folder (even named like a trace file) is listed as ignored with
    its reason; opening it would block the import forever."""
    os.mkfifo(folder / "trap.jsonl")
    result = import_traces([folder])
    assert [(Path(i.path).name, i.reason) for i in result.ignored] == [
        ("trap.jsonl", "not a regular file (a FIFO, device or socket)")
    ]
    assert (folder / "trap.jsonl").resolve() not in opened
