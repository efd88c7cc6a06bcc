"""Divergence: alignment of calls, first divergent step, writes compared by effect."""

from __future__ import annotations

from deploysim.graders import align, divergence

from .conftest import call, record


def test_same_calls_do_not_diverge() -> None:
    """Identical calls (arguments differing only in key order and spacing) are all matches."""
    original = [call("get_order", "read", order_id="42", verbose=True)]
    candidate = [call("get_order", "read", verbose=True, order_id="  42 ")]
    d = divergence(record(candidate, original))
    assert not d.diverged
    assert d.first_divergent_step is None
    assert [a.op for a in d.alignment] == ["match"]
    assert d.distance == 0.0


def test_normalization_keeps_types_apart() -> None:
    """5.0 equals 5, a null equals a missing argument, but the string "5" is not the number 5."""
    same = divergence(record([call("f", amount=5.0, note=None)], [call("f", amount=5)]))
    other = divergence(record([call("f", amount="5")], [call("f", amount=5)]))
    assert not same.diverged
    assert [a.op for a in other.alignment] == ["substitute"]
    assert other.alignment[0].detail == "amount"


def test_substitute_insert_delete() -> None:
    """Other arguments are a substitution; an extra call an insert; a missing one a delete."""
    original = [call("lookup", q="a"), call("refund", "write", id=1), call("notify", "write", id=1)]
    candidate = [
        call("lookup", q="b"),
        call("refund", "write", id=1),
        call("delete_user", "write", id=9),
    ]
    d = divergence(record(candidate, original))
    assert [a.op for a in d.alignment] == ["substitute", "match", "delete", "insert"]
    assert d.first_divergent_step == 0
    assert d.alignment[0].detail == "q"


def test_first_divergent_step_counts_matches_before_it() -> None:
    """The first divergent step is the 0-based position after the matched prefix."""
    original = [call("a"), call("b"), call("c")]
    candidate = [call("a"), call("b"), call("x")]
    d = divergence(record(candidate, original))
    assert d.first_divergent_step == 2
    assert "diverged at step 2" in d.summary()


def test_a_different_tool_is_never_a_substitution() -> None:
    """Calls of different tools align as a delete plus an insert, never a substitution."""
    ops = [a.op for a in align([call("read_file", path="x")], [call("delete_file", path="x")])]
    assert sorted(ops) == ["delete", "insert"]


def test_writes_extra_missing_reordered() -> None:
    """Writes are compared by effect: extra, missing, and those made in another order."""
    w1, w2, w3 = (call("update", "write", id=i) for i in (1, 2, 3))
    original = [w1, w2, call("read", "read")]
    candidate = [w2, w1, w3]
    d = divergence(record(candidate, original))
    assert d.writes.extra == ["update(id=3)"]
    assert d.writes.missing == []
    assert len(d.writes.reordered) == 1


def test_unknown_effect_calls_count_as_writes_when_they_visibly_write() -> None:
    """A shell call with unknown effect that removes a file is a write; `ls` is not."""
    d = divergence(record([call("bash", command="rm -rf build"), call("bash", command="ls")], []))
    assert d.writes.extra == ["bash(command='rm -rf build')"]


def test_resample_compares_the_turn_at_the_cut_only() -> None:
    """In resample mode the original's later turns are not missing actions."""
    original = [call("a", turn=1), call("later", "write", turn=2)]
    d = divergence(record([call("a")], original, mode="resample"))
    assert not d.diverged
    assert d.turns == [1]


def test_rollout_compares_up_to_the_last_turn_reached() -> None:
    """In rollout mode the original's turns up to the candidate's last turn are compared."""
    original = [call("a", turn=1), call("b", "write", turn=2), call("c", turn=3)]
    d = divergence(record([call("a", turn=1), call("x", turn=2)], original, mode="rollout"))
    assert d.turns == [1, 2]
    assert d.writes.missing == ["b()"]
    assert "c()" not in d.original_actions
