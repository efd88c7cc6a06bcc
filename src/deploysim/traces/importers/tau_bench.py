"""tau-bench results: ``[{"task_id", "reward", "info", "traj", "trial"}]``, traj in chat form.

tau-bench trajectories carry no tool schemas; supply them with ``--tools tool_schemas.json``.
"""

from __future__ import annotations

from typing import Any

from deploysim.traces._documents import Document
from deploysim.traces._model import Trace
from deploysim.traces._reader import Node
from deploysim.traces._registry import ImportContext, Importer, importer
from deploysim.traces.importers.openai_chat import chat_messages

__all__ = ["TauBenchImporter"]


def _is_result(value: Any) -> bool:
    return isinstance(value, dict) and "task_id" in value and isinstance(value.get("traj"), list)


@importer
class TauBenchImporter(Importer):
    """tau-bench (v1) run results, one record per (task, trial)."""

    name = "tau-bench"
    description = "tau-bench results (task_id, reward, info, traj)"
    priority = 20

    def sniff(self, doc: Document) -> bool:
        """A list (or lines) of tau-bench result records."""
        return doc.kind in ("json", "jsonl") and _is_result(doc.first())

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Messages from ``traj``; reward, task and trial into metadata."""
        d = record.obj()
        task_id = record["task_id"].id()
        info = record.get("info", {}).obj()
        metadata: dict[str, Any] = {
            "task_id": task_id,
            "reward": d.get("reward"),
            "trial": d.get("trial"),
        }
        task = info.get("task")
        if isinstance(task, dict):
            metadata["task"] = task
        if "reward_info" in info:
            metadata["reward_info"] = info["reward_info"]
        return Trace(
            id=ctx.trace_id(f"task-{task_id}", f"trial-{d.get('trial', 0)}"),
            source=ctx.source(),
            metadata=metadata,
            messages=chat_messages(record["traj"]),
            raw=d,
        )
