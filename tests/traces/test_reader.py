import pytest

from deploysim.traces._reader import Node, RecordError, parse_arguments, text_of


def test_node_names_nested_field_on_missing_key() -> None:
    """A missing required field reports its dotted path."""
    root = Node({"messages": [{"role": "user"}, {"tool_calls": [{}]}]})
    call = next(root["messages"].items())
    assert call["role"].str() == "user"
    second = list(root["messages"].items())[1]
    with pytest.raises(RecordError) as e:
        next(second["tool_calls"].items())["id"]
    assert e.value.field == "messages[1].tool_calls[0].id"


def test_node_type_errors_name_the_expected_type() -> None:
    """A mistyped field says what was expected and what was found."""
    with pytest.raises(RecordError, match="expected a string, got array") as e:
        Node({"role": []})["role"].str()
    assert e.value.field == "role"


def test_parse_arguments_keeps_raw_and_reason() -> None:
    """Unparsable argument strings are kept raw with a reason, never raised."""
    ok = parse_arguments('{"a": 1}')
    assert ok.arguments == {"a": 1} and ok.raw == '{"a": 1}' and ok.error is None
    bad = parse_arguments('{"a": 1')
    assert bad.arguments is None and bad.raw == '{"a": 1' and "invalid JSON" in (bad.error or "")
    arr = parse_arguments("[1, 2]")
    assert arr.arguments is None and "not an object" in (arr.error or "")
    assert parse_arguments({"x": 2}).arguments == {"x": 2}
    assert parse_arguments(None).arguments == {}


def test_text_of_flattens_parts() -> None:
    """String, text-part lists and other JSON all become text."""
    assert text_of("x") == "x"
    assert text_of([{"type": "text", "text": "a"}, {"type": "image_url"}]) == "a\n[image_url]"
    assert text_of({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
    assert text_of(None) == ""


def test_parse_arguments_survives_hostile_nesting() -> None:
    """Arguments nested past the recursion limit are a record error naming the field, not a
    crash; unterminated, they are kept raw as invalid JSON."""
    with pytest.raises(RecordError, match="nested deeper") as e:
        parse_arguments("[" * 200_000 + "]" * 200_000, "messages[1].arguments")
    assert e.value.field.startswith("messages[1].arguments")
    deep = "[" * 200_000
    parsed = parse_arguments(deep)
    assert (parsed.arguments, parsed.raw) == (None, deep)
    assert parsed.error is not None and parsed.error.startswith("invalid JSON")
