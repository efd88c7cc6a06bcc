"""What shell commands' outputs show about files: contents, listings, modes, the agent's writes.

One parser per program (``cat``, ``cat -n``, ``head``, ``sed -n``, ``nl``, ``ls``, ``find``,
``tree``, ``git diff``), chosen by the command's first word; only plain commands are read
(``cd DIR && cmd`` is allowed; pipes, loops and substitutions are not, since their output no
longer says which file it came from). Commands that write (redirections, ``rm``, ``mv``,
``cp``, ``touch``, ``mkdir``, ``sed -i``, ``tee``, ``patch``, ``git apply``/``checkout``) mark
their targets as changed by the agent, so later views of them are not initial state.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterator
from typing import NamedTuple

__all__ = [
    "DirEntries",
    "FileLines",
    "FileMeta",
    "HunkContext",
    "Seen",
    "Written",
    "diff_facts",
    "shell_facts",
    "split_simple",
]


class FileLines(NamedTuple):
    """Lines ``start``.. of ``path`` (1-based); ``total`` when the view shows the file's length."""

    path: str
    start: int
    lines: list[str]
    total: int | None


class FileMeta(NamedTuple):
    """A path that exists, with what the view showed of it."""

    path: str
    kind: str  # "file", "dir" or "symlink"
    mode: str | None = None
    size: int | None = None
    blob: str | None = None
    """Abbreviated git blob id of its committed content (from a diff's index line)."""


class DirEntries(NamedTuple):
    """Entries of a directory (names, '/' suffixed for directories), complete or not."""

    path: str
    names: list[str]


class HunkContext(NamedTuple):
    """A diff hunk's function context: some line above ``before`` in ``path`` reads ``text``."""

    path: str
    before: int
    text: str


class Written(NamedTuple):
    """A path the agent's command created, changed or removed."""

    path: str
    how: str  # "created", "changed", "removed"


Seen = FileLines | FileMeta | DirEntries | HunkContext | Written
_Parser = Callable[[list[str], str, str], Iterator[Seen]]
_PARSERS: dict[str, _Parser] = {}
_UNSAFE = re.compile(r"[|;`$<>]|&&|\|\||\$\(")
_WRITERS = {
    "rm": "removed",
    "mv": "changed",
    "cp": "created",
    "touch": "created",
    "mkdir": "created",
    "tee": "changed",
    "patch": "changed",
    "chmod": "changed",
}


def _parser(*names: str) -> Callable[[_Parser], _Parser]:
    def register(fn: _Parser) -> _Parser:
        for n in names:
            _PARSERS[n] = fn
        return fn

    return register


def _abs(cwd: str, p: str) -> str:
    return posixpath.normpath(posixpath.join(cwd, p))


def split_simple(command: str, cwd: str) -> tuple[list[str], str] | None:
    """(words, directory) of a plain command, after an optional ``cd DIR &&``; else None."""
    text = command.strip()
    m = re.match(r"^cd\s+(\S+)\s*&&\s*(.*)$", text, re.S)
    if m:
        cwd, text = _abs(cwd, m.group(1)), m.group(2)
    if "\n" in text.strip() or _UNSAFE.search(text):
        return None
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    return (words, cwd) if words else None


def _writes(command: str, cwd: str) -> Iterator[Written]:
    for m in re.finditer(r"(?<![0-9&])>>?\s*([^\s;&|<>]+)", command):
        if m.group(1) != "/dev/null":
            yield Written(_abs(cwd, m.group(1).strip("'\"")), "changed")
    for segment in re.split(r"&&|\|\||;|\|", command):
        try:
            words = shlex.split(segment)
        except ValueError:
            continue
        if not words:
            continue
        prog, args = words[0], [w for w in words[1:] if not w.startswith("-")]
        if prog in _WRITERS:
            targets = args[-1:] if prog in ("mv", "cp") else args
            if prog == "mv" and args:
                yield Written(_abs(cwd, args[0]), "removed")
            for a in targets:
                yield Written(_abs(cwd, a), _WRITERS[prog])
        elif prog == "sed" and any(w.startswith("-i") for w in words):
            if args:
                yield Written(_abs(cwd, args[-1]), "changed")
        elif prog == "git" and args[:1] in (["apply"], ["checkout"], ["reset"], ["stash"]):
            yield Written(cwd, "changed")


def shell_facts(command: str, output: str, cwd: str) -> list[Seen]:
    """What one shell command and its output show (writes first, then views)."""
    out: list[Seen] = list(_writes(command, cwd))
    simple = split_simple(command, cwd)
    if simple is None:
        return out
    words, where = simple
    parser = _PARSERS.get(words[0])
    if parser is not None and not _looks_failed(output):
        out += list(parser(words[1:], output, where))
    return out


def _looks_failed(output: str) -> bool:
    return bool(re.search(r"No such file or directory|Permission denied|command not found", output))


def _lines(output: str) -> list[str]:
    return output.split("\n")[:-1] if output.endswith("\n") else output.split("\n")


def _flags(args: list[str]) -> tuple[set[str], list[str]]:
    flags = {a for a in args if a.startswith("-")}
    return flags, [a for a in args if not a.startswith("-")]


@_parser("cat")
def _cat(args: list[str], output: str, cwd: str) -> Iterator[Seen]:
    flags, files = _flags(args)
    if len(files) != 1:
        return
    path = _abs(cwd, files[0])
    if not flags:
        lines = _lines(output)
        yield FileLines(path, 1, lines, len(lines))
    elif flags <= {"-n"}:
        yield from _numbered(path, output, every=True)


@_parser("nl")
def _nl(args: list[str], output: str, cwd: str) -> Iterator[Seen]:
    flags, files = _flags(args)
    if len(files) == 1 and not flags:
        yield from _numbered(_abs(cwd, files[0]), output, every=False)


def _numbered(path: str, output: str, every: bool) -> Iterator[Seen]:
    """``cat -n`` (every line numbered) or ``nl`` (blank lines unnumbered) output."""
    found: dict[int, str] = {}
    for line in _lines(output):
        m = re.match(r"^\s*(\d+)\t(.*)$", line)
        if m:
            found[int(m.group(1))] = m.group(2)
        elif every:
            return
    if found and every:
        yield FileLines(path, 1, [found[i] for i in sorted(found)], max(found))
    else:
        for n, text in sorted(found.items()):
            yield FileLines(path, n, [text], None)


@_parser("head")
def _head(args: list[str], output: str, cwd: str) -> Iterator[Seen]:
    n, files = 10, []
    it = iter(args)
    for a in it:
        if a == "-n":
            count = next(it, "10")
            if not count.isdigit():
                return
            n = int(count)
        elif re.fullmatch(r"-n?\d+", a):
            n = int(a.lstrip("-n"))
        elif not a.startswith("-"):
            files.append(a)
        else:
            return
    if len(files) == 1:
        lines = _lines(output)
        yield FileLines(_abs(cwd, files[0]), 1, lines, len(lines) if len(lines) < n else None)


@_parser("sed")
def _sed(args: list[str], output: str, cwd: str) -> Iterator[Seen]:
    if len(args) != 3 or args[0] != "-n":
        return
    m = re.fullmatch(r"(\d+)(?:,(\d+))?p", args[1])
    if not m:
        return
    start = int(m.group(1))
    end = int(m.group(2) or start)
    lines = _lines(output)
    total = start + len(lines) - 1 if len(lines) < end - start + 1 else None
    yield FileLines(_abs(cwd, args[2]), start, lines, total)


_LS_LONG = re.compile(
    r"^([-dlcbps])([rwxsStT-]{9})[.+@]?\s+\d+\s+\S+\s+\S+\s+(\d+)\s+\w+\s+\d+\s+[\d:]+\s+(.+)$"
)


def _mode(bits: str) -> str:
    value = 0
    for i, ch in enumerate(bits):
        if ch not in "-ST":
            value |= 1 << (8 - i)
    return f"{value:04o}"


@_parser("ls")
def _ls(args: list[str], output: str, cwd: str) -> Iterator[Seen]:
    flags, dirs = _flags(args)
    if len(dirs) > 1:
        return
    base = _abs(cwd, dirs[0]) if dirs else cwd
    letters = "".join(f.lstrip("-") for f in flags)
    names: list[str] = []
    for line in _lines(output):
        if not line or line.startswith("total "):
            continue
        m = _LS_LONG.match(line)
        if "l" in letters and m:
            kind = {"d": "dir", "l": "symlink"}.get(m.group(1), "file")
            name = m.group(4).split(" -> ")[0]
            if name in (".", ".."):
                continue
            path = posixpath.join(base, name)
            size = int(m.group(3)) if kind == "file" else None
            yield FileMeta(path, kind, _mode(m.group(2)), size)
            names.append(name + ("/" if kind == "dir" else ""))
        elif "l" not in letters:
            for name in line.split():
                if "F" in letters and name.endswith("/"):
                    yield FileMeta(posixpath.join(base, name[:-1]), "dir")
                    names.append(name)
                elif "F" in letters:
                    clean = name.rstrip("*@=|")
                    kind = "symlink" if name.endswith("@") else "file"
                    yield FileMeta(posixpath.join(base, clean), kind)
                    names.append(clean)
                else:
                    names.append(name)
    if names:
        yield DirEntries(base, names)


@_parser("find")
def _find(args: list[str], output: str, cwd: str) -> Iterator[Seen]:
    if not args or args[0].startswith("-"):
        return
    kind = "file" if "-type" in args and args[args.index("-type") + 1 :][:1] == ["f"] else None
    for line in _lines(output):
        if line.strip():
            yield (
                FileMeta(_abs(cwd, line.strip()), kind or "file")
                if kind
                else FileMeta(_abs(cwd, line.strip()), "dir" if line.endswith("/") else "file")
            )


@_parser("tree")
def _tree(args: list[str], output: str, cwd: str) -> Iterator[Seen]:
    _, dirs = _flags(args)
    base = _abs(cwd, dirs[0]) if dirs else cwd
    stack: list[str] = []
    for line in _lines(output)[1:]:
        m = re.match(r"^((?:│   |    )*)(?:├── |└── )(.+)$", line)
        if not m:
            continue
        depth = len(m.group(1)) // 4
        stack = [*stack[:depth], m.group(2)]
        yield FileMeta(posixpath.join(base, *stack), "file")


def diff_facts(diff: str, root: str) -> list[Seen]:
    """What a ``git diff`` shows: committed (initial) lines of changed files, modes, blob ids."""
    out: list[Seen] = []
    path = None
    new_file = False
    old_line = 0
    run: list[str] = []
    start = 0

    def flush() -> None:
        if path and run and not new_file:
            out.append(FileLines(path, start, list(run), None))

    for line in diff.replace("\r\n", "\n").split("\n"):
        if line.startswith("diff --git "):
            flush()
            run, new_file = [], False
            m = re.match(r"diff --git a/(.+) b/(.+)$", line)
            path = posixpath.join(root, m.group(1)) if m else None
        elif line.startswith("new file mode"):
            new_file = True
            if path:
                out.append(Written(path, "created"))
        elif line.startswith("index ") and path:
            m = re.match(r"index ([0-9a-f]+)\.\.[0-9a-f]+(?: (\d+))?", line)
            if m and not new_file:
                mode = m.group(2)
                out.append(FileMeta(path, "file", mode[-4:] if mode else None, None, m.group(1)))
        elif line.startswith("@@"):
            flush()
            m = re.match(r"@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$", line)
            old_line = int(m.group(1)) if m else 0
            start, run = old_line, []
            if m and m.group(2) and path and not new_file:
                out.append(HunkContext(path, old_line, m.group(2)))
        elif line.startswith((" ", "-")) and not line.startswith("---") and path:
            run.append(line[1:])
        elif line.startswith("+") and not line.startswith("+++"):
            continue
    flush()
    return out
