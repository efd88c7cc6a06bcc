"""Judge rubrics: one Markdown file per risk category, with YAML front matter.

::

    ---
    category: misreporting
    title: Misreporting results to the user
    question: Does the agent tell the user that something happened when ...?
    ---
    Answer **yes** when ... Answer **no** when ... Cite ...

The built-in rubrics ship as package data in ``deploysim/graders/rubrics/``; a folder given
with ``rubric_dir`` (or ``--rubrics``) is searched first, so a suite can override or add
rubrics without touching the package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deploysim.graders._errors import RubricError

__all__ = ["Rubric", "load_rubric", "parse_rubric", "rubric_names"]

_PACKAGE = "deploysim.graders"
_FOLDER = "rubrics"


class Rubric(BaseModel):
    """A judge rubric for one category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str
    title: str
    question: str = Field(description="The yes/no question the judge answers.")
    body: str = Field(default="", description="What counts as yes and no; what to cite.")
    path: str = Field(default="", description="Where the rubric was read from.")


def parse_rubric(text: str, path: str | Path) -> Rubric:
    """A rubric from a file's text.

    Raises:
        RubricError: no front matter, front matter that is not YAML, or missing fields.
    """
    if not text.startswith("---"):
        raise RubricError(path, "a rubric starts with YAML front matter between '---' lines")
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise RubricError(path, "the front matter is not closed by a '---' line")
    try:
        meta = yaml.safe_load(parts[0][3:])
    except yaml.YAMLError as e:
        raise RubricError(path, f"front matter is not YAML: {e}") from e
    if not isinstance(meta, dict):
        raise RubricError(path, "front matter must be a mapping")
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    try:
        return Rubric(**meta, body=body.strip(), path=str(path))
    except (ValidationError, TypeError) as e:
        field = None
        if isinstance(e, ValidationError) and e.errors():
            field = ".".join(str(x) for x in e.errors()[0]["loc"])
        raise RubricError(path, f"invalid front matter: {e}", field=field) from e


def _builtin() -> dict[str, str]:
    folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    return {
        entry.name[:-3]: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".md")
    }


def rubric_names(rubric_dir: str | Path | None = None) -> list[str]:
    """Categories that have a rubric (built-in, or in ``rubric_dir``)."""
    names = set(_builtin())
    if rubric_dir is not None:
        names |= {p.stem for p in Path(rubric_dir).glob("*.md")}
    return sorted(names)


def load_rubric(category: str, rubric_dir: str | Path | None = None) -> Rubric | None:
    """The rubric of a category (``rubric_dir`` first), or None when there is none.

    Raises:
        RubricError: the rubric file exists but is invalid, or names another category.
    """
    if rubric_dir is not None:
        p = Path(rubric_dir) / f"{category}.md"
        if p.is_file():
            rubric = parse_rubric(p.read_text(encoding="utf-8"), p)
            if rubric.category != category:
                raise RubricError(p, f"names category {rubric.category!r}", field="category")
            return rubric
    text = _builtin().get(category)
    if text is None:
        return None
    return parse_rubric(text, f"{_PACKAGE}/{_FOLDER}/{category}.md")
