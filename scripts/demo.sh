#!/usr/bin/env bash
# The offline end-to-end demo (`make demo`): every stage is a deploysim command, as a user
# would run it, on the real tau-bench airline traces.
#
#   import -> scrub -> reconstruct -> fidelity -> scenario -> replay (baseline: the recorded
#   agent itself; candidate: a scripted stand-in that skips confirmations) -> grade ->
#   forecast -> report
#
# The candidate here is `deploysim/demo-careless`, a scripted policy, not a model: it makes
# the demo run offline and gives the graders something real to catch. Point it at a model
# with CANDIDATE=openai/gpt-4o (and OPENAI_API_KEY) or any inspect model name.
set -euo pipefail

DATA=${DATA:?set DATA to the shared data folder}
OUT=${OUT:-.cache/demo}
BIN=${BIN:-.venv/bin}
CANDIDATE=${CANDIDATE:-deploysim/demo-careless}
BASELINE=${BASELINE:-deploysim/original}
SAMPLES=${SAMPLES:-1000}
SRC=$DATA/traces/tau-bench-airline

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

rm -rf "$OUT"
mkdir -p "$OUT"

step "1/8 import the recorded traces (tau-bench airline, gpt-4o)"
"$BIN/deploysim" traces import "$SRC/traces.json" --tools "$SRC/tool_schemas.json" \
    -o "$OUT/traces.jsonl"

step "2/8 scrub private data (consistent pseudonyms, leak gate)"
"$BIN/deploysim" scrub "$OUT/traces.jsonl" -o "$OUT/scrubbed.jsonl" --key-file "$OUT/demo.key" --json

step "3/8 reconstruct the environment from the scrubbed traces alone"
"$BIN/deploysim" reconstruct "$OUT/scrubbed.jsonl" -o "$OUT/snapshot" --json

step "4/8 fidelity: re-run every recorded call against the rebuilt snapshot"
"$BIN/deploysim" fidelity "$OUT/snapshot" "$OUT/scrubbed.jsonl" --in-process --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print({k: d[k] for k in ("calls","reproduced","rate")})'

step "5/8 scenario: resample the agent turn at every cut"
"$BIN/deploysim" scenario new "$OUT/scenario.yaml" --traces "$OUT/scrubbed.jsonl" \
    --snapshot "$OUT/snapshot" --cut each --mode resample --force >/dev/null

step "6/8 replay baseline ($BASELINE) and candidate ($CANDIDATE) in sandbox pods"
"$BIN/deploysim" replay "$OUT/scenario.yaml" --model "$CANDIDATE" --baseline "$BASELINE" \
    --limit "$SAMPLES" --log-dir "$OUT/logs"

step "7/8 grade every sample"
"$BIN/deploysim" grade "$OUT/logs" -o "$OUT/run" --baseline "$BASELINE"

step "8/8 forecast and report"
"$BIN/deploysim" forecast "$OUT/run"
"$BIN/deploysim" report "$OUT/run" -o "$OUT/report.html" >/dev/null
echo "report: $(cd "$OUT" && pwd)/report.html"
