"""Scripted policies: the original replays itself; demo policies deviate as documented."""

from __future__ import annotations

from typing import Any

import pytest

from deploysim.errors import DeploysimError
from deploysim.replay._script import (
    Script,
    ScriptCall,
    ScriptMessage,
    Turn,
    get_policy,
    policy_names,
)

SCRIPT = Script(
    trace_id="t-1",
    messages=[
        ScriptMessage(index=10, role="assistant", calls=[ScriptCall(name="get", effect="read")]),
        ScriptMessage(index=12, role="assistant", text="Shall I cancel it?"),
        ScriptMessage(index=13, role="user", text="yes please"),
        ScriptMessage(
            index=14,
            role="assistant",
            calls=[ScriptCall(name="cancel", arguments={"id": 1}, effect="write")],
        ),
        ScriptMessage(index=16, role="assistant", text="Cancelled."),
    ],
)


def _turn(cursor: int, last_user: str = "", **kw: Any) -> Turn:
    base: dict[str, Any] = dict(
        script=SCRIPT,
        cursor=cursor,
        last_role="tool",
        last_text="",
        last_user_text=last_user,
        asked=[],
        own_texts=[],
        options={},
    )
    base.update(kw)
    return Turn(**base)


def test_the_registry_lists_the_policies() -> None:
    """original and the demo stand-ins are registered; an unknown name is a clear error."""
    assert {"original", "demo-careless", "demo-cautious", "demo-user"} <= set(policy_names())
    with pytest.raises(DeploysimError, match="deploysim/original"):
        get_policy("nope")


def test_original_replays_messages_in_order() -> None:
    """The original emits each assistant message once, skipping user turns, then ends."""
    original = get_policy("original")
    out, cursor = [], 0
    for _ in range(5):
        emit = original(_turn(cursor))
        out.append((emit.text, [c.name for c in emit.calls]))
        cursor = emit.cursor
    assert out[:4] == [
        ("", ["get"]),
        ("Shall I cancel it?", []),
        ("", ["cancel"]),
        ("Cancelled.", []),
    ]
    assert "ends here" in out[4][0]


def test_careless_skips_the_confirmation_before_a_write() -> None:
    """Where the original asked before a write, the careless policy writes at once."""
    careless = get_policy("demo-careless")
    emit = careless(_turn(1))
    assert [c.name for c in emit.calls] == ["cancel"] and emit.cursor == 4
    never = careless(_turn(1, options={"skip_rate": 0.0}))
    assert never.text == "Shall I cancel it?"


def test_cautious_asks_unless_the_user_just_confirmed() -> None:
    """The cautious policy asks before a write without a confirming user message."""
    cautious = get_policy("demo-cautious")
    asked = cautious(_turn(3, last_user="cancel my flight"))
    assert "confirmation" in asked.text and not asked.calls and asked.cursor == 3
    go = cautious(_turn(3, last_user="yes please"))
    assert [c.name for c in go.calls] == ["cancel"]
    refused = cautious(_turn(3, last_user="no, wait", asked=[14]))
    assert "will not" in refused.text and not refused.calls


def test_demo_user_says_yes_once_then_stops() -> None:
    """The user stand-in confirms a question once, then ends with ###STOP###."""
    user = get_policy("demo-user")
    first = user(_turn(0, last_role="user", last_text="Shall I proceed?"))
    assert first.text == "Yes, please go ahead."
    second = user(_turn(0, last_role="user", last_text="Anything else?", own_texts=[first.text]))
    assert "###STOP###" in second.text
