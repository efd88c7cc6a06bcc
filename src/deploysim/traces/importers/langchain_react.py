"""LangChain ReAct agent runs stored in CSV, one trace per row.

A CSV is claimed only when one of its columns holds agent runs, judged from the header and
the first rows: a serialized agent output (``{'input', 'output', 'intermediate_steps'}``,
as Python ``repr`` or JSON), a bare ``intermediate_steps`` list, or a ReAct transcript
(``Thought:`` / ``Action:`` / ``Action Input:`` / ``Observation:`` lines). Other CSVs (state
tables, query lists, directories) are not claimed. WorkBench's result files
(``query, function_calls, full_response, error``) are one instance.

Reading a run:

- ``repr`` is parsed with :func:`ast.parse` and a walker that only reads literals and
  constructor calls: nothing is ever evaluated. ``AgentAction(tool=, tool_input=, log=)``
  (and ``ToolAgentAction``, ``AgentActionMessageLog``, whose ``tool_call_id`` becomes the
  call id), ``AgentStep(action=, observation=)``, LangChain's JSON serialization
  (``{"lc": 1, "type": "constructor", "id": [..., "AgentAction"], "kwargs": {...}}``) and
  plain ``{"tool", "tool_input", "log"}`` objects are steps' actions.
- An observation is the tool's real return value. A string is the result text; a literal
  (list, dict, number) keeps its source text as the output and the value as ``structured``
  (pandas ``nan`` read as null); anything else (``array([...], dtype=object)``) keeps its
  source text only.
- Each step becomes an assistant message (the thought part of ``log`` as text, then the
  call, id ``step-<n>`` unless recorded; ``log`` verbatim in ``metadata["log"]``) and a tool
  message. LangChain's own error observations are marked: tool ``_Exception`` (an output
  parsing error sent back to the model) as ``error_type="parsing"``, ``X is not a valid
  tool, try one of [...]`` as ``error_type="invalid_tool"``.
- A string ``tool_input`` that is not a JSON object is the single input of the tool:
  ``arguments={"input": text}``, ``raw_arguments=text``.
- The user turn is the run's ``input``, else the row's ``input`` / ``query`` / ``question``
  / ``prompt`` column; the final assistant turn is the run's ``output`` (or a transcript's
  ``Final Answer:``). Every other column of the row is kept in ``metadata["columns"]``
  (WorkBench: ``function_calls``, ``error``); a row with an empty run cell (the agent
  crashed before returning) is a trace with the user turn only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from deploysim.traces._documents import BadLine, CsvTable, Document
from deploysim.traces._model import Message, Part, Text, ToolCall, ToolResult, Trace
from deploysim.traces._reader import Node, RecordError, parse_arguments
from deploysim.traces._registry import ImportContext, Importer, Record, importer
from deploysim.traces.importers._langchain_steps import (
    REACT_LINE,
    Run,
    Step,
    run_from_value,
    transcript,
)
from deploysim.traces.importers._pyrepr import is_plain, parse_cell

__all__ = ["LangChainReactCsvImporter"]

_INPUT_COLUMNS = ("input", "query", "question", "prompt")
_INVALID_TOOL = re.compile(r"^\S.* is not a valid tool, try one of \[")


# --- recognizing run cells -----------------------------------------------------------------


def _looks_like_run(cell: str) -> bool:
    """A cheap first look: the words a serialized run or a ReAct transcript must contain."""
    head = cell.lstrip()[:1]
    if head in ("{", "[", "("):
        return any(
            w in cell for w in ("intermediate_steps", "AgentAction", "AgentStep", "tool_input")
        )
    lines = {m.group(1) for m in REACT_LINE.finditer(cell)}
    return {"Action", "Observation"} <= lines


def _is_run(cell: str) -> bool:
    """Whether a cell reads as an agent run (a malformed one may still sit among runs)."""
    if cell.lstrip()[:1] not in ("{", "[", "("):
        return _looks_like_run(cell)
    where = Node(cell)
    try:
        run = run_from_value(parse_cell(cell, where), where)
    except RecordError:
        return False
    parsed_steps = bool(run.steps)
    return parsed_steps or run.user is not None or run.output is not None


def _run_column(table: CsvTable) -> str | None:
    """The column of agent runs: most filled sample cells have a run's words, one reads as one.

    Malformed runs among good ones do not hide the column (each becomes a record error); a
    column none of whose cells reads as a run is not claimed.
    """
    for column in table.header:
        filled = [c for c in (row.get(column, "") for row in table.sample) if c.strip()]
        runs = [c for c in filled if _looks_like_run(c)]
        if filled and 2 * len(runs) >= len(filled) and any(_is_run(c) for c in runs):
            return column
    return None


def _any_run_column(table: CsvTable) -> str | None:
    """With the format given (not detected): the column with the most cells read as runs."""
    counts = {c: sum(_is_run(row.get(c, "")) for row in table.sample) for c in table.header}
    best = max(table.header, key=lambda c: counts[c], default=None)
    return best if best is not None and counts[best] > 0 else None


# --- messages ------------------------------------------------------------------------------


def _thought(log: str) -> str:
    """The model's text before its action: the log up to ``Action:`` or a JSON blob."""
    cut = len(log)
    for pattern in (r"^[ \t]*Action[ \t]*:", r"```"):
        m = re.search(pattern, log, re.MULTILINE)
        if m is not None:
            cut = min(cut, m.start())
    text = log[:cut].strip()
    return text.removeprefix("Thought:").strip()


def _call(step: Step, call_id: str) -> ToolCall:
    value = step.tool_input
    if isinstance(value, str):
        parsed = parse_arguments(value)
        if parsed.arguments is None:
            return ToolCall(
                id=call_id, name=step.tool, arguments={"input": value}, raw_arguments=value
            )
        return ToolCall(id=call_id, name=step.tool, arguments=parsed.arguments, raw_arguments=value)
    if isinstance(value, dict) and is_plain(value):
        return ToolCall(id=call_id, name=step.tool, arguments=value)
    raw = json.dumps(value, default=str) if is_plain(value) else str(value)
    return ToolCall(
        id=call_id,
        name=step.tool,
        arguments=None,
        raw_arguments=raw,
        parse_error="tool_input is not an object",
    )


def _result(step: Step, call_id: str) -> ToolResult:
    obs = step.observation
    if isinstance(obs, str):
        output, structured = obs, None
    else:
        plain = is_plain(obs)
        output = step.observation_source or (
            json.dumps(obs, ensure_ascii=False) if plain else str(obs)
        )
        structured = obs if plain else None
    error_type = None
    if step.tool == "_Exception":
        error_type = "parsing"
    elif _INVALID_TOOL.match(output):
        error_type = "invalid_tool"
    return ToolResult(
        call_id=call_id,
        output=output,
        is_error=error_type is not None,
        error_type=error_type,
        structured=structured,
        name=step.tool,
    )


def _messages(run: Run) -> list[Message]:
    messages: list[Message] = []
    if run.user is not None:
        messages.append(Message(role="user", parts=[Text(text=run.user)]))
    for i, step in enumerate(run.steps):
        call_id = step.call_id or f"step-{i}"
        thought = _thought(step.log)
        parts: list[Part] = [Text(text=thought)] if thought else []
        parts.append(_call(step, call_id))
        meta = {"log": step.log} if step.log else {}
        messages.append(Message(role="assistant", parts=parts, metadata=meta))
        messages.append(Message(role="tool", parts=[_result(step, call_id)]))
    if run.output:
        messages.append(Message(role="assistant", parts=[Text(text=run.output)]))
    return messages


def _input_column(header: list[str], run_column: str) -> str | None:
    lowered = {h.lower(): h for h in header if h != run_column}
    return next((lowered[c] for c in _INPUT_COLUMNS if c in lowered), None)


@importer
class LangChainReactCsvImporter(Importer):
    """LangChain ReAct agent runs in CSV (serialized intermediate_steps or transcripts)."""

    name = "langchain-react-csv"
    description = "LangChain ReAct agent runs in CSV, one trace per row"
    priority = 40

    def sniff(self, doc: Document) -> bool:
        """A CSV with a column whose cells are agent runs (a state table is not)."""
        return doc.kind == "csv" and isinstance(doc.data, CsvTable) and bool(_run_column(doc.data))

    def records(self, doc: Document) -> Iterator[Record]:
        """One record per data row; the run and input columns travel in the context."""
        table = doc.data
        if not isinstance(table, CsvTable):
            raise RecordError("(file)", "not a CSV file")
        run_column = _run_column(table) or _any_run_column(table)
        if run_column is None:
            raise RecordError(
                "(header)", f"no column of {table.header} holds agent runs in the first rows"
            )
        context = {
            "run_column": run_column,
            "input_column": _input_column(table.header, run_column),
        }
        for i, row in enumerate(table.rows()):
            if isinstance(row, BadLine):
                yield Record(i, row)
            else:
                yield Record(i, row, f"row {i}", context)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """The user turn, one assistant + tool message per step, the final output."""
        row = record.obj()
        run_column = str(ctx.record.context["run_column"])
        input_column = ctx.record.context.get("input_column")
        cell_node = record.get(run_column, "")
        cell = cell_node.str()
        if not cell.strip():
            run = Run(None, [], None)
        elif cell.lstrip()[:1] in ("{", "[", "("):
            run = run_from_value(parse_cell(cell, cell_node), cell_node)
        else:
            run = transcript(cell)
        if run.user is None and input_column and row.get(input_column):
            run.user = row[input_column]
        columns = {k: v for k, v in row.items() if k != run_column}
        return Trace(
            id=ctx.trace_id(Path(ctx.path).stem, f"row-{ctx.record.index}"),
            source=ctx.source(),
            metadata={"run_column": run_column, "columns": columns},
            messages=_messages(run),
            raw=row,
        )
