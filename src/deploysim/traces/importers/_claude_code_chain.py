"""The conversation chain of a Claude Code session file, and the sidechains beside it.

Every walk here is iterative and marks each line once, so a hostile file (a chain of a
million lines, loops, many lines naming one parent) costs time linear in its lines.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from deploysim.traces._reader import Node

__all__ = [
    "Chain",
    "Split",
    "follow_chain",
    "is_conversation",
    "parent_of",
    "split_sidechains",
    "uuid_of",
]

_CONVERSATION = ("user", "assistant")


def uuid_of(value: Any) -> str | None:
    """The line's uuid; None when it has none (summaries, queue operations)."""
    u = value.get("uuid") if isinstance(value, dict) else None
    return u if isinstance(u, str) and u else None


def parent_of(value: Any) -> str | None:
    """The line before this one: ``parentUuid``, at a compaction ``logicalParentUuid``."""
    for key in ("parentUuid", "logicalParentUuid"):
        p = value.get(key) if isinstance(value, dict) else None
        if isinstance(p, str) and p:
            return p
    return None


def is_conversation(value: Any) -> bool:
    """A user or assistant line carrying an API message."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("type"), str)
        and value["type"] in _CONVERSATION
        and "message" in value
    )


def _roots(lines: list[int], entries: list[Any], index: dict[str, int]) -> dict[int, int]:
    """The first line of the chain each line is on; a loop ends the walk where it closes."""
    root: dict[int, int] = {}
    for i in lines:
        if i in root:
            continue
        trail: list[int] = []
        on_trail: set[int] = set()
        j = i
        while j not in root and j not in on_trail:
            trail.append(j)
            on_trail.add(j)
            p = parent_of(entries[j])
            if p is None or p not in index:
                break
            j = index[p]
        top = root.get(j, trail[-1])  # memoized lines are walked once: O(lines) overall
        for t in trail:
            root[t] = top
    return root


class Split(NamedTuple):
    """The lines of a file: the session's, and each sidechain's (by first appearance)."""

    main: list[int]
    sidechains: list[list[int]]


def split_sidechains(entries: list[Any]) -> Split:
    """Group ``isSidechain`` lines by the chain root they hang from; the rest is the session."""
    side = [
        i for i, v in enumerate(entries) if isinstance(v, dict) and v.get("isSidechain") is True
    ]
    index: dict[str, int] = {}
    for i in side:
        if (u := uuid_of(entries[i])) is not None:
            index.setdefault(u, i)
    roots = _roots(side, entries, index)
    groups: dict[int, list[int]] = {}
    for i in side:
        groups.setdefault(roots[i], []).append(i)
    in_side = set(side)
    return Split([i for i in range(len(entries)) if i not in in_side], list(groups.values()))


class Chain(NamedTuple):
    """The conversation of a set of lines: the chain, and what is off it."""

    path: list[int]
    """Line indexes of the conversation, root first."""
    continues_from: str | None
    """The root's parent when it is not in the file (an earlier session, a parent chain)."""
    branches: list[dict[str, Any]]
    """Conversation lines off the chain: ``{"fork", "lines", "tool_calls"}`` per fork point."""
    duplicates: list[int]
    """Lines repeating an earlier line's uuid (the first one is the conversation's)."""


def _index(nodes: dict[int, Node]) -> tuple[dict[str, int], list[int]]:
    index: dict[str, int] = {}
    duplicates: list[int] = []
    for i, node in nodes.items():
        node.obj()
        if (u := uuid_of(node.value)) is not None:
            if u in index:
                duplicates.append(i)  # a line logged twice: the first one is the conversation's
            else:
                index[u] = i
    return index, duplicates


def _parent_line(value: Any, index: dict[str, int]) -> int | None:
    p = parent_of(value)
    return index.get(p) if p is not None else None


def _leaf(nodes: dict[int, Node], index: dict[str, int]) -> int | None:
    """The last conversation line no other conversation line continues."""
    convo = [i for i in index.values() if is_conversation(nodes[i].value)]
    continued: set[int] = set()
    for i in convo:
        j = _parent_line(nodes[i].value, index)
        while j is not None and j not in continued:  # each line is marked once: O(lines)
            continued.add(j)
            j = _parent_line(nodes[j].value, index)
    leaves = [i for i in convo if i not in continued] or convo
    return leaves[-1] if leaves else None


def _walk(leaf: int, nodes: dict[int, Node], index: dict[str, int]) -> tuple[list[int], str | None]:
    path: list[int] = []
    seen: set[int] = set()
    i: int | None = leaf
    while i is not None:
        if i in seen:
            raise (
                nodes[path[-1]]
                .get("parentUuid")
                .fail(f"the parentUuid chain loops back to lines[{i}]")
            )
        seen.add(i)
        path.append(i)
        p = parent_of(nodes[i].value)
        if p is not None and p not in index:
            path.reverse()
            return path, p
        i = index[p] if p is not None else None
    path.reverse()
    return path, None


def _branches(
    nodes: dict[int, Node], index: dict[str, int], on_path: set[int]
) -> list[dict[str, Any]]:
    """Conversation lines off the chain, grouped by the chain line they fork from."""
    fork_of: dict[int, str | None] = {}
    groups: dict[str | None, list[int]] = {}
    for i in index.values():
        if i in on_path or not is_conversation(nodes[i].value):
            continue
        trail: set[int] = set()
        j: int | None = i
        while j is not None and j not in on_path and j not in fork_of and j not in trail:
            trail.add(j)
            j = _parent_line(nodes[j].value, index)
        fork: str | None = None  # a root, a parent from elsewhere, or a loop: no fork point
        if j is not None and j in on_path:
            fork = uuid_of(nodes[j].value)
        elif j is not None and j in fork_of:
            fork = fork_of[j]
        fork_of.update(dict.fromkeys(trail, fork))
        groups.setdefault(fork, []).append(i)
    return [
        {"fork": fork, "lines": lines, "tool_calls": sum(_tool_uses(nodes[i].value) for i in lines)}
        for fork, lines in groups.items()
    ]


def _tool_uses(value: Any) -> int:
    content = value.get("message", {}).get("content") if isinstance(value, dict) else None
    if not isinstance(content, list):
        return 0
    return sum(1 for b in content if isinstance(b, dict) and b.get("type") == "tool_use")


def follow_chain(nodes: dict[int, Node]) -> Chain:
    """The chain from the last conversation line no other continues back to its root.

    Raises RecordError (via Node) for a line that is not an object or a chain that loops.
    """
    index, duplicates = _index(nodes)
    leaf = _leaf(nodes, index)
    if leaf is None:
        return Chain([], None, [], duplicates)
    path, continues_from = _walk(leaf, nodes, index)
    return Chain(path, continues_from, _branches(nodes, index, set(path)), duplicates)
