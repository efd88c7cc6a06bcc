"""Function tools (tau-bench style): the entity store, learned reads and writes, recorded pairs.

Steps, each a small module: find which tools show which entities (:mod:`._entities`); pool
the initial state they showed (:mod:`._facts`); replay each trace's writes over it
(:mod:`._simulate`); turn facts into tables (:mod:`._tables`); learn each tool's answer
(:mod:`._reads`, :mod:`._effects`); write one service whose tools run the generated module
(:mod:`._codegen`, :mod:`.runtime`). Tools nothing could be learned for keep their recorded
pairs as a declarative recorded handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploysim.reconstruct._calls import CallObs, TraceCalls
from deploysim.reconstruct._codegen import function_name, module_source
from deploysim.reconstruct._effects import learn_rule
from deploysim.reconstruct._entities import EntityView, discover_views, full_row, shown
from deploysim.reconstruct._facts import FactBook, collect_facts, failed
from deploysim.reconstruct._lists import list_entities
from deploysim.reconstruct._model import ToolReport
from deploysim.reconstruct._names import canon, digest
from deploysim.reconstruct._reads import (
    Plan,
    arg_names,
    error_template,
    plan_constant,
    plan_find,
    plan_lookup,
    plan_pure,
)
from deploysim.reconstruct._registry import ExtractContext, Extractor, extractor
from deploysim.reconstruct._simulate import Instance, simulate
from deploysim.reconstruct._tables import TablePlan, plan_tables
from deploysim.snapshots import (
    FunctionTool,
    LookupHandler,
    Provenance,
    PythonHandler,
    RecordedHandler,
    RecordedPair,
    Service,
    ToolBinding,
)
from deploysim.traces import ToolSpec, Trace
from deploysim.traces._toolspecs import classify_effect

__all__ = ["FunctionExtractor", "learn_effects"]


def _changes_state(tool: str, traces: list[TraceCalls], views: Mapping[str, EntityView]) -> bool:
    """Some call of ``tool`` showed an entity different from how the trace last saw it."""
    for tc in traces:
        last: dict[tuple[str, Any], dict[str, Any]] = {}
        for c in tc.calls:
            view = views.get(c.tool)
            s = shown(c, view) if view else None
            if s is None:
                continue
            ident = (s.table, s.key)
            before = last.get(ident)
            if c.tool == tool and before is not None:
                common = set(before) & set(s.fields)
                if any(canon(before[f]) != canon(s.fields[f]) for f in common):
                    return True
            last[ident] = s.fields
    return False


def learn_effects(
    specs: Mapping[str, ToolSpec],
    tools: set[str],
    declared: Mapping[str, str],
    traces: list[TraceCalls],
    views: Mapping[str, EntityView],
) -> dict[str, str]:
    """Read or write per tool: declared, else the spec or the name, else what the traces show."""
    out: dict[str, str] = {}
    for tool in sorted(tools):
        if tool in declared:
            out[tool] = "write" if declared[tool] == "write" else "read"
            continue
        spec = specs.get(tool)
        effect = spec.effect if spec is not None else "unknown"
        if effect == "unknown":
            effect = classify_effect(tool, "function")
        if effect == "unknown":
            effect = "write" if _changes_state(tool, traces, views) else "read"
        out[tool] = effect
    return out


def _instances(instances: list[Instance], tables: Mapping[str, TablePlan]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for inst in instances:
        pre = [
            [t, k, None if row is None else digest(full_row(row, tables[t].columns))]
            for (t, k), row in inst.pre.items()
            if t in tables
        ]
        patches = [
            [t, k, None if row is None else full_row(row, tables[t].columns)]
            for (t, k), row in inst.patches.items()
            if t in tables
        ]
        item = {
            "args": inst.call.args,
            "pre": pre,
            "patches": patches,
            "output": inst.call.output,
            "is_error": inst.call.is_error,
        }
        if canon(item) not in seen:
            seen.add(canon(item))
            out.append(item)
    return out


def plan_write(
    tool: str,
    calls: list[CallObs],
    instances: list[Instance],
    view: EntityView | None,
    tables: Mapping[str, TablePlan],
    book: FactBook,
) -> Plan:
    """Recorded write instances, plus the learned effect when it generalizes."""
    columns = tables[view.table].columns if view and view.table in tables else []
    rule, why = learn_rule(view, instances, columns) if view else (None, "its result is no entity")
    misses = [
        c
        for c in calls
        if failed(c)
        and view
        and view.key_arg in c.args
        and not book.is_known(view.table, c.args[view.key_arg])
    ]
    spec: dict[str, Any] = {
        "name": tool,
        "strategy": "write",
        "args": arg_names(calls),
        "view": view._asdict() if view else None,
        "instances": _instances(instances, tables),
        "rule": rule,
        "not_found": error_template(misses) if misses else None,
    }
    report = ToolReport(
        tool=tool,
        kind="function",
        effect="write",
        strategy="write",
        calls=len(calls),
        detail=why
        if rule
        else f"{len(spec['instances'])} recorded writes replayed with their effects",
        notes=[] if rule else [f"not generalized: {why}"],
    )
    return Plan(spec, report)


def _recorded(tool: str, calls: list[CallObs], effect: str) -> tuple[RecordedHandler, ToolReport]:
    pairs: list[RecordedPair] = []
    index: dict[str, int] = {}
    notes: list[str] = []
    for c in calls:
        if c.arguments is None:
            notes.append(f"{c.where()}: arguments are not a JSON object; not replayable")
            continue
        k = canon(c.args)
        if k in index:
            if pairs[index[k]].output != c.output:
                notes.append(f"{c.where()}: same arguments answered differently; first kept")
            continue
        index[k] = len(pairs)
        pairs.append(
            RecordedPair(
                arguments=c.args,
                output=c.output,
                is_error=c.is_error,
                provenance=[c.provenance(f"{tool} call")],
            )
        )
    report = ToolReport(
        tool=tool,
        kind="function",
        effect=effect,
        strategy="recorded",
        calls=len(calls),
        detail=f"{len(pairs)} recorded pairs (exact arguments)",
        notes=notes[:5] + ([f"... {len(notes) - 5} more"] if len(notes) > 5 else []),
    )
    return RecordedHandler(pairs=pairs), report


def _declarative(
    plan: Plan, tables: Mapping[str, TablePlan], book: FactBook
) -> LookupHandler | None:
    """The lookup as a declarative handler, when that gives exactly the same answers."""
    spec = plan.spec
    nf = spec.get("not_found")
    if spec["strategy"] != "lookup" or spec["overrides"] or spec["recorded"] or nf is None:
        return None
    view: dict[str, Any] = spec["view"]
    if not nf["is_error"] or "{" in nf["template"].replace("{" + view["key_arg"] + "}", ""):
        return None
    table = view["table"]
    if spec["args"] != [view["key_arg"]] or book.known.get(table, set()) - {
        k for (t, k) in book.entities if t == table
    }:
        return None
    omit = [] if view["key_in_output"] else [view["key_column"]]
    drop = bool(view["omit_nulls"])
    ev = EntityView(**view)
    from deploysim.reconstruct._entities import render

    for row in tables[table].rows:
        plain = {k: v for k, v in row.items() if k not in omit and not (drop and v is None)}
        if list(render(ev, row).items()) != list(plain.items()):
            return None
    return LookupHandler(
        table=table,
        key={view["key_arg"]: view["key_column"]},
        omit=omit,
        drop_nulls=drop,
        not_found=nf["template"],
    )


@extractor(priority=90)
class FunctionExtractor(Extractor):
    """Function tools: entity store, learned lookups and writes, recorded pairs."""

    name = "function"

    def claims(self, spec: ToolSpec, trace: Trace) -> bool:
        """Function tools (and any tool no other extractor claimed)."""
        return True

    def extract(self, ctx: ExtractContext) -> None:
        """Build the service, its tables and its generated handler module."""
        traces = ctx.calls()
        by_tool = ctx.by_tool()
        if not by_tool:
            return
        tools = set(by_tool)
        views = discover_views(by_tool)
        effects = learn_effects(ctx.specs, tools, ctx.options.effects, traces, views)
        writes = {t for t, e in effects.items() if e == "write"}
        book = collect_facts(traces, views, writes)
        listed = list_entities(traces, views, writes, book)
        sim = simulate(traces, views, writes, book, tools)
        tables = plan_tables(book, sim, views, {t: k for t, (k, _) in listed.items()})
        for table, (_, dropped) in sorted(listed.items()):
            if dropped and table in tables:
                ctx.draft.warnings.append(
                    f"{table}: fields {dropped} differ between results showing the same "
                    "entity (they depend on the call): not kept as entity fields"
                )
        ctx.draft.conflicts.extend(book.conflicts)
        for call, ident in sim.unexplained:
            ctx.draft.warnings.append(
                f"{call.where()}: {ident[0]}[{ident[1]}] changed with no write of the trace "
                "touching it"
            )
        self._emit(ctx, by_tool, views, effects, book, sim, tables, len(traces))

    def _plan(
        self,
        tool: str,
        calls: list[CallObs],
        views: Mapping[str, EntityView],
        effect: str,
        book: FactBook,
        sim: Any,
        tables: Mapping[str, TablePlan],
    ) -> Plan | None:
        view = views.get(tool)
        if effect == "write":
            return plan_write(tool, calls, sim.writes.get(tool, []), view, tables, book)
        if view is not None and view.key_arg is not None and view.table in tables:
            checks = [r for r in sim.reads if r.call.tool == tool]
            return plan_lookup(view, calls, book, tables, checks)
        return (
            plan_find(tool, calls, book, tables)
            or plan_constant(tool, calls)
            or plan_pure(tool, calls)
        )

    def _emit(
        self,
        ctx: ExtractContext,
        by_tool: dict[str, list[CallObs]],
        views: Mapping[str, EntityView],
        effects: dict[str, str],
        book: FactBook,
        sim: Any,
        tables: Mapping[str, TablePlan],
        traces: int,
    ) -> None:
        name = ctx.options.name
        db_name = name
        for tplan in tables.values():
            ctx.draft.add_table(db_name, f"/srv/{name}/{name}.db", tplan.table, tplan.rows)
            ctx.draft.facts += sum(
                len(f.fields) for (t, _), f in book.entities.items() if t == tplan.table.name
            )
        specs: dict[str, dict[str, Any]] = {}
        functions: dict[str, str] = {}
        taken: set[str] = set()
        ftools: list[FunctionTool] = []
        module = f"{name.replace('-', '_').replace('.', '_')}_tools.py"
        for tool, calls in sorted(by_tool.items()):
            plan = self._plan(tool, calls, views, effects[tool], book, sim, tables)
            prov = [Provenance(source="trace", detail=f"{len(calls)} calls")]
            if plan is None:
                handler, report = _recorded(tool, calls, effects[tool])
                ctx.draft.facts += len(handler.pairs)
                ftools.append(
                    FunctionTool(
                        name=tool,
                        handler=handler,
                        effect=effects[tool],
                        provenance=prov,
                    )
                )
                ctx.draft.tools.append(report)
                continue
            ctx.draft.tools.append(plan.report)
            ctx.draft.facts += (
                1 + len(plan.spec.get("instances", [])) + len(plan.spec.get("overrides", []))
            )
            declarative = _declarative(plan, tables, book) if ctx.options.closed_world else None
            if declarative is not None:
                ftools.append(
                    FunctionTool(name=tool, handler=declarative, effect="read", provenance=prov)
                )
                continue
            fn = function_name(tool, taken)
            functions[fn] = tool
            specs[tool] = plan.spec
            ftools.append(
                FunctionTool(
                    name=tool,
                    handler=PythonHandler(module=module, function=fn),
                    effect=effects[tool],
                    provenance=prov,
                )
            )
        if specs:
            facts = {
                "closed_world": ctx.options.closed_world,
                "tables": {
                    t: {"key": p.columns[0], "columns": p.columns} for t, p in tables.items()
                },
                "unbuilt": {
                    t: sorted(
                        (k for k in book.known.get(t, set()) if (t, k) not in book.entities),
                        key=str,
                    )
                    for t in tables
                },
                "tools": specs,
            }
            ctx.draft.modules[module] = module_source(name, name, traces, facts, functions)
        service = Service(
            name=name,
            database=db_name if tables else None,
            function_tools=ftools,
            provenance=[Provenance(source="trace", detail=f"rebuilt from {traces} traces")],
        )
        ctx.draft.services.append(service)
        for t in ftools:
            ctx.draft.bindings[t.name] = ToolBinding(tool=t.name, backend="live", service=name)
