"""Measure a rebuilt snapshot's tables against a known true state (tests and benchmarks).

*Precision*: of every field of every rebuilt row, the share equal to the true value (a null
field equals a field the truth leaves out: tau2 prints optional fields as ``None``).
*Recall*: of the true entities the traces touched (their key appears in a call's arguments
or result), the share rebuilt as rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from deploysim.reconstruct._calls import NOT_JSON, collect_calls
from deploysim.reconstruct._names import canon, scalars
from deploysim.snapshots import SnapshotDir
from deploysim.traces import Trace

__all__ = ["EntityAccuracy", "TableAccuracy", "entity_accuracy"]

_TOKEN = re.compile(r"[A-Za-z0-9_#.@-]+")


class TableAccuracy(BaseModel):
    """Precision and recall of one table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str
    rows: int = Field(description="Rows rebuilt.")
    invented_rows: int = Field(description="Rebuilt rows whose key the truth does not have.")
    fields: int = Field(description="Fields of rebuilt rows compared with the truth.")
    correct: int = Field(description="Fields equal to the truth.")
    touched: int = Field(description="True entities whose key the traces mention.")
    rebuilt: int = Field(description="Touched entities rebuilt as rows.")
    wrong: list[str] = Field(default_factory=list, description="The first wrong fields.")

    @property
    def precision(self) -> float:
        """Correct / fields (1.0 when nothing was rebuilt)."""
        return self.correct / self.fields if self.fields else 1.0

    @property
    def recall(self) -> float:
        """Rebuilt / touched (1.0 when nothing was touched)."""
        return self.rebuilt / self.touched if self.touched else 1.0


class EntityAccuracy(BaseModel):
    """Precision and recall of every table with a truth."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tables: list[TableAccuracy]

    @property
    def precision(self) -> float:
        """Over all tables."""
        f = sum(t.fields for t in self.tables)
        return sum(t.correct for t in self.tables) / f if f else 1.0

    @property
    def recall(self) -> float:
        """Over all tables."""
        touched = sum(t.touched for t in self.tables)
        return sum(t.rebuilt for t in self.tables) / touched if touched else 1.0

    def summary(self) -> dict[str, Any]:
        """Figures as plain JSON."""
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "tables": {
                t.table: {
                    "rows": t.rows,
                    "invented_rows": t.invented_rows,
                    "fields": t.fields,
                    "correct": t.correct,
                    "precision": round(t.precision, 4),
                    "touched": t.touched,
                    "rebuilt": t.rebuilt,
                    "recall": round(t.recall, 4),
                }
                for t in self.tables
            },
        }


def _mentioned(traces: Iterable[Trace]) -> set[Any]:
    out: set[Any] = set()
    for tc in collect_calls(traces):
        for c in tc.calls:
            out.update(scalars(c.args))
            if c.value is NOT_JSON:
                out.update(_TOKEN.findall(c.output))
            else:
                out.update(scalars(c.value))
    return out


def entity_accuracy(
    sd: SnapshotDir, truth: Mapping[str, Mapping[Any, Mapping[str, Any]]], traces: Iterable[Trace]
) -> EntityAccuracy:
    """Compare the snapshot's tables with ``truth`` (table -> key -> entity)."""
    mentioned = _mentioned(traces)
    out: list[TableAccuracy] = []
    for db in sd.snapshot.databases:
        for table in db.tables:
            true_rows = truth.get(table.name)
            if true_rows is None:
                continue
            key = table.primary_key[0]
            rows = sd.table_rows(db, table)
            fields = correct = invented = 0
            wrong: list[str] = []
            for row in rows:
                entity = true_rows.get(row[key])
                if entity is None:
                    invented += 1
                    fields += len(row)
                    continue
                for name, value in row.items():
                    if name == key and name not in entity:
                        continue
                    fields += 1
                    if canon(value) == canon(entity.get(name)):
                        correct += 1
                    elif len(wrong) < 10:
                        wrong.append(f"{table.name}[{row[key]}].{name}")
            built = {r[key] for r in rows}
            touched = {k for k in true_rows if k in mentioned}
            out.append(
                TableAccuracy(
                    table=table.name,
                    rows=len(rows),
                    invented_rows=invented,
                    fields=fields,
                    correct=correct,
                    touched=len(touched),
                    rebuilt=len(touched & built),
                    wrong=wrong,
                )
            )
    missing = sorted(set(truth) - {t.table for t in out})
    for name in missing:
        touched = {k for k in truth[name] if k in mentioned}
        out.append(
            TableAccuracy(
                table=name,
                rows=0,
                invented_rows=0,
                fields=0,
                correct=0,
                touched=len(touched),
                rebuilt=0,
            )
        )
    return EntityAccuracy(tables=out)
