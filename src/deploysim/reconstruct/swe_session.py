#!/usr/bin/env python3
r"""SWE-agent's shell session, emulated inside a pod (shipped into snapshots by reconstruct).

SWE-agent ran the model's commands in a persistent shell with its own commands (``open``,
``goto``, ``scroll_up``/``scroll_down``, ``create``, ``edit``, ``insert``, ``find_file``,
``search_dir``, ``search_file``, ``submit``), kept the open file and the working directory
between commands, and appended a footer to every observation. A pod runs each command in a
fresh ``bash -lc``; this script restores the session around it: it keeps the state in a
JSON file, implements the commands as SWE-agent printed them (windows of 100 numbered
lines, "File updated." messages, ``git diff`` on submit), runs anything else in bash in the
saved directory, and prints the footer.

Called three ways:

- by a login-shell hook (``/etc/profile.d/zz-deploysim-swe-agent.sh``) with the text of a
  ``bash -lc`` command, so a shell tool call ``edit 4:4\\n...\\nend_of_edit`` works;
- ``swe_session.py --tool NAME --arguments JSON`` for function-calling SWE-agent tools;
- ``swe_session.py COMMAND``.

What the snapshot learned from the traces (footer format, line endings, message texts,
the repository root, the window size) is in ``swe_session.json`` beside this file. Lint after
edits is Python's own ``compile`` (flake8 is not installed): it reports syntax errors (E999)
only. Stdlib only: the pod has no deploysim.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

CONFIG = Path(os.environ.get("DEPLOYSIM_SWE_CONFIG", "/usr/local/lib/deploysim/swe_session.json"))
STATE = Path(os.environ.get("DEPLOYSIM_SWE_STATE", "/tmp/deploysim-swe-session.json"))

DEFAULTS: dict[str, Any] = {
    "root": "/",
    "window": 100,
    "overlap": 2,
    "variant": "0",
    "crlf": False,
    "strip": False,
    "footer": "\n(Open file: {open_file})\n(Current directory: {cwd})\nbash-$",
    "submit_footer": False,
    "empty": "Your command ran successfully and did not produce any output.",
    "edit_ok": "File updated. Please review the changes and make sure they are correct "
    "(correct indentation, no duplicate lines, etc). Edit the file again if necessary.",
    "replace_ok": "Text replaced. Please review the changes and make sure they are correct\n"
    "(correct indentation, no duplicate lines, etc). Edit the file again if necessary.",
    "lint_fail": "Your proposed edit has introduced new syntax error(s). Please read this error "
    "message carefully and then retry editing the file.",
}
SPECIAL = {
    "open",
    "goto",
    "scroll_up",
    "scroll_down",
    "create",
    "edit",
    "insert",
    "find_file",
    "search_dir",
    "search_file",
    "submit",
}


class Session:
    """The emulated session: configuration, state, and the commands."""

    def __init__(self, config: dict[str, Any], state: dict[str, Any]) -> None:
        self.c = {**DEFAULTS, **config}
        self.cwd: str = state.get("cwd") or self.c["root"]
        self.open_file: str | None = state.get("open_file")
        self.line: float = state.get("line", 0)
        self.window: int = int(self.c["window"])
        self.known: dict[str, list[bool]] = state.get("known", {})

    def state(self) -> dict[str, Any]:
        """What the next command needs."""
        return {
            "cwd": self.cwd,
            "open_file": self.open_file,
            "line": self.line,
            "known": self.known,
        }

    def known_lines(self, path: str, total: int) -> list[bool]:
        """Which current lines of ``path`` hold seen content (unseen ones were written empty)."""
        if path in self.known:
            return self.known[path]
        ranges = self.c.get("partial", {}).get(path)
        if ranges is None:
            return [True] * total
        seen = [False] * total
        for a, b in ranges:
            for i in range(a, min(b, total) + 1):
                seen[i - 1] = True
        return seen

    # ------------------------------------------------------------------ files

    def path(self, p: str) -> str:
        """``p`` made absolute against the session's directory."""
        return os.path.normpath(os.path.join(self.cwd, os.path.expanduser(p)))

    @staticmethod
    def lines(path: str) -> list[str]:
        """The file's lines as awk counts them (a final line without newline counts)."""
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n") if text else []

    @staticmethod
    def write(path: str, lines: list[str]) -> None:
        """Write lines, each ending with a newline (as bash's printf did)."""
        Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    # ------------------------------------------------------------------ windows (0.x)

    def _constrain(self, total: int, window: float) -> None:
        half = math.floor(window / 2)
        self.line = max(min(self.line, total - half), half)

    def _print0(self, window: float | None = None) -> str:
        w = self.window if window is None else window
        assert self.open_file is not None
        lines = self.lines(self.open_file)
        total = len(lines)
        out = [f"[File: {self.open_file} ({total} lines total)]"]
        above = max(0, math.floor(self.line - w / 2))
        below = max(0, math.floor(total - self.line - w / 2 + 0.5))
        if above > 0:
            out.append(f"({above} more lines above)")
        end = min(total, math.floor(max(self.line + w / 2, w / 2)))
        start = max(1, end - int(w) + 1)
        out += [f"{i}:{lines[i - 1]}" for i in range(start, end + 1)]
        if below > 0:
            out.append(f"({below} more lines below)")
        return "\n".join(out) + "\n"

    # ------------------------------------------------------------------ windows (1.x)

    def _print1(self, shown_as: str | None = None) -> str:
        assert self.open_file is not None
        text = Path(self.open_file).read_text(encoding="utf-8", errors="replace")
        parts = text.split("\n")
        n = len(text.splitlines())
        first = max(0, min(int(self.line), n - 1 - self.window))
        last = min(first + self.window - 1, n - 1)
        out = [f"[File: {shown_as or self.open_file} ({n} lines total)]"]
        if first > 0:
            out.append(f"({first} more lines above)")
        out += [f"{i + first + 1}:{line}" for i, line in enumerate(parts[first : last + 1])]
        if last < n - 1:
            out.append(f"({n - last - 1} more lines below)")
        return "\n".join(out) + "\n"

    def show(self) -> str:
        """The window around the current line, as the SWE-agent version printed it."""
        return self._print1() if self.c["variant"] == "1" else self._print0()

    def goto_line(self, line: int) -> None:
        """Move the window so that ``line`` (1-based) is in its upper part."""
        if self.c["variant"] == "1":
            self.line = (line - 1) - self.window / 6
        else:
            self.line = max(math.floor(line + self.window / 2 - math.floor(self.window / 6)), 1)
            assert self.open_file is not None
            self._constrain(len(self.lines(self.open_file)), self.window)

    # ------------------------------------------------------------------ commands

    def cmd_open(self, path: str = "", line_number: Any = None) -> str:
        """``open <path> [<line_number>]``."""
        if not path:
            return "Usage: open <file>\n"
        p = self.path(path)
        if os.path.isdir(p):
            return (
                f"Error: {path} is a directory. You can only open files. "
                "Use cd or ls to navigate directories.\n"
            )
        if not os.path.isfile(p):
            return f"File {path} not found\n"
        self.open_file = os.path.realpath(p)
        total = len(self.lines(p))
        # SWE-agent 1.x's open prints the path as it was given; later windows the real one.
        shown_as = path if self.c["variant"] == "1" else None
        if line_number in (None, ""):
            if self.c["variant"] == "1":
                self.line = 0
                return self._print1(shown_as)
            self.line = self.window / 2
            self._constrain(total, self.window)
            return self.show()
        try:
            n = int(line_number)
        except (TypeError, ValueError):
            return "Usage: open <file> [<line_number>]\nError: <line_number> must be a number\n"
        prefix = ""
        if n > total:
            prefix = (
                f"Warning: <line_number> ({n}) is greater than the number of lines in the file "
                f"({total})\nWarning: Setting <line_number> to {total}\n"
            )
            n = total
        self.goto_line(n)
        return prefix + (self._print1(shown_as) if shown_as else self.show())

    def cmd_goto(self, line_number: Any = "") -> str:
        """``goto <line>``."""
        if self.open_file is None:
            return "No file open. Use the open command first.\n"
        if not re.fullmatch(r"\d+", str(line_number)):
            return "Usage: goto <line>\nError: <line> must be a number\n"
        total = len(self.lines(self.open_file))
        if int(line_number) > total:
            return f"Error: <line> must be less than or equal to {total}\n"
        self.goto_line(int(line_number))
        return self.show()

    def _scroll(self, sign: int) -> str:
        if self.open_file is None:
            return "No file open. Use the open command first.\n"
        step = self.window - int(self.c["overlap"]) if self.c["variant"] == "0" else self.window
        self.line += sign * step
        if self.c["variant"] == "0":
            self._constrain(len(self.lines(self.open_file)), self.window)
        return self.show()

    def cmd_scroll_down(self) -> str:
        """``scroll_down``."""
        return self._scroll(1)

    def cmd_scroll_up(self) -> str:
        """``scroll_up``."""
        return self._scroll(-1)

    def cmd_create(self, filename: str = "") -> str:
        """``create <filename>``: an empty file (one blank line), opened."""
        if not filename:
            return "Usage: create <filename>\n"
        p = self.path(filename)
        if os.path.exists(p):
            return f"Error: File '{filename}' already exists.\n" + self.cmd_open(filename)
        Path(p).parent.mkdir(parents=True, exist_ok=True)
        Path(p).write_text("\n", encoding="utf-8")
        return self.cmd_open(filename)

    @staticmethod
    def _compile(source: str, path: str) -> str | None:
        try:
            compile(source, path, "exec", dont_inherit=True)
        except SyntaxError as e:
            return f"- E999 {type(e).__name__}: {e.msg}"
        except ValueError as e:
            return f"- E999 ValueError: {e}"
        return None

    @staticmethod
    def _snippet(lines: list[str], j: int, end: int) -> str:
        """Lines j..end (0-based) as a module: dedented, inside a function when indented."""
        block = lines[j : end + 1]
        indent = len(block[0]) - len(block[0].lstrip())
        body = [x[indent:] if x.strip() else "" for x in block]
        if indent == 0:
            return "\n".join(body) + "\n"
        return "def _deploysim_block():\n" + "".join("    " + x + "\n" for x in body)

    def _anchors(self, lines: list[str], seen: list[bool], at: int) -> list[tuple[int, int]]:
        """(first, last) 0-based of the seen blocks around line ``at`` to lint, outermost first."""
        a = at
        while a > 0 and seen[a - 1]:
            a -= 1
        b = at
        while b + 1 < len(lines) and seen[b + 1]:
            b += 1
        out = []
        for j in range(a, at + 1):
            text = lines[j]
            if not text.strip() or text.lstrip().startswith((")", "]", "}")):
                continue
            indent = len(text) - len(text.lstrip())
            if all(not x.strip() or len(x) - len(x.lstrip()) >= indent for x in lines[j : b + 1]):
                out.append((j, b))
        return out

    def lint(self, path: str, before: list[str] | None = None, at: int = 0) -> list[str]:
        """Syntax errors of a Python file, as flake8 printed them (E999 only).

        A file only partly seen is linted on the seen block around the edit (line ``at``),
        from the first line where the block parsed before the edit: the unseen lines are
        unknown, so they can neither cause nor hide an error.
        """
        if not path.endswith(".py"):
            return []
        lines = self.lines(path)
        seen = self.known_lines(path, len(lines))
        if all(seen) or before is None:
            error = self._compile("\n".join(lines) + "\n", path)
            return [error] if error else []
        old_seen = self.known.get(path) or self.known_lines(path, len(before))
        for j, b in self._anchors(before, old_seen, min(at, len(before) - 1)):
            if self._compile(self._snippet(before, j, b), path) is None:
                shift = len(lines) - len(before)
                error = self._compile(self._snippet(lines, j, b + shift), path)
                return [error] if error else []
        return []

    def cmd_edit(self, text: str = "", range_: str = "", **kw: Any) -> str:
        """0.x ``edit <start>:<end>`` with the new text; 1.x ``edit`` with search/replace."""
        if "search" in kw:
            return self._replace(kw["search"], kw.get("replace", ""), kw.get("replace-all"))
        if self.open_file is None:
            return "No file open. Use the `open` command first.\n"
        m = re.fullmatch(r"(\d+):(\d+)", range_.strip())
        if not m:
            return "Usage: edit <start_line>:<end_line>\n"
        start, end = int(m.group(1)), int(m.group(2))
        before = self.lines(self.open_file)
        new = text.split("\n")
        if text.endswith("\n"):
            new = new[:-1]
        self.write(self.open_file, before[: start - 1] + new + before[end:])
        errors = self.lint(self.open_file, before, start - 1)
        if not errors:
            seen = self.known_lines(self.open_file, len(before))
            self.known[self.open_file] = seen[: start - 1] + [True] * len(new) + seen[end:]
            self.line = start - 1
            self._constrain(len(self.lines(self.open_file)), self.window)
            return self.show() + str(self.c["edit_ok"]) + "\n"
        return self._lint_failure(errors, before, start, end, len(new))

    def _lint_failure(
        self, errors: list[str], before: list[str], start: int, end: int, count: int
    ) -> str:
        assert self.open_file is not None
        saved = self.line
        dash1, dash2 = (int(x) for x in self.c.get("lint_dashes", [49, 49]))
        out = [str(self.c["lint_fail"]), "", "ERRORS:", *errors, ""]
        out.append("This is how your edit would have looked if applied")
        out.append("-" * dash1)
        # SWE-agent counted the start line from 0 here: the windows are centred accordingly.
        start0 = start - 1
        self.line = count // 2 + start0
        self._constrain(len(self.lines(self.open_file)), count + 10)
        edited = self._print0(count + 10)
        self.write(self.open_file, before)
        self.line = (end - start0 + 1) // 2 + start0
        self._constrain(len(before), end - start0 + 10)
        original = self._print0(end - start0 + 10)
        self.line = saved
        middle = ["-" * dash1, "", "This is the original code before your edit", "-" * dash2]
        tail: str = self.c.get("lint_tail") or (
            "Your changes have NOT been applied. Please fix your edit command and try again.\n"
            "You either need to 1) Specify the correct start/end line arguments or 2) Correct "
            "your edit code.\nDO NOT re-run the same failed edit command. Running it again "
            "will lead to the same error."
        )
        return (
            "\n".join(out)
            + "\n"
            + edited
            + "\n".join(middle)
            + "\n"
            + original
            + "-" * dash2
            + "\n"
            + tail
            + "\n"
        )

    def _replace(self, search: str, replace: str, replace_all: Any) -> str:
        if self.open_file is None:
            return "No file open. Use the `open` command first.\n"
        text = Path(self.open_file).read_text(encoding="utf-8")
        count = text.count(search)
        if count == 0:
            return f"Your search string {search!r} was not found in the file.\n"
        if count > 1 and not replace_all:
            return f"Found more than one occurrence of {search!r} in the file.\n"
        n = count if replace_all else 1
        line = text[: text.index(search)].count("\n") + 1
        Path(self.open_file).write_text(text.replace(search, replace, n), encoding="utf-8")
        self.line = line - self.window / 6
        return str(self.c["replace_ok"]).replace("{n}", str(n)) + "\n" + self.show()

    def cmd_insert(self, text: str = "", line: Any = None) -> str:
        """1.x ``insert <text> [<line>]``: after ``line``, else at the end of the file."""
        if self.open_file is None:
            return "No file open. Use the `open` command first.\n"
        old = Path(self.open_file).read_text(encoding="utf-8")
        if line in (None, ""):
            at = old.count("\n")
            new = old + text if old.endswith("\n") or not old else old + "\n" + text
        else:
            at = int(line)
            parts = old.split("\n")
            new = "\n".join(parts[:at] + text.split("\n") + parts[at:])
        Path(self.open_file).write_text(new, encoding="utf-8")
        self.line = max(0, at - self.window / 6)
        return self.show()

    def cmd_find_file(self, file_name: str = "", dir: str = "./") -> str:
        """``find_file <name> [<dir>]``; matches sorted."""
        if not file_name:
            return "Usage: find_file <file_name> [<dir>]\n"
        d = self.path(dir or "./")
        if not os.path.isdir(d):
            return f"Directory {dir} not found\n"
        d = os.path.realpath(d)
        found = subprocess.run(
            ["find", d, "-type", "f", "-name", file_name], capture_output=True, text=True
        ).stdout.split("\n")
        matches = sorted(m for m in found if m.strip())
        if not matches:
            return f'No matches found for "{file_name}" in {d}\n'
        return (
            f'Found {len(matches)} matches for "{file_name}" in {d}:\n' + "\n".join(matches) + "\n"
        )

    def cmd_search_dir(self, search_term: str = "", dir: str = "./") -> str:
        """``search_dir <term> [<dir>]``: files with matches and their counts."""
        if not search_term:
            return "Usage: search_dir <search_term> [<dir>]\n"
        d = self.path(dir or "./")
        if not os.path.isdir(d):
            return f"Directory {dir} not found\n"
        shown = dir if dir not in ("", "./") else "."
        counts: dict[str, int] = {}
        for root, dirs, files in os.walk(d):
            dirs[:] = sorted(x for x in dirs if not x.startswith("."))
            for f in sorted(files):
                if f.startswith("."):
                    continue
                p = os.path.join(root, f)
                try:
                    n = sum(search_term in line for line in Path(p).read_text("utf-8").split("\n"))
                except (OSError, UnicodeDecodeError):
                    continue
                if n:
                    counts[p if os.path.isabs(dir) else "./" + os.path.relpath(p, d)] = n
        where = d if os.path.isabs(dir or "./") else shown
        if not counts:
            return f'No matches found for "{search_term}" in {where}\n'
        if len(counts) > 100:
            return (
                f'More than {len(counts)} files matched for "{search_term}" in {where}. '
                "Please narrow your search.\n"
            )
        body = "".join(f"{p} ({n} matches)\n" for p, n in sorted(counts.items()))
        return (
            f'Found {sum(counts.values())} matches for "{search_term}" in {where}:\n'
            + body
            + f'End of matches for "{search_term}" in {where}\n'
        )

    def cmd_search_file(self, search_term: str = "", file: str | None = None) -> str:
        """``search_file <term> [<file>]``: matching lines of the open (or given) file."""
        path = self.path(file) if file else self.open_file
        if path is None:
            return "No file open. Use the open command first.\n"
        if not os.path.isfile(path):
            return (
                "Usage: search_file <search_term> [<file>]\n"
                f"Error: File name {file} not found. Please provide a valid file name.\n"
            )
        hits = [(i + 1, s) for i, s in enumerate(self.lines(path)) if search_term in s]
        shown = file or path
        if not hits:
            return f'No matches found for "{search_term}" in {shown}\n'
        body = "".join(f"Line {n}:{s}\n" for n, s in hits)
        return (
            f'Found {len(hits)} matches for "{search_term}" in {shown}:\n'
            + body
            + f'End of matches for "{search_term}" in {shown}\n'
        )

    def cmd_submit(self, *args: Any) -> str:
        """``submit``: stage everything in the repository root and print the diff."""
        root = self.c["root"]
        subprocess.run(["git", "add", "-A"], cwd=root, capture_output=True)
        diff = subprocess.run(
            ["git", "diff", "--cached"], cwd=root, capture_output=True, text=True
        ).stdout
        return "\n" + diff

    def bash(self, command: str) -> str:
        """Run ``command`` in bash in the session's directory; remember where it ends."""
        marker = STATE.with_suffix(".pwd")
        script = 'cd "$1" 2>/dev/null; eval "$2"\n__rc=$?; pwd > "$3"; exit $__rc'
        env = {**os.environ, "DEPLOYSIM_SWE_INNER": "1"}
        r = subprocess.run(
            ["bash", "-c", script, "bash", self.cwd, command, str(marker)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        with contextlib.suppress(OSError):
            self.cwd = marker.read_text().strip() or self.cwd
        return r.stdout.decode("utf-8", errors="replace")


def parse_command(text: str) -> tuple[str, dict[str, Any]]:
    """A typed command as (name, arguments); bash for anything that is not SWE-agent's."""
    first, _, rest = text.strip("\n").partition("\n")
    try:
        words = shlex.split(first)
    except ValueError:
        return "bash", {"command": text}
    if not words or words[0] not in SPECIAL:
        return "bash", {"command": text}
    name, args = words[0], words[1:]
    if name == "edit":
        body = rest.split("\n")
        if "end_of_edit" in body:
            body = body[: body.index("end_of_edit")]
        return "edit", {"range_": args[0] if args else "", "text": "\n".join(body) + "\n"}
    params = {
        "open": ["path", "line_number"],
        "goto": ["line_number"],
        "create": ["filename"],
        "find_file": ["file_name", "dir"],
        "search_dir": ["search_term", "dir"],
        "search_file": ["search_term", "file"],
        "insert": ["text", "line"],
    }.get(name, [])
    return name, dict(zip(params, args, strict=False))


def run(session: Session, name: str, arguments: dict[str, Any]) -> str:
    """The observation of one command, footer included."""
    if name == "bash":
        body = session.bash(str(arguments.get("command", "")))
    else:
        fn = getattr(session, f"cmd_{name}", None)
        if fn is None:
            body = f"{name}: command not found\n"
        else:
            kwargs = {("range_" if k == "range" else k): v for k, v in arguments.items()}
            try:
                body = fn(**kwargs)
            except TypeError as e:
                body = f"Error: {e}\n"
    c = session.c
    if not body.strip() and name == "bash" and c["empty"]:
        body = c["empty"]
    if c["strip"] and name != "submit":
        body = body.rstrip("\n")
    if c["crlf"]:
        body = body.replace("\n", "\r\n")
    if name == "submit" and not c["submit_footer"]:
        return body
    if c["footer"] is None:
        return body
    footer = str(c["footer"]).format(open_file=session.open_file or "n/a", cwd=session.cwd)
    return body + footer


def main(argv: list[str]) -> int:
    """Entry point: one command, its observation on stdout."""
    config = json.loads(CONFIG.read_text()) if CONFIG.exists() else {}
    state = json.loads(STATE.read_text()) if STATE.exists() else {}
    session = Session(config, state)
    if len(argv) >= 4 and argv[0] == "--tool" and argv[2] == "--arguments":
        name, arguments = argv[1], json.loads(argv[3])
    else:
        name, arguments = parse_command(" ".join(argv))
    sys.stdout.write(run(session, name, arguments))
    sys.stdout.flush()
    STATE.write_text(json.dumps(session.state()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
