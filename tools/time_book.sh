#!/usr/bin/env bash
# Time the README's main command from fresh clones, as the README reports it: three builds of the quick book,
# each from its own clone of this repository, with the CPU study's runner paused meanwhile (its process group
# is given as the first argument; none: nothing is paused). Prints each build's wall time and chapter times.
#   [BUILDS=3] bash tools/time_book.sh [RUNNER_PGID]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$PWD/.venv/bin/python}
export MNIST_DATA="$(realpath -m "${MNIST_DATA:-../shared/data/mnist}")"
runner=${1:-}
resume() { [ -n "$runner" ] && kill -CONT -- "-$runner" 2>/dev/null || true; }
trap resume EXIT
for i in $(seq "${BUILDS:-3}"); do
    clone=$(mktemp -d)/mnist-course
    git clone -q . "$clone"
    [ -n "$runner" ] && kill -STOP -- "-$runner"
    start=$(date +%s.%N)
    (cd "$clone" && "$PY" -m mnistlib book --profile quick > build.log 2>&1)
    end=$(date +%s.%N)
    resume
    printf 'build %d: %.0f s\n' "$i" "$(echo "$end - $start" | bc)"
    grep -E "^executing|done in|book written" "$clone/build.log" | sed 's/ (profile.*//' | paste -sd' ' | sed 's/^/  /'
done
