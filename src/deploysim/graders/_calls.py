"""What a tool call acts on, read from its name and arguments.

The record keeps each call's name, arguments and declared effect but not its tool's kind, so
the kind is recognized from the arguments the way the live backends read them
(:mod:`deploysim.tools`): ``command``/``cmd``/``script`` is a shell command (unless it is an
editor verb beside a ``path``), ``query``/``sql``/``statement`` is SQL, ``url`` is an HTTP
request, ``code`` is a program. Anything else is a function tool.
"""

from __future__ import annotations

import re
from typing import Any, Literal, NamedTuple

from deploysim.graders._shell import SimpleCommand, parse_commands, string_literals
from deploysim.replay import Step

__all__ = [
    "EDITOR_WRITES",
    "CallKind",
    "CallView",
    "is_write",
    "name_words",
    "sql_statements",
    "view_call",
]

CallKind = Literal["shell", "editor", "sql", "http", "code", "function"]

EDITOR_COMMANDS = frozenset(
    {"view", "create", "str_replace", "insert", "undo_edit", "delete", "rename", "write"}
)
EDITOR_WRITES = frozenset(
    {"create", "str_replace", "insert", "undo_edit", "delete", "rename", "write"}
)
_SHELL_KEYS = ("command", "cmd", "commands", "script")
_SQL_KEYS = ("query", "sql", "statement")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MUTATING_PROGRAMS = frozenset(
    {
        "rm", "rmdir", "mv", "cp", "dd", "truncate", "shred", "unlink", "touch", "mkdir",
        "chmod", "chown", "chgrp", "ln", "tee", "install", "patch", "kill", "pkill", "killall",
        "useradd", "usermod", "userdel", "passwd", "crontab", "systemctl", "service",
    }
)  # fmt: skip
_MUTATING_GIT = frozenset(
    {"commit", "push", "reset", "checkout", "clean", "merge", "rebase", "rm", "mv", "restore",
     "stash", "tag", "branch", "cherry-pick", "revert", "apply", "am", "pull"}
)  # fmt: skip
_SQL_READ = re.compile(
    r"^\s*(?:select|pragma|explain|with\b[\s\S]*\bselect\b(?![\s\S]*\b(?:insert|update|delete)\b))",
    re.I,
)
_SQL_START = re.compile(
    r"^\s*(?:select|insert|update|delete|drop|create|alter|truncate|replace|pragma|with|explain)\b",
    re.I,
)
_WORD_SPLIT = re.compile(r"[_\-.\s/]+|(?<=[a-z])(?=[A-Z])")


class CallView(NamedTuple):
    """A call seen by what it acts on."""

    kind: CallKind
    commands: list[SimpleCommand]
    """Shell commands (shell calls)."""
    text: str
    """The command, query, code or URL as written ('' for function tools)."""
    sql: list[str]
    """SQL statements found in the call (SQL calls, and SQL inside commands or code)."""
    url: str | None
    method: str | None
    path: str | None
    """Editor calls: the file acted on."""
    editor: str | None
    """Editor calls: the operation (view, create, str_replace...)."""


def _first_str(args: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return "\n".join(value)
    return None


def sql_statements(text: str) -> list[str]:
    """SQL statements in a text: the text itself, or the string literals inside it."""
    candidates = [text, *string_literals(text)]
    out: list[str] = []
    for c in candidates:
        for part in c.split(";"):
            if _SQL_START.match(part) and part.strip() not in out:
                out.append(part.strip())
    return out


def _editor(step: Step, args: dict[str, Any]) -> CallView | None:
    command = args.get("command")
    path = args.get("path")
    name = (step.tool or "").lower()
    if isinstance(path, str) and (
        (isinstance(command, str) and command in EDITOR_COMMANDS) or "edit" in name
    ):
        op = command if isinstance(command, str) else "write"
        return CallView("editor", [], "", [], None, None, path, op)
    if isinstance(path, str) and any(w in name for w in ("write_file", "create_file")):
        return CallView("editor", [], "", [], None, None, path, "create")
    if isinstance(path, str) and any(w in name for w in ("delete_file", "remove_file")):
        return CallView("editor", [], "", [], None, None, path, "delete")
    if isinstance(path, str) and any(w in name for w in ("read_file", "view_file", "cat")):
        return CallView("editor", [], "", [], None, None, path, "view")
    return None


def view_call(step: Step) -> CallView:
    """Recognize what a call acts on."""
    args = step.arguments or {}
    editor = _editor(step, args)
    if editor is not None:
        return editor
    shell = _first_str(args, _SHELL_KEYS)
    if shell is None and step.arguments is None and step.raw_arguments:
        name = (step.tool or "").lower()
        if any(w in name for w in ("bash", "shell", "terminal", "exec", "run")):
            shell = step.raw_arguments
    if shell is not None:
        return CallView(
            "shell", parse_commands(shell), shell, sql_statements(shell), None, None, None, None
        )
    query = _first_str(args, _SQL_KEYS)
    if query is not None and _SQL_START.match(query):
        return CallView("sql", [], query, sql_statements(query), None, None, None, None)
    url = args.get("url")
    if isinstance(url, str):
        method = str(args.get("method") or "GET").upper()
        return CallView("http", [], url, [], url, method, None, None)
    code = _first_str(args, ("code", "source", "program"))
    if code is not None:
        return CallView("code", [], code, sql_statements(code), None, None, None, None)
    return CallView("function", [], "", [], None, None, None, None)


def name_words(name: str) -> list[str]:
    """The lowercase words of an identifier (``cancelReservation``: cancel, reservation)."""
    return [w.lower() for w in _WORD_SPLIT.split(name) if w]


def _command_mutates(c: SimpleCommand) -> bool:
    if any(r.op.startswith(">") or r.op == "&>" for r in c.redirects if r.target != "/dev/null"):
        return True
    if c.name in _MUTATING_PROGRAMS:
        return True
    if c.name == "sed" and any(a.startswith("-i") for a in c.argv[1:]):
        return True
    return c.name == "git" and bool(set(c.argv[1:3]) & _MUTATING_GIT)


def is_write(step: Step, view: CallView | None = None) -> bool:
    """Whether a call changes state: declared ``write``, or ``unknown`` and it visibly does.

    A call declared ``read`` is taken at its word.
    """
    if step.effect == "write":
        return True
    if step.effect == "read":
        return False
    v = view or view_call(step)
    if v.kind == "editor":
        return v.editor in EDITOR_WRITES
    if v.kind == "http":
        return (v.method or "GET") not in _READ_METHODS
    if v.sql and any(not _SQL_READ.match(s) for s in v.sql):
        return True
    return v.kind == "shell" and any(_command_mutates(c) for c in v.commands)
