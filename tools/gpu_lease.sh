#!/usr/bin/env bash
# One GPU lease of issue 18, as one command of about 8 minutes: the queue's steps in order, each bounded by
# what is left of the budget, the results packed into $OUT after every step (so that a command stopped at its
# limit still returns what finished). Run it on the device machine from the repository root:
#
#   mkdir -p .gpu/mnist && cp ../shared/data/mnist/* .gpu/mnist/     # once, here (.gpu/ is git-ignored)
#   python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#       -d .gpu/wheels optuna==5.0.0 alembic==1.20.1 sqlalchemy==2.1.9 mako colorlog greenlet
#                                                                    # Optuna, which the GPU image lacks
#   device run, carry [".gpu"]:  MNISTLIB_COMMIT=<commit> bash tools/gpu_lease.sh
#
# Steps: 1. the CUDA-graph tests, the graph-against-eager check and the benchmark (`bench`, per-model batch
# sizes; once); 2. two seeds of each Shao recipe on the GPU (results/gpu: a study folder of its own, so that
# they never collide with the CPU study's seeds), and one epoch of each model left to the GPU timed (once:
# results/gpu/epoch_times.json, the estimates of the pending rows); 3. VGG-5 and SpinalNet under `full`, seed by seed, into
# results/full (their seeds count in the study); 4. Efficient-CapsNet; 5. Optuna over the Shao CNN's space
# (`tune --until 50`, its SQLite study in results/hpo, then the best configuration's five seeds). A run
# committed by an earlier lease is read back, not trained again, so the same command continues the queue;
# whatever the budget cuts off is left for the next lease. Back here: unpack $OUT/results.tar.gz's new run records (not the GPU's summaries of
# results/full: tools/commit_results.sh rewrites them) and commit at once.
set -uo pipefail
: "${OUT:?set OUT to the folder whose files come back}"
: "${MNISTLIB_COMMIT:?set MNISTLIB_COMMIT to the commit of the tree that travels (git rev-parse HEAD, here)}"
BUDGET=${BUDGET:-500}  # seconds after which no step starts; a running step is stopped at the budget's end
PY=${PYTHON:-python3}
export MNIST_DATA=${MNIST_DATA:-$PWD/.gpu/mnist} PYTHONUNBUFFERED=1
export MNISTLIB_CACHE=${MNISTLIB_CACHE:-/tmp/mnistlib-cache}
STAMP=$(mktemp) && touch "$STAMP"
if compgen -G ".gpu/wheels/*.whl" >/dev/null; then  # the wheels the image lacks, beside its own packages
    "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/wheels/*.whl && export PYTHONPATH=/tmp/site
fi
START=$SECONDS

left() { echo $(( BUDGET - (SECONDS - START) )); }
pack() {  # every result file written since the start (run records, weights under 2 MB, summaries, bench)
    find results -type f -newer "$STAMP" ! \( -name '*.pt' ! -name '*.weights.pt' \) -print0 \
        | tar czf "$OUT/results.tar.gz" --null -T -
}
step() {  # step NAME COMMAND...: run with what is left of the budget, log it, pack the results
    local name=$1; shift
    if (( $(left) < 20 )); then echo "== $name: skipped, budget spent"; return; fi
    echo "== $name ($(left) s left)"
    timeout --signal=INT --kill-after=10 "$(left)" "$@" 2>&1 | tee -a "$OUT/log.txt"
    echo "== $name: exit ${PIPESTATUS[0]} after $(( SECONDS - START )) s"
    pack
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/log.txt"
"$PY" -c "import torch, torchvision, torch_geometric; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())" | tee -a "$OUT/log.txt"

step "CUDA-graph tests" "$PY" -m pytest -q -p no:cacheprovider -o addopts="" tests/test_parallel_and_fast.py -k cuda_graph
if [[ ! -f results/bench/bench.json || -n "${REBENCH:-}" ]]; then  # committed once; REBENCH=1 measures again
    step "benchmark" "$PY" -m mnistlib bench --models shao_cnn gecco --epochs 5 --out results/bench
fi
# Every later step reads back the runs committed by earlier leases and trains only what is missing.
step "Shao CNN on the GPU" "$PY" -m mnistlib reproduce --models shao_cnn --seeds 2 --device cuda --cuda-graph \
    --quiet --out results/gpu --compare-with results/full
if [[ ! -f results/gpu/epoch_times.json ]]; then  # the estimates behind "needs N GPU minutes" (once)
    step "GPU epoch times" "$PY" -m mnistlib plan --measure-gpu
fi
for seeds in 1 2 3 4 5; do
    step "VGG-5 and SpinalNet, seeds 0-$(( seeds - 1 ))" "$PY" -m mnistlib reproduce --models vgg5 spinalnet \
        --seeds "$seeds" --device cuda --cuda-graph --quiet --out results/full
done
step "Efficient-CapsNet" "$PY" -m mnistlib reproduce --models efficient_capsnet --seeds 5 --device cuda --cuda-graph \
    --quiet --out results/full
step "Optuna" "$PY" -m mnistlib tune --profile full --until 50 --final-seeds 5 --device cuda --cuda-graph --out results/hpo
pack
ls -la "$OUT"
