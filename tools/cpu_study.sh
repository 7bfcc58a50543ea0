#!/usr/bin/env bash
# The study on a 2-core CPU (issues 13 and 30): every configuration whose source recipe fits two cores, profile
# `full`, in the order of the issue. Resumable: a finished run is read back, an interrupted one resumes from
# its checkpoint, a run whose recipe or model definition changed is trained again. Each `reproduce` call
# rewrites results/full/summary.{md,csv} over every finished run.
#
# Run it from its own worktree at a fixed commit, so that edits in the main checkout cannot change a run
# under way and each record names the commit that produced it; the results land in the main checkout:
#
#   git worktree add --detach ../study HEAD
#   cd ../study && MNIST_DATA=... nohup nice -n 10 bash tools/cpu_study.sh /work/main/results \
#       > /work/main/study.log 2>&1 &
set -euo pipefail
RESULTS=$(realpath -m "${1:-results}")
PY=${PYTHON:-python}
reproduce() { "$PY" -m mnistlib reproduce --device cpu --compile --quiet --out "$RESULTS/full" "$@"; }

reproduce --models shao_cnn --seeds 5                          # 1. the paper recipe, then the improved one
reproduce --models gecco gecco_enhanced --seeds 5              # 2. the GECCO family
reproduce --models gecco_complete --seeds 3
reproduce --models spinalnet_small --seeds 5                   # 3.
reproduce --models baseline_cnn --seeds 3
reproduce --models shao_cnn --seeds 3 --datasets fashion_mnist # 4. Fashion-MNIST, both recipes
"$PY" -m mnistlib ablate --profile full --seeds 3 --device cpu --compile --out "$RESULTS/ablation"  # 5.
"$PY" -m mnistlib plan --results "$RESULTS"                        # the plan, with every run done

# Issue 30: the comparison completed on this CPU, in the order of value per CPU hour. Each runner holds the
# results folder's lock (a second one on the same folder stops at once, naming this one).
reproduce --models efficient_capsnet --seeds 5                 # about 48 min a seed
"$PY" -m mnistlib audit-selection --device cpu --compile --out "$RESULTS/selection_audit"  # ~50 min: an audit
reproduce --models gecco_dropout gecco_dropout_attention --seeds 5  # chapter 5's intermediate variants, ~90 s a run
# Issue 33: the ladder past the paper's claim (rung 3 trained here, 60 epochs a seed; rungs 4-5 from its outputs)
"$PY" -m mnistlib ladder --device cpu --compile --out "$RESULTS/ladder" --study "$RESULTS/full"
reproduce --models efficient_capsnet_decoder --seeds 3 --channels-last  # 1.2x as fast so (PLAN.md's paths)
"$PY" -m mnistlib ablate --profile full --seeds 5 --device cpu --compile --out "$RESULTS/ablation"  # every level 5 seeds
"$PY" -m mnistlib collapses --device cpu --out "$RESULTS/ablation"  # why the collapsed runs collapsed (~5 min each)
# Optuna over the same factors (validation only; a trial cut off is counted neither done nor pruned, and
# `--until` adds trials until 50 have finished), then its best configuration on 5 seeds (results/hpo/best.csv).
"$PY" -m mnistlib tune --profile full --until 50 --final-seeds 5 --device cpu --compile --out "$RESULTS/hpo"
reproduce --models spinalnet --seeds 3
reproduce --models resnet --resnet-seeds 3 --seeds 3 --channels-last  # last: the 46.7M model, resumable; 1.4x
"$PY" -m mnistlib plan --results "$RESULTS"
