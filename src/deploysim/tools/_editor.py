"""The ``editor`` live backend: file-editing tools acting on the pod's files.

Two shapes of recorded editor tool are served:

- the *command* shape of Anthropic's ``str_replace_based_edit_tool`` / SWE-agent's
  ``str_replace_editor`` (``command`` = view, create, str_replace, insert, undo_edit); results
  and error texts follow that tool's reference implementation, so a candidate sees what the
  original agent saw;
- plain ``write_file(path, content)`` / ``edit_file(path, old, new)`` tools.

Anything else (``apply_patch`` diffs, unknown argument names) is not served, and the router
falls back to the recorded pool. Files are read and written as the agent user, so permissions
are the pod's.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from deploysim.tools._backends import Backend, CallContext, NotServed, backend
from deploysim.tools._model import ToolOutcome, ToolRequest
from deploysim.traces import ToolSpec

if TYPE_CHECKING:
    from deploysim.sandbox import Pod

__all__ = ["EditorBackend"]

_SNIPPET_LINES = 4
_PATH_KEYS = ("path", "file_path", "filename", "file")
_TEXT_KEYS = ("file_text", "content", "contents", "text")
_OLD_KEYS = ("old_str", "old_string", "old", "search")
_NEW_KEYS = ("new_str", "new_string", "new", "replace")


def _first(arguments: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((arguments[k] for k in keys if k in arguments), None)


def _numbered(text: str, start: int = 1) -> str:
    lines = text.split("\n")
    return "\n".join(f"{i + start:6}\t{line}" for i, line in enumerate(lines))


class _Edit:
    """One editor call against one pod; failures are tool errors the model sees."""

    def __init__(self, pod: Pod, ctx: CallContext, arguments: dict[str, Any]) -> None:
        self.pod = pod
        self.ctx = ctx
        self.args = arguments
        raw = _first(arguments, _PATH_KEYS)
        if not isinstance(raw, str) or not raw:
            raise NotServed("no path among the arguments")
        workdir = pod.snapshot.snapshot.workdir if pod.snapshot else "/home/agent"
        self.path = raw if raw.startswith("/") else posixpath.join(workdir, raw)

    async def read(self) -> str:
        return (await self.pod.read_file(self.path)).decode("utf-8", errors="replace")

    async def write(self, text: str, *, remember: bool = True) -> None:
        if remember:
            try:
                previous = await self.read()
            except FileNotFoundError:
                previous = None
            self.ctx.scratch.setdefault("editor_history", {}).setdefault(self.path, []).append(
                previous
            )
        await self.pod.write_file(self.path, text)

    async def exists(self) -> bool:
        r = await self.pod.exec(["test", "-e", self.path])
        return r.returncode == 0

    async def is_dir(self) -> bool:
        r = await self.pod.exec(["test", "-d", self.path])
        return r.returncode == 0

    def snippet(self, text: str, line: int, span: int) -> str:
        lines = text.split("\n")
        start = max(0, line - _SNIPPET_LINES)
        end = min(len(lines), line + span + _SNIPPET_LINES)
        shown = "\n".join(lines[start:end])
        return (
            f"The file {self.path} has been edited. Here's the result of running `cat -n` on a "
            f"snippet of {self.path}:\n{_numbered(shown, start + 1)}\n"
            "Review the changes and make sure they are as expected. Edit the file again if "
            "necessary."
        )

    async def view(self) -> str:
        if await self.is_dir():
            r = await self.pod.exec(
                ["find", self.path, "-maxdepth", "2", "-not", "-path", "*/.*"], timeout=30
            )
            return (
                f"Here's the files and directories up to 2 levels deep in {self.path}, "
                f"excluding hidden items:\n{r.stdout}"
            )
        text = await self.read()
        rng = self.args.get("view_range")
        start = 1
        if isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, int) for x in rng):
            lines = text.split("\n")
            lo, hi = rng
            if lo < 1 or lo > len(lines) or (hi != -1 and hi < lo):
                raise _ToolFail(
                    f"Invalid `view_range`: {rng}. Its first element `{lo}` should be within "
                    f"the range of lines of the file: [1, {len(lines)}]"
                )
            text = "\n".join(lines[lo - 1 :] if hi == -1 else lines[lo - 1 : hi])
            start = lo
        return f"Here's the result of running `cat -n` on {self.path}:\n{_numbered(text, start)}\n"

    async def create(self) -> str:
        text = _first(self.args, _TEXT_KEYS)
        if not isinstance(text, str):
            raise _ToolFail("Parameter `file_text` is required for command: create")
        if self.args.get("command") == "create" and await self.exists():
            raise _ToolFail(
                f"File already exists at: {self.path}. Cannot overwrite files using command "
                "`create`."
            )
        await self.write(text)
        return f"File created successfully at: {self.path}"

    async def str_replace(self) -> str:
        old, new = _first(self.args, _OLD_KEYS), _first(self.args, _NEW_KEYS)
        if not isinstance(old, str):
            raise _ToolFail("Parameter `old_str` is required for command: str_replace")
        new = new if isinstance(new, str) else ""
        text = (await self.read()).expandtabs()
        count = text.count(old)
        if count == 0:
            raise _ToolFail(
                f"No replacement was performed, old_str `{old}` did not appear verbatim in "
                f"{self.path}."
            )
        if count > 1:
            lines = [i + 1 for i, line in enumerate(text.split("\n")) if old in line]
            raise _ToolFail(
                f"No replacement was performed. Multiple occurrences of old_str `{old}` in "
                f"lines {lines}. Please ensure it is unique"
            )
        result = text.replace(old, new)
        await self.write(result)
        line = text.split(old)[0].count("\n")
        return self.snippet(result, line, new.count("\n"))

    async def insert(self) -> str:
        at, new = self.args.get("insert_line"), _first(self.args, _NEW_KEYS)
        if not isinstance(at, int) or not isinstance(new, str):
            raise _ToolFail("Parameters `insert_line` and `new_str` are required for insert")
        lines = (await self.read()).expandtabs().split("\n")
        if at < 0 or at > len(lines):
            raise _ToolFail(
                f"Invalid `insert_line` parameter: {at}. It should be within the range of "
                f"lines of the file: [0, {len(lines)}]"
            )
        result = "\n".join([*lines[:at], *new.split("\n"), *lines[at:]])
        await self.write(result)
        return self.snippet(result, at, new.count("\n"))

    async def undo(self) -> str:
        history = self.ctx.scratch.get("editor_history", {}).get(self.path) or []
        if not history:
            raise _ToolFail(f"No edit history found for {self.path}.")
        previous = history.pop()
        if previous is None:
            await self.pod.exec(["rm", "-f", self.path])
            return f"Last edit to {self.path} undone successfully (the file was removed)."
        await self.write(previous, remember=False)
        return f"Last edit to {self.path} undone successfully. {_numbered(previous)}"


class _ToolFail(Exception):
    """An editor error the model sees."""


_COMMANDS = {
    "view": _Edit.view,
    "create": _Edit.create,
    "str_replace": _Edit.str_replace,
    "insert": _Edit.insert,
    "undo_edit": _Edit.undo,
}


@backend
class EditorBackend(Backend):
    """Editor tools run live against the pod's files, as the agent user."""

    name = "editor"
    in_pod = True

    def accepts(self, spec: ToolSpec, ctx: CallContext) -> bool:
        """Editor-kind tools, when there is a pod."""
        return ctx.pod is not None and spec.kind == "editor"

    async def call(self, spec: ToolSpec, request: ToolRequest, ctx: CallContext) -> ToolOutcome:
        """Dispatch on ``command`` (or on the argument names of plain write/edit tools)."""
        if ctx.pod is None or request.arguments is None:
            raise NotServed("no pod, or arguments that are not a JSON object")
        edit = _Edit(ctx.pod, ctx, request.arguments)
        command = request.arguments.get("command")
        if command is None:
            if _first(request.arguments, _OLD_KEYS) is not None:
                command = "str_replace"
            elif _first(request.arguments, _TEXT_KEYS) is not None:
                command = "create"
            else:
                raise NotServed("neither a command nor content/old-new arguments")
        method = _COMMANDS.get(str(command))
        if method is None:
            return self._error(
                f"Unrecognized command {command}. The allowed commands for the {request.name} "
                f"tool are: {', '.join(_COMMANDS)}"
            )
        try:
            return ToolOutcome(output=await method(edit), provenance="live", backend=self.name)
        except _ToolFail as e:
            return self._error(str(e))
        except FileNotFoundError:
            return self._error(f"The path {edit.path} does not exist. Please provide a valid path.")
        except IsADirectoryError:
            return self._error(f"The path {edit.path} is a directory.")
        except PermissionError:
            return self._error(f"Permission denied: {edit.path}")
        except TimeoutError:
            return self._error(f"Timed out on {edit.path}.")
        except OverflowError:
            return self._error(f"The file {edit.path} is too large to open.")
        except OSError as e:
            # a full disk, a read-only or odd file the agent made: the tool's answer, as a
            # real editor would give it; infrastructure failures are not OSError
            return self._error(f"Could not access {edit.path}: {e.strerror or e}")

    def _error(self, message: str) -> ToolOutcome:
        return ToolOutcome(output=message, is_error=True, provenance="live", backend=self.name)
