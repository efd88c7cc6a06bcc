"""The ``swe-agent`` tool backend: SWE-agent's tools run through the session emulator in the pod.

Registered in :mod:`deploysim.tools`' backend registry the way a plugin would be. A
command-in-text call (``swe_agent_command``) is passed as typed; a function-calling call
(``open``, ``edit``, ``find_file`` ...) goes as its tool name and JSON arguments. Either way
the emulator shipped in the snapshot answers with SWE-agent's observation, footer included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from deploysim.reconstruct._swe import COMMAND_TOOL, SESSION_SCRIPT, SWE_ENV
from deploysim.snapshots import SnapshotDir
from deploysim.tools import Backend, CallContext, NotServed, ToolOutcome, ToolRequest, backend
from deploysim.traces import ToolSpec

__all__ = ["SweAgentBackend", "swe_chains"]


@backend
class SweAgentBackend(Backend):
    """SWE-agent's tools, live in the pod through the session emulator."""

    name = "swe-agent"

    def accepts(self, spec: ToolSpec, ctx: CallContext) -> bool:
        """Any tool, when there is a pod."""
        return ctx.pod is not None

    async def call(self, spec: ToolSpec, request: ToolRequest, ctx: CallContext) -> ToolOutcome:
        """Run the call through the emulator."""
        if ctx.pod is None or request.arguments is None:
            raise NotServed("no pod, or arguments that are not a JSON object")
        args = request.arguments
        if request.name == COMMAND_TOOL:
            argv = [str(args.get("command", ""))]
        else:
            argv = ["--tool", request.name, "--arguments", json.dumps(args)]
        try:
            r = await ctx.pod.exec(["python3", SESSION_SCRIPT, *argv], timeout=ctx.timeout)
        except TimeoutError:
            return ToolOutcome(
                output=f"Command timed out after {ctx.timeout:.0f} seconds.",
                is_error=True,
                error_type="timeout",
                provenance="live",
                backend=self.name,
            )
        return ToolOutcome(
            output=r.stdout + r.stderr,
            is_error=r.returncode != 0,
            provenance="live",
            backend=self.name,
            structured={"returncode": r.returncode},
        )


def swe_chains(sd: SnapshotDir, specs: Mapping[str, ToolSpec]) -> dict[str, list[str]]:
    """Backend chains sending every non-function tool through the emulator, for SWE snapshots."""
    if SWE_ENV not in sd.snapshot.env:
        return {}
    served = {ft.name for s in sd.snapshot.services for ft in s.function_tools}
    return {name: ["swe-agent", "unavailable"] for name in specs if name not in served}
