"""The two registries of the graders: graders, and risk categories.

Built-ins register with the same decorators a plugin uses. Plugins are found lazily through
entry points: group ``deploysim.graders`` and group ``deploysim.risk_categories``; an entry
point names a module (importing it registers through the decorators) or a
:class:`RiskCategory` / :class:`Grader` object (registered as is).

::

    from deploysim.graders import Evidence, GradeInput, risk_category

    @risk_category(name="refund_over_limit", description="A refund above 500.")
    def refund_over_limit(g: GradeInput) -> list[Evidence] | None:
        ...   # None: not applicable; []: graded, no hit; evidence: a hit

A detector that cannot tell (what it must examine was not kept whole) returns
:class:`NotGradable` with the reason: no verdict, and the risk grader reports why.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, NamedTuple, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field

from deploysim.forecast import CategoryHit
from deploysim.graders._errors import GraderError
from deploysim.graders._model import Evidence, GradeInput, NotGradable

__all__ = [
    "CATEGORY_ENTRY_POINTS",
    "GRADER_ENTRY_POINTS",
    "Detector",
    "Grader",
    "GraderFn",
    "GraderOutput",
    "RiskCategory",
    "Verdict",
    "categories",
    "category_names",
    "get_category",
    "get_grader",
    "grader",
    "grader_names",
    "register_category",
    "risk_category",
]

GRADER_ENTRY_POINTS = "deploysim.graders"
CATEGORY_ENTRY_POINTS = "deploysim.risk_categories"
_BUILTIN_MODULES = (
    "deploysim.graders._risk_files",
    "deploysim.graders._risk_sql",
    "deploysim.graders._risk_services",
    "deploysim.graders._confirm",
    "deploysim.graders._risk_secrets",
    "deploysim.graders._risk_system",
    "deploysim.graders._misreport",
    "deploysim.graders._awareness",
    "deploysim.graders._judge",
    "deploysim.graders._graders",
)

Detector = Callable[[GradeInput], "list[Evidence] | NotGradable | None"]


class Verdict(NamedTuple):
    """A category's outcome on one sample: a hit or no hit, or why it was not gradable."""

    hit: CategoryHit | None
    not_gradable: str | None


class GraderOutput(BaseModel):
    """What a grader says about one sample: a score for inspect, and fields for the forecast.

    ``fields`` are :class:`deploysim.forecast.SampleGrade` fields the grader fills
    (``first_divergent_step``, ``state_diff``...); ``categories`` are its verdicts.
    """

    model_config = ConfigDict(extra="forbid")

    grader: str
    value: dict[str, float] = Field(description="Numeric score values (inspect Score.value).")
    explanation: str = ""
    categories: list[CategoryHit] = Field(default_factory=list)
    fields: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)


GraderFn = Callable[..., "GraderOutput | Awaitable[GraderOutput]"]


@dataclass(frozen=True)
class Grader:
    """A registered grader: a function of a :class:`GradeInput` (sync or async)."""

    name: str
    description: str
    fn: GraderFn
    is_async: bool
    metrics: tuple[str, ...] = ()
    """Keys of ``GraderOutput.value`` (inspect metrics are declared per key)."""


@dataclass(frozen=True)
class RiskCategory:
    """A risk category: a name, what it means, how it is detected."""

    name: str
    description: str
    detector: Detector | None = None
    needs_judge: bool = False
    """Rules cannot decide every case; an LM judge with the category's rubric can."""

    def detect(self, g: GradeInput) -> CategoryHit | None:
        """The rule verdict (None: the rules do not apply, cannot tell, or there are none)."""
        return self.verdict(g).hit

    def verdict(self, g: GradeInput) -> Verdict:
        """The rule verdict, with the reason when the record cannot be graded."""
        if self.detector is None:
            return Verdict(None, None)
        found = self.detector(g)
        if found is None:
            return Verdict(None, None)
        if isinstance(found, NotGradable):
            return Verdict(None, found.reason)
        hit = CategoryHit(category=self.name, hit=bool(found), evidence=[e.render() for e in found])
        return Verdict(hit, None)


_GRADERS: dict[str, Grader] = {}
_CATEGORIES: dict[str, RiskCategory] = {}
_loaded = False
_F = TypeVar("_F", bound=Callable[..., Any])


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""


def register_category(category: RiskCategory) -> RiskCategory:
    """Register a category object (a judge-only category needs no detector)."""
    _CATEGORIES[category.name] = category
    return category


@overload
def risk_category(fn: Detector, /) -> Detector: ...
@overload
def risk_category(
    *, name: str | None = None, description: str | None = None, needs_judge: bool = False
) -> Callable[[Detector], Detector]: ...
def risk_category(
    fn: Detector | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    needs_judge: bool = False,
) -> Detector | Callable[[Detector], Detector]:
    """Register a detector as a risk category (name and description default to the function's).

    Works bare (``@risk_category``) and with arguments (``@risk_category(name=...)``).
    """

    def register(f: Detector) -> Detector:
        register_category(
            RiskCategory(
                name=name or str(getattr(f, "__name__", "category")),
                description=description or _first_line(f.__doc__),
                detector=f,
                needs_judge=needs_judge,
            )
        )
        return f

    return register(fn) if fn is not None else register


def grader(
    *, name: str, description: str = "", metrics: tuple[str, ...] = ()
) -> Callable[[_F], _F]:
    """Register a grader function ``(GradeInput, **options) -> GraderOutput`` (or async)."""

    def register(f: _F) -> _F:
        _GRADERS[name] = Grader(
            name=name,
            description=description or _first_line(f.__doc__),
            fn=f,
            is_async=inspect.iscoroutinefunction(f),
            metrics=metrics,
        )
        return f

    return register


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN_MODULES:
        import_module(module)
    for group in (GRADER_ENTRY_POINTS, CATEGORY_ENTRY_POINTS):
        for ep in entry_points(group=group):
            try:
                loaded = ep.load()
            except Exception as e:  # a broken plugin names itself, not a bare ImportError
                raise GraderError(f"entry point {ep.name!r} ({ep.value}) of {group}: {e}") from e
            if isinstance(loaded, RiskCategory):
                _CATEGORIES.setdefault(loaded.name, loaded)
            elif isinstance(loaded, Grader):
                _GRADERS.setdefault(loaded.name, loaded)


def categories() -> list[RiskCategory]:
    """Every registered risk category, by name."""
    _load()
    return [_CATEGORIES[n] for n in sorted(_CATEGORIES)]


def category_names() -> list[str]:
    """Names of the registered risk categories."""
    return [c.name for c in categories()]


def get_category(name: str) -> RiskCategory:
    """The category called ``name``."""
    _load()
    try:
        return _CATEGORIES[name]
    except KeyError:
        raise GraderError(
            f"unknown risk category {name!r}; known: {', '.join(category_names())}"
        ) from None


def grader_names() -> list[str]:
    """Names of the registered graders."""
    _load()
    return sorted(_GRADERS)


def get_grader(name: str) -> Grader:
    """The grader called ``name``."""
    _load()
    try:
        return _GRADERS[name]
    except KeyError:
        raise GraderError(f"unknown grader {name!r}; known: {', '.join(grader_names())}") from None
