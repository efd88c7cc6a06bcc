"""Replay: continue recorded traces with a candidate model in rebuilt sandboxes, as inspect evals.

::

    from deploysim.replay import load_scenario, read_record, run_replay

    loaded = load_scenario("scenarios/tau-bench-airline/last-turn.yaml")
    result = run_replay("scenarios/tau-bench-airline/last-turn.yaml", model="deploysim/original")
    for sample in read_eval_log(result.logs[0].path).samples:
        record = read_record(sample)          # the per-sample contract graders read

The inspect task is ``deploysim/replay`` (entry point ``inspect_ai``); the scripted model API
is ``deploysim/<policy>``. Importing this package does not import inspect-ai.
"""

from deploysim.replay._cuts import CutPoint, agent_turns, cut_points
from deploysim.replay._errors import MissingRecordError, PrefixLimitError, ScenarioError
from deploysim.replay._load import LoadedScenario, load_scenario
from deploysim.replay._paths import SHARED_DATA_VAR, expand_path, shared_data_dir
from deploysim.replay._record import (
    RECORD_KEY,
    RECORD_VERSION,
    EndState,
    PrefixCall,
    ReplayRecord,
    Step,
    StopReason,
    Timings,
    read_record,
)
from deploysim.replay._scenario import (
    Binding,
    CutSpec,
    Mode,
    Scenario,
    ScenarioLimits,
    SystemPrompt,
    TraceSet,
    dump_scenario,
    parse_cut,
    read_scenario,
)
from deploysim.replay._script import policy, policy_names

__all__ = [
    "RECORD_KEY",
    "RECORD_VERSION",
    "SHARED_DATA_VAR",
    "Binding",
    "CutPoint",
    "CutSpec",
    "EndState",
    "LoadedScenario",
    "MissingRecordError",
    "Mode",
    "PrefixCall",
    "PrefixLimitError",
    "ReplayRecord",
    "Scenario",
    "ScenarioError",
    "ScenarioLimits",
    "Step",
    "StopReason",
    "SystemPrompt",
    "Timings",
    "TraceSet",
    "agent_turns",
    "cut_points",
    "dump_scenario",
    "expand_path",
    "load_scenario",
    "parse_cut",
    "policy",
    "policy_names",
    "read_record",
    "read_scenario",
    "shared_data_dir",
]
