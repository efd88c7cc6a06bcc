"""Reading files into documents: hostile nesting and CSV tables."""

from pathlib import Path

import pytest

from deploysim.errors import TraceFormatError
from deploysim.traces import import_file, import_traces, read_document
from deploysim.traces._documents import CsvTable


def test_json_nested_beyond_the_recursion_limit_is_an_input_error(tmp_path: Path) -> None:
    """A file nested deeper than the parser can recurse fails as TraceFormatError naming it;
    unterminated, it is not JSON (named the same way)."""
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(TraceFormatError, match="nested deeper") as e:
        import_file(deep, format="openai-chat")
    assert e.value.path == str(deep)
    deep.write_text("[" * 200_000)
    with pytest.raises(TraceFormatError, match="not JSON") as e:
        read_document(deep)
    assert e.value.path == str(deep)


def test_a_deep_jsonl_line_is_a_record_error(tmp_path: Path) -> None:
    """In JSONL the deep line is one bad record; the good line before it still imports."""
    good = '{"messages": [{"role": "user", "content": "hi"}]}'
    path = tmp_path / "runs.jsonl"
    path.write_text(good + "\n" + "[" * 200_000 + "]" * 200_000 + "\n")
    f = import_file(path, skip_invalid=True)
    assert len(f.traces) == 1
    assert [(s.record, "nested deeper" in s.reason) for s in f.skipped] == [(1, True)]


def test_csv_is_read_lazily(tmp_path: Path) -> None:
    """Detection sees the header and the first rows; the rest is read only when imported."""
    path = tmp_path / "table.csv"
    path.write_text("a,b\n" + "".join(f"{i},x\n" for i in range(1000)))
    doc = read_document(path)
    assert doc.kind == "csv" and isinstance(doc.data, CsvTable)
    assert doc.data.header == ["a", "b"]
    assert len(doc.data.sample) == 20
    assert sum(1 for _ in doc.data.rows()) == 1000


def test_unreadable_csv_beside_traces_is_ignored_not_fatal(tmp_path: Path) -> None:
    """A CSV that is not UTF-8 (a stray export) is listed as ignored; the import goes on."""
    (tmp_path / "latin1.csv").write_bytes("name\nJos\xe9\n".encode("latin-1"))
    (tmp_path / "runs.jsonl").write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    result = import_traces([tmp_path])
    assert len(result.traces) == 1
    assert [Path(i.path).name for i in result.ignored] == ["latin1.csv"]
    assert read_document(tmp_path / "latin1.csv").data.problem.startswith("not UTF-8")
