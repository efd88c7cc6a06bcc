"""What inspect-ai loads through the ``inspect_ai`` entry point.

- the ``deploysim`` sandbox type, and ``deploysim-pool`` (the same pods, reused across samples
  when no tool can reach the workspace);
- the task ``deploysim/replay``;
- the model API ``deploysim`` (scripted policies: ``deploysim/original``,
  ``deploysim/demo-careless``, ``deploysim/demo-cautious``, ``deploysim/demo-user``);
- the scorers ``deploysim/divergence``, ``state_diff``, ``risk``, ``judge``, ``awareness``.

Importing this module registers deploysim's extensions with inspect; nothing else imports it.
"""

from deploysim.graders._scorers import awareness, divergence, judge, risk, state_diff
from deploysim.replay._models import ScriptedModelAPI, deploysim_models
from deploysim.replay._pool import PooledSandbox
from deploysim.replay._task import replay, replay_summary
from deploysim.sandbox._inspect import DeploysimSandbox

__all__ = [
    "DeploysimSandbox",
    "PooledSandbox",
    "ScriptedModelAPI",
    "awareness",
    "deploysim_models",
    "divergence",
    "judge",
    "replay",
    "replay_summary",
    "risk",
    "state_diff",
]
