"""A small, forgiving reader of shell command lines, for rule-based risk detection.

It splits a command line into simple commands (on ``;``, ``&&``, ``||``, ``|``, ``&`` and
newlines), keeps each command's words and output redirections, unwraps ``sudo``/``env``/
``nohup``/``timeout`` prefixes and descends into ``bash -c '...'``. It never runs anything
and never fails: text that does not tokenize is split on whitespace.
"""

from __future__ import annotations

import re
import shlex
from typing import NamedTuple

__all__ = [
    "Redirect",
    "SimpleCommand",
    "parse_commands",
    "string_literals",
    "urls_in",
]

_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "\n", "|&", ";;", "(", ")"})
_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<", "<<", "<<<"})
_WRAPPERS = frozenset({"nohup", "time", "nice", "ionice", "stdbuf", "exec", "command", "builtin"})
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_URL = re.compile(r"\b(?:https?|ftp|wss?|ssh|git)://[^\s'\"<>`)]+", re.I)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_LITERAL = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'((?:[^'\\]|\\.)*)'", re.S)


class Redirect(NamedTuple):
    """An output or input redirection: the operator and its target word."""

    op: str
    target: str


class SimpleCommand(NamedTuple):
    """One command of a command line."""

    argv: list[str]
    redirects: list[Redirect]
    elevated: str | None
    """The privilege wrapper it ran under (``sudo``, ``su``, ``doas``...), if any."""
    cwd: str | None = None
    """The folder an earlier ``cd`` of the same command line moved to, if any."""

    @property
    def name(self) -> str:
        """The program's base name (``/usr/bin/rm`` -> ``rm``), or ''."""
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""

    @property
    def operands(self) -> list[str]:
        """Arguments that are not options."""
        return [a for a in self.argv[1:] if not a.startswith("-")]


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>()\n")
    lexer.whitespace = " \t\r"  # newlines are kept: they separate commands
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:
        return line.replace(";", " ; ").replace("\n", " ; ").split()


_ELEVATORS = frozenset({"sudo", "su", "doas", "pkexec", "runuser"})
_VALUED = frozenset({"-u", "-g", "-C", "-h", "-p", "-U", "-r", "-t", "-D", "-R"})


def _after_options(rest: list[str], valued: frozenset[str]) -> list[str]:
    while rest and rest[0].startswith("-") and rest[0] != "-c":
        opt = rest.pop(0)
        if opt in valued and rest:
            rest.pop(0)
    return rest


def _unwrap(argv: list[str]) -> tuple[list[str], str | None]:
    """Strip privilege and process wrappers; ``su -c CMD`` becomes ``sh -c CMD``."""
    elevated: str | None = None
    while argv:
        head = argv[0].rsplit("/", 1)[-1]
        rest = list(argv[1:])
        if head in ("su", "runuser"):
            elevated = head
            if "-c" in rest and rest.index("-c") + 1 < len(rest):
                return ["sh", "-c", rest[rest.index("-c") + 1]], elevated
            return [], elevated
        if head in _ELEVATORS:
            elevated = head
            argv = _after_options(rest, _VALUED)
        elif head in ("env", *_WRAPPERS):
            while rest and (rest[0].startswith("-") or "=" in rest[0]):
                rest.pop(0)
            argv = rest
        elif head == "timeout":
            rest = _after_options(rest, frozenset({"-s", "-k", "--signal", "--kill-after"}))
            argv = rest[1:]
        else:
            break
    return argv, elevated


def _split(tokens: list[str]) -> list[SimpleCommand]:
    out: list[SimpleCommand] = []
    argv: list[str] = []
    redirects: list[Redirect] = []

    def flush() -> None:
        nonlocal argv, redirects
        words = list(argv)
        while words and _ASSIGNMENT.match(words[0]):
            words.pop(0)
        words, elevated = _unwrap(words)
        if words or redirects:
            out.append(SimpleCommand(words, redirects, elevated))
        argv, redirects = [], []

    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if t in _SEPARATORS or set(t) <= set(";&|\n()"):
            flush()
        elif t.isdigit() and nxt[:1] in (">", "<"):
            pass  # the file descriptor of a redirection (2>/dev/null)
        elif t in _REDIRECTS or t[:1] in (">", "<"):
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            redirects.append(Redirect(t.lstrip("0123456789") or t, target))
            i += 1
        else:
            argv.append(t)
        i += 1
    flush()
    return out


def _with_cwd(commands: list[SimpleCommand]) -> list[SimpleCommand]:
    cwd: str | None = None
    out: list[SimpleCommand] = []
    for c in commands:
        out.append(c._replace(cwd=cwd))
        if c.name == "cd" and c.operands:
            target = c.operands[0]
            cwd = target if target.startswith("/") or cwd is None else f"{cwd}/{target}"
    return out


def parse_commands(line: str, depth: int = 0) -> list[SimpleCommand]:
    """The simple commands of a command line, ``bash -c`` bodies included."""
    commands = _with_cwd(_split(_tokens(line)))
    if depth >= 3:
        return commands
    nested: list[SimpleCommand] = []
    for c in commands:
        if c.name in _SHELLS and "-c" in c.argv[1:]:
            i = c.argv.index("-c")
            if i + 1 < len(c.argv):
                inner = parse_commands(c.argv[i + 1], depth + 1)
                nested.extend(
                    SimpleCommand(n.argv, n.redirects, n.elevated or c.elevated) for n in inner
                )
    return commands + nested


def string_literals(text: str) -> list[str]:
    """The quoted string literals of a piece of code or a command line."""
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _LITERAL.finditer(text)]


def urls_in(text: str) -> list[str]:
    """URLs written in a text."""
    return [m.group(0).rstrip(".,;") for m in _URL.finditer(text)]
