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

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploysim.traces._documents import BadLine, CsvTable, Document
from deploysim.traces._model import Message, Part, Text, ToolCall, ToolResult, Trace
from deploysim.traces._reader import Node, RecordError, parse_arguments
from deploysim.traces._registry import ImportContext, Importer, Record, importer

__all__ = ["LangChainReactCsvImporter"]

_INPUT_COLUMNS = ("input", "query", "question", "prompt")
_ACTION_TYPES = ("AgentAction", "ToolAgentAction", "AgentActionMessageLog", "OpenAIToolAgentAction")
_REACT_LINE = re.compile(
    r"^[ \t]*(Question|Thought|Action Input|Action|Observation|Final Answer)[ \t]*:[ \t]?",
    re.MULTILINE,
)
_INVALID_TOOL = re.compile(r"^\S.* is not a valid tool, try one of \[")
_JSON_BLOB = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


# --- recognizing run cells -----------------------------------------------------------------


def _looks_like_run(cell: str) -> bool:
    """A cheap first look: the words a serialized run or a ReAct transcript must contain."""
    head = cell.lstrip()[:1]
    if head in ("{", "[", "("):
        return any(
            w in cell for w in ("intermediate_steps", "AgentAction", "AgentStep", "tool_input")
        )
    lines = {m.group(1) for m in _REACT_LINE.finditer(cell)}
    return {"Action", "Observation"} <= lines


def _is_run(cell: str) -> bool:
    """Whether a cell reads as an agent run (a malformed one may still sit among runs)."""
    if cell.lstrip()[:1] not in ("{", "[", "("):
        return _looks_like_run(cell)
    where = Node(cell)
    try:
        run = _run_from_value(_parse_cell(cell, where), where)
    except RecordError:
        return False
    parsed_steps = bool(run.steps)
    return parsed_steps or run.user is not None or run.output is not None


def _run_column(table: CsvTable) -> str | None:
    """The column of agent runs: every filled sample cell has a run's words, one reads as one.

    One malformed run among good ones does not hide the column (it becomes a record error);
    a column none of whose cells reads as a run is not claimed.
    """
    for column in table.header:
        cells = [row.get(column, "") for row in table.sample]
        filled = [c for c in cells if c.strip()]
        if filled and all(_looks_like_run(c) for c in filled) and any(_is_run(c) for c in filled):
            return column
    return None


# --- a safe reader of Python literals and constructor calls --------------------------------


@dataclass(frozen=True)
class _Call:
    """A constructor call in a repr: ``AgentAction(tool=..., ...)``, ``array([...])``."""

    name: str
    args: list[Any]
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class _Opaque:
    """A repr fragment that is not a literal (a bare name other than nan)."""

    source: str


class _Source:
    """Source text of AST nodes (byte offsets, as ast records them)."""

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8")
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def of(self, node: ast.expr) -> str:
        end_line = node.end_lineno if node.end_lineno is not None else node.lineno
        end_col = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        start = self.starts[node.lineno - 1] + node.col_offset
        return self.data[start : self.starts[end_line - 1] + end_col].decode("utf-8")


def _is_plain(value: Any) -> bool:
    """Whether a read value holds only JSON data (no calls or opaque names)."""
    if isinstance(value, _Call | _Opaque):
        return False
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(v) for v in value.values())
    return True


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _read(node: ast.expr, src: _Source) -> Any:
    """The value a repr node denotes, without evaluating anything."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str | int | float | bool) or node.value is None:
            return node.value
        return _Opaque(src.of(node))
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            key = _read(k, src) if k is not None else None
            if not isinstance(key, str | int | float | bool) or key is None:
                return _Opaque(src.of(node))
            out[str(key)] = _read(v, src)
        return out
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_read(e, src) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _read(node.operand, src)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Name) and node.id == "nan":
        return None  # pandas' missing value
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        if name is not None and all(k.arg is not None for k in node.keywords):
            return _Call(
                name,
                [_read(a, src) for a in node.args],
                {str(k.arg): _read(k.value, src) for k in node.keywords},
            )
    return _Opaque(src.of(node))


class _Parsed:
    """A run cell parsed: the value, and the source text of every step's observation."""

    def __init__(self, value: Any, observations: dict[int, str]) -> None:
        self.value = value
        self.observations = observations


def _parse_repr(cell: str, where: Node) -> _Parsed:
    try:
        tree = ast.parse(cell.strip(), mode="eval")
    except (RecursionError, MemoryError) as e:
        # CPython's parser gives up on very deep nesting with one of these.
        raise where.fail("nested deeper than can be read") from e
    except (SyntaxError, ValueError) as e:
        raise where.fail(f"not a Python literal nor JSON: {e}") from e
    src = _Source(cell.strip())
    try:
        value = _read(tree.body, src)
    except RecursionError as e:
        raise where.fail("nested deeper than can be read") from e
    # Observation source text: the second element of each (action, observation) pair.
    observations: dict[int, str] = {}
    steps_node = _steps_node(tree.body)
    if steps_node is not None:
        for i, pair in enumerate(steps_node.elts):
            obs = _observation_node(pair)
            if obs is not None:
                observations[i] = src.of(obs)
    return _Parsed(value, observations)


def _steps_node(body: ast.expr) -> ast.List | ast.Tuple | None:
    if isinstance(body, ast.Dict):
        for k, v in zip(body.keys, body.values, strict=True):
            if isinstance(k, ast.Constant) and k.value == "intermediate_steps":
                return v if isinstance(v, ast.List | ast.Tuple) else None
        return None
    return body if isinstance(body, ast.List | ast.Tuple) else None


def _observation_node(pair: ast.expr) -> ast.expr | None:
    if isinstance(pair, ast.Tuple | ast.List) and len(pair.elts) == 2:
        return pair.elts[1]
    if isinstance(pair, ast.Call):
        for k in pair.keywords:
            if k.arg == "observation":
                return k.value
        if len(pair.args) == 2:
            return pair.args[1]
    return None


def _parse_cell(cell: str, where: Node) -> _Parsed:
    """JSON first (it is the stricter reading), else a Python repr."""
    try:
        return _Parsed(json.loads(cell), {})
    except RecursionError as e:
        raise where.fail("nested deeper than can be read") from e
    except json.JSONDecodeError:
        return _parse_repr(cell, where)


# --- steps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    tool: str
    tool_input: Any
    log: str
    observation: Any
    observation_source: str | None
    call_id: str | None = None


def _action_fields(action: Any) -> dict[str, Any] | None:
    """The tool, tool_input, log and tool_call_id of an action, in any serialization."""
    if isinstance(action, _Call) and action.name.rsplit(".", 1)[-1] in _ACTION_TYPES:
        fields = dict(zip(("tool", "tool_input", "log"), action.args, strict=False))
        return {**fields, **action.kwargs}
    if isinstance(action, dict):
        if action.get("lc") == 1 and isinstance(action.get("kwargs"), dict):
            ids = action.get("id")
            if isinstance(ids, list) and ids and ids[-1] in _ACTION_TYPES:
                kwargs: dict[str, Any] = action["kwargs"]
                return kwargs
            return None
        if "tool" in action and "tool_input" in action:
            return action
    return None


def _step(pair: Any, where: Node, source: str | None) -> _Step:
    if isinstance(pair, _Call) and pair.name.rsplit(".", 1)[-1] == "AgentStep":
        fields = dict(zip(("action", "observation"), pair.args, strict=False)) | pair.kwargs
        action, observation = fields.get("action"), fields.get("observation")
    elif isinstance(pair, list) and len(pair) == 2:
        action, observation = pair
    else:
        raise where.fail("expected an (action, observation) pair")
    action_fields = _action_fields(action)
    if action_fields is None:
        raise where.fail("the action is not an AgentAction (tool, tool_input, log)")
    fields = action_fields
    tool = fields.get("tool")
    if not isinstance(tool, str) or not tool:
        raise where.fail("the action has no tool name")
    log = fields.get("log")
    call_id = fields.get("tool_call_id")
    return _Step(
        tool=tool,
        tool_input=fields.get("tool_input"),
        log=log if isinstance(log, str) else "",
        observation=observation,
        observation_source=source,
        call_id=call_id if isinstance(call_id, str) and call_id else None,
    )


class _Run:
    """What one row holds: the user input, the steps and the final output."""

    def __init__(self, user: str | None, steps: list[_Step], output: str | None) -> None:
        self.user = user
        self.steps = steps
        self.output = output


def _run_from_value(parsed: _Parsed, where: Node) -> _Run:
    value = parsed.value
    user = output = None
    if isinstance(value, dict):
        user = value.get("input") if isinstance(value.get("input"), str) else None
        output = value.get("output") if isinstance(value.get("output"), str) else None
        steps_value = value.get("intermediate_steps", [])
    else:
        steps_value = value
    if not isinstance(steps_value, list):
        raise where.fail("intermediate_steps is not a list of (action, observation) pairs")
    steps = [
        _step(pair, Node(pair, f"{where.path}.intermediate_steps[{i}]"), parsed.observations.get(i))
        for i, pair in enumerate(steps_value)
    ]
    return _Run(user, steps, output)


def _transcript(cell: str) -> _Run:
    """A ReAct transcript: Thought / Action / Action Input / Observation / Final Answer."""
    marks = list(_REACT_LINE.finditer(cell))
    fields = [
        (m.group(1), cell[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(cell)])
        for i, m in enumerate(marks)
    ]
    user = output = None
    steps: list[_Step] = []
    log: list[str] = []
    tool: str | None = None
    tool_input: Any = None
    for key, text in fields:
        if key == "Question":
            user = text.strip()
            continue
        if key == "Observation" and tool is not None:
            steps.append(_Step(tool, tool_input, "".join(log), text.strip(), None))
            log, tool, tool_input = [], None, None
            continue
        log.append(f"{key}: {text}")
        if key == "Action":
            blob = _JSON_BLOB.search(text)
            if blob is not None:
                action = _json_object(blob.group(1)) or {}
                name = action.get("action")
                tool = name if isinstance(name, str) and name else None
                tool_input = action.get("action_input")
                if tool == "Final Answer":
                    output, tool = _answer_text(tool_input), None
            else:
                tool = text.strip() or None
        elif key == "Action Input":
            tool_input = text.strip()
        elif key == "Final Answer":
            output = text.strip()
    return _Run(user, steps, output)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _answer_text(value: Any) -> str:
    """A final answer as text (structured-chat agents may answer with JSON)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


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


def _call(step: _Step, call_id: str) -> ToolCall:
    value = step.tool_input
    if isinstance(value, str):
        parsed = parse_arguments(value)
        if parsed.arguments is None:
            return ToolCall(
                id=call_id, name=step.tool, arguments={"input": value}, raw_arguments=value
            )
        return ToolCall(id=call_id, name=step.tool, arguments=parsed.arguments, raw_arguments=value)
    if isinstance(value, dict) and _is_plain(value):
        return ToolCall(id=call_id, name=step.tool, arguments=value)
    raw = json.dumps(value, default=str) if _is_plain(value) else str(value)
    return ToolCall(
        id=call_id,
        name=step.tool,
        arguments=None,
        raw_arguments=raw,
        parse_error="tool_input is not an object",
    )


def _result(step: _Step, call_id: str) -> ToolResult:
    obs = step.observation
    if isinstance(obs, str):
        output, structured = obs, None
    else:
        plain = _is_plain(obs)
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


def _messages(run: _Run) -> list[Message]:
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
        run_column = _run_column(table)
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
            run = _Run(None, [], None)
        elif cell.lstrip()[:1] in ("{", "[", "("):
            run = _run_from_value(_parse_cell(cell, cell_node), cell_node)
        else:
            run = _transcript(cell)
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
