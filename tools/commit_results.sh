#!/usr/bin/env bash
# Commit what the CPU study has finished: rewrite results/full/summary.*, PLAN.md, results/ablation/summary.* and
# results/ladder/summary.md from the finished runs, then commit results/ (run records, seed 0's weights, the
# ladder's predictions, the tables). Checkpoints stay ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
csv=results/ablation/ablation.csv
while :; do  # the summaries read ablation.csv, which the runner appends to: commit them from one version of it
  before=$(cat "$csv" 2>/dev/null | md5sum)
  "$PY" -m mnistlib reproduce --summary-only --out results/full >/dev/null
  # the GPU's summary names the CPU study's progress in its pending reasons: rewritten with it
  if [ -f results/gpu/summary.csv ]; then
    "$PY" -m mnistlib reproduce --summary-only --out results/gpu --compare-with results/full >/dev/null
  fi
  "$PY" -m mnistlib plan >/dev/null
  "$PY" -m mnistlib batch-audit >/dev/null  # chapter 5's audit of the committed networks, where their weights changed
  if [ -f "$csv" ]; then "$PY" -m mnistlib ablate --summary-only >/dev/null; fi
  if [ -d results/ladder/runs ]; then "$PY" -m mnistlib ladder --summary-only >/dev/null; fi
  git add results
  [ "$before" = "$(git show :"$csv" 2>/dev/null | md5sum)" ] && break
done
done_line=$(grep -o '^\*\*[0-9]* of [0-9]* CPU runs done' results/full/PLAN.md | tr -d '*')
git diff --cached --quiet -- results || git commit -qm "results: ${done_line}" -- results
git log --oneline -1
