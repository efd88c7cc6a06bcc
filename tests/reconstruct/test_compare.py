"""Output comparison: exact, then whitespace, JSON key order, declared volatile fields."""

from __future__ import annotations

import pytest

from deploysim.reconstruct import compare, parse_volatile


def test_identical_texts_match_exactly() -> None:
    """Equal texts are an exact match, with no diff."""
    assert compare("a\nb", "a\nb") == ("exact", None, None)


def test_whitespace_and_line_endings_are_normalized() -> None:
    """CRLF, trailing blanks and runs of spaces do not make a difference."""
    v = compare("x  = 1 \r\ny", "x = 1\ny\n")
    assert (v.match, v.how) == ("normalized", "whitespace")


def test_json_key_order_is_normalized() -> None:
    """Two JSON documents equal but for key order match once normalized."""
    v = compare('{"a": 1, "b": [1, 2]}', '{"b":[1,2],"a":1}')
    assert (v.match, v.how) == ("normalized", "json")


def test_declared_volatile_fields_and_patterns_are_ignored_only_for_their_tool() -> None:
    """A volatile JSON field (or regex) is masked for the tool it is declared for, no other."""
    volatile = parse_volatile(["get_order:created_at", "submit:re:index [0-9a-f]+\\.\\.[0-9a-f]+"])
    a, b = '{"id": 1, "created_at": "2024-01-01"}', '{"id": 1, "created_at": "2025-02-02"}'
    assert compare(a, b, "get_order", volatile).match == "normalized"
    assert compare(a, b, "other", volatile).match == "differs"
    d1, d2 = "index 8e8d319ae..6a1221b72 100644\n@@", "index 7537d01..3750ef5 100644\n@@"
    assert compare(d1, d2, "submit", volatile).how == "volatile patterns"


def test_a_difference_comes_with_a_unified_diff() -> None:
    """Differing outputs carry a diff from the recorded text to the replayed one."""
    v = compare("one\ntwo\n", "one\nthree\n")
    assert v.match == "differs"
    assert v.diff is not None and "-two" in v.diff and "+three" in v.diff


@pytest.mark.parametrize("item", ["nocolon", ":field", "tool:re:("])
def test_bad_volatile_declarations_are_refused(item: str) -> None:
    """A declaration without TOOL:FIELD, or with an invalid pattern, raises ValueError."""
    with pytest.raises(ValueError, match="volatile"):
        parse_volatile([item])
