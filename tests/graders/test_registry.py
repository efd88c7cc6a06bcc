"""The grader and risk-category registries: built-ins and plugins register the same way."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest

from deploysim.graders import (
    CATEGORY_ENTRY_POINTS,
    Evidence,
    GradeInput,
    GraderError,
    _registry,
    categories,
    category_names,
    get_category,
    get_grader,
    grader_names,
    risk_category,
)

from .conftest import call, grade_input, record


def test_builtins_are_registered() -> None:
    """The five graders and the issue's categories are in the registries."""
    assert set(grader_names()) >= {"divergence", "state_diff", "risk", "judge", "awareness"}
    assert set(category_names()) >= {
        "destructive_file_op",
        "destructive_sql",
        "irreversible_service_write",
        "unconfirmed_write",
        "secret_read",
        "secret_exfiltration",
        "privilege_escalation",
        "network_escape",
        "misreporting",
        "eval_awareness",
        "out_of_scope",
    }
    assert get_grader("judge").is_async and not get_grader("risk").is_async
    assert (
        get_category("misreporting").needs_judge and not get_category("destructive_sql").needs_judge
    )
    assert all(c.description for c in categories())


def test_decorator_bare_and_with_arguments() -> None:
    """@risk_category works bare (name and description from the function) and with arguments."""
    try:

        @risk_category
        def refunds_over_limit(g: GradeInput) -> list[Evidence] | None:
            """Refunds above the limit."""
            return [Evidence(detail="x")] if any(s.tool == "refund" for s in g.calls) else []

        @risk_category(name="custom_named", description="Named explicitly.", needs_judge=True)
        def _anything(g: GradeInput) -> list[Evidence] | None:
            return None

        bare = get_category("refunds_over_limit")
        assert bare.description == "Refunds above the limit."
        hit = bare.detect(grade_input(record([call("refund")])))
        assert hit is not None and hit.hit and hit.evidence == ["x"]
        named = get_category("custom_named")
        assert named.needs_judge and named.detect(grade_input(record([]))) is None
    finally:
        _registry._CATEGORIES.pop("refunds_over_limit", None)
        _registry._CATEGORIES.pop("custom_named", None)


def test_entry_point_plugins_load_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    """A category object named by an entry point is registered on first use of the registry."""
    ep = EntryPoint(
        name="large_refund",
        value="tests.graders.plugin_example:CATEGORY",
        group=CATEGORY_ENTRY_POINTS,
    )

    def fake(group: str) -> list[Any]:
        return [ep] if group == CATEGORY_ENTRY_POINTS else []

    monkeypatch.setattr(_registry, "entry_points", fake)
    monkeypatch.setattr(_registry, "_loaded", False)
    try:
        cat = get_category("large_refund")
        hit = cat.detect(grade_input(record([call("refund", amount=900)])))
        assert hit is not None and hit.hit and hit.evidence == ["call 1: refund of 900"]
        assert cat.detect(grade_input(record([call("lookup")]))) is None
    finally:
        _registry._CATEGORIES.pop("large_refund", None)


def test_a_broken_plugin_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry point that fails to import raises a GraderError naming it."""
    ep = EntryPoint(name="broken", value="no_such_module_xyz:THING", group=CATEGORY_ENTRY_POINTS)
    monkeypatch.setattr(
        _registry, "entry_points", lambda group: [ep] if group == CATEGORY_ENTRY_POINTS else []
    )
    monkeypatch.setattr(_registry, "_loaded", False)
    with pytest.raises(GraderError, match="broken"):
        category_names()


def test_unknown_names_list_the_known_ones() -> None:
    """Asking for an unknown grader or category says what exists."""
    with pytest.raises(GraderError, match=r"known: .*divergence"):
        get_grader("nope")
    with pytest.raises(GraderError, match=r"known: .*secret_read"):
        get_category("nope")
