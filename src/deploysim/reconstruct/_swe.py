"""SWE-agent trajectories: the repository as the agent saw it, and its session emulated.

SWE-agent's observations show files through windows of numbered lines (``open``, ``goto``,
``scroll_*``, ``search_file``, the editor's ``view``), existence through ``find_file`` and
``search_dir``, shell views (``cat``, ``ls`` ... see :mod:`._shellobs`), and, on ``submit``,
the ``git diff`` of the agent's work, whose context and removed lines are committed (initial)
content and whose index line gives each file's mode and blob id. Every observation ends with
a footer naming the open file and the working directory, which this module follows to
resolve relative paths.

The snapshot gets: the repository as one git commit of every file seen under the starting
directory (unseen lines empty, see :mod:`._files`); files elsewhere as file entries; the
session emulator (:mod:`.swe_session`) with what was learned about this SWE-agent version
(footer, line endings, message texts, window size).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import Counter
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from deploysim.reconstruct._calls import CallObs, TraceCalls
from deploysim.reconstruct._draft import SnapshotDraft
from deploysim.reconstruct._files import FileBook, FileFacts, blob_id
from deploysim.reconstruct._model import ToolReport
from deploysim.reconstruct._registry import ExtractContext, Extractor, extractor
from deploysim.reconstruct._shellobs import (
    FileLines,
    FileMeta,
    Seen,
    Written,
    diff_facts,
    shell_facts,
)
from deploysim.reconstruct.swe_session import DEFAULTS, parse_command
from deploysim.snapshots import FileEntry, GitChange, GitCommit, GitRepo, Provenance, ToolBinding
from deploysim.traces import ToolSpec, Trace

__all__ = [
    "SESSION_CONFIG",
    "SESSION_HOOK",
    "SESSION_SCRIPT",
    "SWE_ENV",
    "SweAgentExtractor",
    "command_of",
]

SESSION_SCRIPT = "/usr/local/lib/deploysim/swe_session.py"
SESSION_CONFIG = "/usr/local/lib/deploysim/swe_session.json"
SESSION_HOOK = "/etc/profile.d/zz-deploysim-swe-agent.sh"
SWE_ENV = "DEPLOYSIM_SWE_AGENT"
COMMAND_TOOL = "swe_agent_command"
_FOOTER = re.compile(r"\n?\(Open file: (.*)\)\n\(Current directory: (.*)\)\nbash-\$\s*$")
_WINDOW = re.compile(r"^\[File: (.+) \((\d+) lines total\)\]$")
_HOOK = f"""# deploysim: SWE-agent's shell session, emulated (written by deploysim reconstruct).
# A `bash -lc COMMAND` runs COMMAND through the session emulator, which keeps the working
# directory and open file between commands and provides SWE-agent's own commands.
if [ -n "${SWE_ENV}" ] && [ -n "$BASH_EXECUTION_STRING" ] && [ -z "$DEPLOYSIM_SWE_INNER" ]; then
    export DEPLOYSIM_SWE_INNER=1
    exec python3 {SESSION_SCRIPT} "$BASH_EXECUTION_STRING"
fi
"""


def command_of(call: CallObs) -> tuple[str, dict[str, Any]]:
    """(SWE-agent command, arguments) of a call, in either trajectory form."""
    args = call.args
    if call.tool == COMMAND_TOOL:
        return parse_command(str(args.get("command", "")))
    if call.tool == "bash":
        return "bash", {"command": str(args.get("command", ""))}
    return call.tool, dict(args)


def split_footer(output: str) -> tuple[str, str | None, str | None]:
    """(body, open file, working directory) of an observation (CRLF made LF)."""
    text = output.replace("\r\n", "\n")
    m = _FOOTER.search(text)
    if not m:
        return text, None, None
    open_file = None if m.group(1) in ("n/a", "") else m.group(1)
    cwd = m.group(2) if m.group(2).startswith("/") else None
    return text[: m.start()], open_file, cwd


def windows(body: str, cwd: str = "/") -> list[FileLines]:
    """The numbered windows ``[File: P (N lines total)]`` in an observation (paths absolute)."""
    out: list[FileLines] = []
    lines = body.split("\n")
    i = 0
    while i < len(lines):
        m = _WINDOW.match(lines[i])
        i += 1
        if not m:
            continue
        path, total = posixpath.normpath(posixpath.join(cwd, m.group(1))), int(m.group(2))
        if i < len(lines) and re.fullmatch(r"\((\d+) more lines above\)", lines[i]):
            i += 1
        start, seen = 0, list[str]()
        while i < len(lines):
            lm = re.match(r"^(\d+):(.*)$", lines[i])
            if not lm or (start and int(lm.group(1)) != start + len(seen)):
                break
            start = start or int(lm.group(1))
            seen.append(lm.group(2))
            i += 1
        if start:
            out.append(FileLines(path, start, seen, total))
    return out


def _editor_view(body: str, path: str) -> list[Seen]:
    if "Here's the result of running `cat -n`" in body:
        found = []
        for line in body.split("\n")[1:]:
            m = re.match(r"^\s*(\d+)\t(.*)$", line)
            if m:
                found.append((int(m.group(1)), m.group(2)))
        return [FileLines(path, n, [t], None) for n, t in found]
    if "files and directories up to 2 levels deep" in body:
        return [
            FileMeta(p.strip(), "dir" if p.strip() == path else "file")
            for p in body.split("\n")[1:]
            if p.strip().startswith("/")
        ]
    return []


def observe(
    name: str, args: dict[str, Any], body: str, cwd: str, open_file: str | None, root: str
) -> list[Seen]:
    """What one SWE-agent command and its observation show."""

    def resolve(p: str) -> str:
        return posixpath.normpath(posixpath.join(cwd, p))

    if name == "bash":
        return shell_facts(str(args.get("command", "")), body, cwd)
    if name == "submit":
        return diff_facts(body, root)
    if name in ("open", "goto", "scroll_up", "scroll_down", "search_file"):
        out: list[Seen] = list(windows(body, cwd))
        out += _search_lines(body, open_file if name == "search_file" else None)
        return out
    if name == "create":
        created = resolve(str(args.get("filename", "")))
        if "already exists" in body:
            return list(windows(body, cwd))
        return [Written(created, "created")]
    if name in ("edit", "insert"):
        if "introduced new syntax error" in body and "original code before your edit" in body:
            return list(windows(body.split("original code before your edit", 1)[1], cwd))
        shown = windows(body, cwd)
        target = open_file or (shown[0].path if shown else None)
        return [Written(target, "changed"), *shown] if target else []
    if name == "find_file":
        return [FileMeta(p, "file") for p in _listed(body)]
    if name == "search_dir":
        base = resolve(str(args.get("dir") or "."))
        return [
            FileMeta(posixpath.normpath(posixpath.join(base, p)), "file")
            for p in re.findall(r"^(\S.*?) \(\d+ matches\)$", body, re.M)
        ]
    if name == "str_replace_editor":
        path = str(args.get("path", ""))
        if args.get("command") == "view":
            return _editor_view(body, path)
        if args.get("command") in ("create", "str_replace", "insert", "undo_edit"):
            return [Written(path, "changed")]
    return []


def _listed(body: str) -> list[str]:
    lines = body.split("\n")
    if not lines or not lines[0].startswith("Found "):
        return []
    return [x.strip() for x in lines[1:] if x.strip().startswith("/")]


def _search_lines(body: str, path: str | None) -> list[Seen]:
    if path is None:
        return []
    return [
        FileLines(path, int(n), [t], None) for n, t in re.findall(r"^Line (\d+):(.*)$", body, re.M)
    ]


def learn_config(traces: list[TraceCalls]) -> dict[str, Any]:
    """What this SWE-agent version printed: footer, line endings, messages, window, root."""
    c: dict[str, Any] = {}
    votes: Counter[str] = Counter()
    for tc in traces:
        c.setdefault("variant", "1" if tc.trace.metadata.get("form") == "tool_calls" else "0")
        for call in tc.calls:
            name, _ = command_of(call)
            body, _, cwd = split_footer(call.output)
            if cwd is not None:
                c.setdefault("root", cwd)
                votes["footer"] += 1
                if name != "submit" and body.strip():
                    votes["strip" if not body.endswith("\n") else "keep"] += 1
            elif name == "submit":
                votes["submit_bare"] += 1
            if name == "submit" and cwd is not None:
                votes["submit_footer"] += 1
            if "\r\n" in call.output:
                votes["crlf"] += 1
            _learn_messages(c, name, body)
    c["footer"] = DEFAULTS["footer"] if votes["footer"] else None
    c["strip"] = votes["strip"] > votes["keep"]
    c["crlf"] = votes["crlf"] > 0
    c["submit_footer"] = votes["submit_footer"] > votes["submit_bare"]
    return c


def _learn_messages(c: dict[str, Any], name: str, body: str) -> None:
    if name == "edit" and "[File:" in body:
        head = body.split("[File:", 1)[0].strip("\n")
        if head.startswith(("Replaced", "Text replaced")):
            c.setdefault(
                "replace_ok", re.sub(r"Replaced \d+ occurrences", "Replaced {n} occurrences", head)
            )
        tail = body.rstrip("\n").split("\n")[-1]
        if tail.startswith("File updated"):
            c.setdefault("edit_ok", tail)
    if name in ("edit", "insert") and "introduced new syntax error" in body:
        lines = body.strip("\n").split("\n")
        c.setdefault("lint_fail", lines[0])
        dashes = [i for i, x in enumerate(lines) if x and set(x) == {"-"}]
        if len(dashes) == 4:
            c.setdefault("lint_dashes", [len(lines[dashes[0]]), len(lines[dashes[2]])])
            c.setdefault("lint_tail", "\n".join(lines[dashes[3] + 1 :]))
    if name == "bash" and body.strip() and "did not produce any output" in body:
        c.setdefault("empty", body.strip())
    for w in windows(body):
        if len(w.lines) > 20:
            c["window"] = max(int(c.get("window", 0)), len(w.lines))


@extractor(priority=10)
class SweAgentExtractor(Extractor):
    """SWE-agent trajectories (both forms): files, the repository, the session emulator."""

    name = "swe-agent"

    def claims(self, spec: ToolSpec, trace: Trace) -> bool:
        """Every tool of a SWE-agent trajectory."""
        return trace.source.format == "swe-agent"

    def extract(self, ctx: ExtractContext) -> None:
        """Pool the file facts of every trajectory; add the repository and the emulator."""
        traces = ctx.calls()
        config = learn_config(traces)
        root = str(config.get("root", "/"))
        book = FileBook()
        for tc in traces:
            walk = _Walk(book, root)
            for call in tc.calls:
                walk.step(call)
        ctx.draft.conflicts.extend(book.conflicts)
        book.settle_kinds()
        book.place_contexts()
        config["partial"] = {
            p: _ranges(f) for p, f in book.files.items() if f.kind == "file" and not f.complete()
        }
        repo_root = Provenance(source="trace", detail="the trajectories' repository root")
        if root != "/" and not book.admit(root, repo_root):
            root = "/"  # a repository at a system path is not rebuilt (reported as skipped)
        _emit(ctx.draft, book, root, config)
        ctx.draft.skip(list(book.skipped.values()))
        _interpreters(ctx.draft, traces)
        for tool, calls in sorted(ctx.by_tool().items()):
            ctx.draft.tools.append(
                ToolReport(
                    tool=tool,
                    kind="shell",
                    effect="unknown",
                    strategy="live",
                    calls=len(calls),
                    detail="SWE-agent session emulated in the pod",
                )
            )
            ctx.draft.bindings[tool] = ToolBinding(tool=tool, backend="live")


class _Walk:
    """One trajectory, in order: the session's directory and open file, and edited files.

    Line edits (``edit A:B``) are tracked per file as a map from current to original line
    numbers, so a window shown after the agent's edit still teaches the original lines it
    did not touch; any other change to a file ends what its later views can teach.
    """

    def __init__(self, book: FileBook, root: str) -> None:
        self.book = book
        self.root = root
        self.cwd = root
        self.open_file: str | None = None
        self.written: set[str] = set()
        self.origins: dict[str, list[int | None]] = {}

    def step(self, call: CallObs) -> None:
        """Learn from one call, then follow the session to its new state."""
        name, args = command_of(call)
        body, new_open, new_cwd = split_footer(call.output)
        prov = call.provenance(f"{call.tool}: {name}")
        line_edit = name == "edit" and "range_" in args
        if line_edit and "introduced new syntax error" not in body:
            self._line_edit(str(args["range_"]), str(args.get("text", "")), set(self.written))
        for seen in observe(name, args, body, self.cwd, self.open_file, self.root):
            if isinstance(seen, FileLines) and seen.path in self.origins and name != "submit":
                self._mapped(seen, prov)
                continue
            if isinstance(seen, Written) and not (line_edit and seen.path == self.open_file):
                self.origins.pop(seen.path, None)
            # A diff shows the committed (initial) side of files the agent changed.
            self.book.add(seen, prov, set() if name == "submit" else self.written)
        if new_cwd is not None:
            self.open_file, self.cwd = new_open, new_cwd

    def _line_edit(self, range_: str, text: str, before: set[str]) -> None:
        m = re.fullmatch(r"(\d+):(\d+)", range_.strip())
        path = self.open_file
        if not m or path is None:
            return
        origin = self.origins.get(path)
        if origin is None:
            facts = self.book.files.get(path)
            if path in before or facts is None or facts.total is None:
                return
            origin = list(range(1, facts.total + 1))
        start, end = int(m.group(1)), int(m.group(2))
        count = len(text.split("\n")) - (1 if text.endswith("\n") else 0)
        self.origins[path] = origin[: start - 1] + [None] * count + origin[end:]

    def _mapped(self, seen: FileLines, prov: Provenance) -> None:
        origin = self.origins[seen.path]
        for i, text in enumerate(seen.lines):
            n = seen.start + i
            o = origin[n - 1] if 0 < n <= len(origin) else None
            if o is not None:
                self.book.add(FileLines(seen.path, o, [text], None), prov, set())


_DATE = datetime(2000, 1, 1, tzinfo=UTC)
_PYTHON = re.compile(r"^\s*(?:cd \S+ && )?python(?=\s)")


def _interpreters(draft: SnapshotDraft, traces: list[TraceCalls]) -> None:
    """``python`` ran in the original environment: make it exist (as python3) in the pod."""
    for tc in traces:
        for call in tc.calls:
            name, args = command_of(call)
            command = str(args.get("command", "")) if name == "bash" else ""
            if _PYTHON.match(command) and "command not found" not in call.output:
                draft.add_file(
                    FileEntry(
                        path="/usr/local/bin/python",
                        kind="symlink",
                        target="/usr/bin/python3",
                        owner="root",
                        provenance=[call.provenance("`python` ran in the original environment")],
                    )
                )
                return


def _ranges(f: FileFacts) -> list[list[int]]:
    """Seen lines of ``f`` as [first, last] ranges (placed context lines are not seen)."""
    out: list[list[int]] = []
    for n in sorted(x for x in f.lines if x not in f.placed):
        if out and out[-1][1] == n - 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return out


def _provenance(f: FileFacts) -> Provenance:
    first = f.provenance[0] if f.provenance else Provenance(source="trace")
    what = f"{f.path}: lines {f.seen_ranges()} seen" if f.lines else f"{f.path}: exists"
    if f.lines and not f.complete():
        what += "; unseen lines written empty"
    for n, text in sorted(f.placed.items()):
        what += f"; line {n} placed from a diff hunk context ({text[:60]!r}), position unseen"
    return first.model_copy(update={"detail": what})


def _add_entry(draft: SnapshotDraft, f: FileFacts, content: bytes) -> None:
    try:
        if f.kind == "dir":
            entry = FileEntry(path=f.path, kind="dir", mode="0755", provenance=[_provenance(f)])
        else:
            entry = FileEntry(
                path=f.path, content="", mode=f.mode or "0644", provenance=[_provenance(f)]
            )
    except ValueError as e:
        draft.warnings.append(f"{f.path}: not kept in the snapshot: {e}")
        return
    draft.add_file(entry, content if f.kind == "file" else None)


def _emit(draft: SnapshotDraft, book: FileBook, root: str, config: dict[str, Any]) -> None:
    changes: list[GitChange] = []
    repo_prov: list[Provenance] = []
    for path, f in sorted(book.files.items()):
        if path in ("/", root):
            continue
        inside = path.startswith(root.rstrip("/") + "/") and root != "/"
        content = f.content()
        if f.blob and not blob_id(content).startswith(f.blob):
            draft.warnings.append(
                f"{path}: rebuilt content differs from the committed one (git blob {f.blob}); "
                f"lines {f.seen_ranges()} were seen"
            )
        draft.facts += max(1, len(f.lines))
        if inside and f.kind == "file":
            rel = path[len(root.rstrip("/")) + 1 :]
            draft.contents[path] = content
            changes.append(
                GitChange(
                    path=rel, source=path.lstrip("/"), executable=(f.mode or "").endswith("755")
                )
            )
            repo_prov.append(_provenance(f))
        else:
            _add_entry(draft, f, content)
    if root != "/":
        if not changes:
            changes.append(GitChange(path=".deploysim-empty", content=""))
        draft.repos.append(
            GitRepo(
                path=root,
                commits=[
                    GitCommit(
                        message="Initial state, rebuilt by deploysim reconstruct",
                        author="deploysim <deploysim@localhost>",
                        date=_DATE,
                        changes=changes,
                    )
                ],
                provenance=repo_prov,
            )
        )
    script = resources.files("deploysim.reconstruct").joinpath("swe_session.py").read_bytes()
    here = [Provenance(source="authored", detail="deploysim's SWE-agent session emulator")]
    draft.add_file(
        FileEntry(path=SESSION_SCRIPT, content="", mode="0755", owner="root", provenance=here),
        script,
    )
    draft.add_file(
        FileEntry(
            path=SESSION_CONFIG,
            content=json.dumps(config, indent=2) + "\n",
            owner="root",
            provenance=[Provenance(source="trace", detail="learned from the trajectories")],
        )
    )
    draft.add_file(FileEntry(path=SESSION_HOOK, content=_HOOK, owner="root", provenance=here))
    draft.env[SWE_ENV] = "1"
    draft.workdir = root if root != "/" else None
    for e in book.effects:
        draft.effects.append(e)
