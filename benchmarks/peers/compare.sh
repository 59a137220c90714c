#!/usr/bin/env bash
# latent against PyTorch and scikit-learn on issue 10's workloads, in one run, on this machine:
# builds peers_latent and train_step in BUILD_DIR if needed, then runs three rounds; each round
# runs every measurement once, each in its own process: latent's (BUILD_DIR/benchmarks/
# peers_latent), train_step for latent's GEMM bound, then PyTorch's and scikit-learn's
# (benchmarks/peers/pytorch_peers.py under /usr/bin/python3, when it can import torch and
# sklearn; otherwise latent's column alone). Prints one table of the medians (table.py).
#
#   benchmarks/peers/compare.sh BUILD_DIR [--quick] [--workloads W1,W2,...]
#
# --workloads: measure only these (of W1 W2 W3 W4 W5 pca; default all), e.g. to re-measure the
# rows a change touches.
# --quick: one round of 10,000 samples and 3 epochs per training run, fewer calls: a smoke run
# of a few minutes whose figures are not to be quoted. The full run takes under an hour on 2
# cores. A PyTorch training run projected to take over 300 s (60 with --quick) stops after 20 s
# and reports its rate so far, marked in the table: oversubscribed, PyTorch can run 100x slower
# than on one thread.
# PEERS_PYTHON: the interpreter with torch and sklearn (default /usr/bin/python3).
# MNIST: $MNIST_DIR, else data/mnist (fetched there by scripts/get-mnist.sh when missing).
# Raw rows go to out/bench/peers/runs.csv (framework,workload,threads,variant,metric,value,run),
# train_step's to out/bench/peers/train_step-RUN.json, the medians to medians.csv and the table to
# table.md. Run it on an otherwise idle machine: both frameworks are timed on every core.
set -euo pipefail

usage() {
  echo "usage: benchmarks/peers/compare.sh BUILD_DIR [--quick] [--workloads W1,W2,...]" >&2
  exit 2
}
(($# >= 1)) || usage
build_dir=$(realpath -m -- "$1")
shift
quick=()
rounds=3
budget=300  # seconds a PyTorch training run may take (pytorch_peers.py --budget)
workloads="W1 W2 W3 W4 W5 pca"
while (($#)); do
  case $1 in
    --quick) quick=(--quick) rounds=1 budget=60 ;;
    --workloads)
      (($# >= 2)) || usage
      workloads=${2//,/ }
      for w in $workloads; do [[ $w =~ ^(W[1-5]|pca)$ ]] || usage; done
      shift ;;
    *) usage ;;
  esac
  shift
done
selected() { [[ " $workloads " == *" $1 "* ]]; }
if [[ -n ${MNIST_DIR:-} ]]; then
  MNIST_DIR=$(realpath -m -- "$MNIST_DIR")
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
if [[ -z ${MNIST_DIR:-} ]]; then
  MNIST_DIR=$root/data/mnist
  bash scripts/get-mnist.sh "$MNIST_DIR"
fi
export MNIST_DIR

if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLATENT_BUILD_BENCHMARKS=ON \
    -DLATENT_BUILD_TESTS=OFF -DLATENT_BUILD_EXAMPLES=OFF
fi
cmake --build "$build_dir" --target latent_bench_peers_latent latent_bench_train_step
peers_latent=$build_dir/benchmarks/peers_latent
train_step=$build_dir/benchmarks/train_step

python=${PEERS_PYTHON:-/usr/bin/python3}  # Debian's, where python3-torch installs
with_peers=true
if ! "$python" -c 'import torch, sklearn, numpy' 2>/dev/null; then
  echo "compare.sh: $python cannot import torch, sklearn and numpy (scripts/deps.sh --peers" \
    "installs them): measuring latent alone" >&2
  with_peers=false
fi

out=out/bench/peers
mkdir -p "$out"
rm -f "$out"/runs.csv "$out"/train_step-*.json "$out"/load.txt

# Each workload runs for latent only if peers_latent lists it (--list).
latent_workloads=$("$peers_latent" --list)
measurements=()  # framework workload threads variant
for workload in W1 W2 W3 W4 W5; do
  selected "$workload" || continue
  threads=(1 2)
  [[ $workload == W3 ]] && threads=(1)  # the issue measures W3 at one thread
  for t in "${threads[@]}"; do
    if grep -qx "$workload" <<<"$latent_workloads"; then
      measurements+=("latent $workload $t plain")
    fi
    measurements+=("pytorch $workload $t plain")
    # At 2 threads PyTorch also runs its ops on 1 thread with OpenBLAS on 2; table.py shows
    # the better of the two.
    [[ $t == 2 ]] && measurements+=("pytorch $workload $t torch1-blas2")
  done
done
if selected pca; then
  measurements+=("latent pca 1 exact" "latent pca 1 randomized"
                 "pytorch pca 1 full" "pytorch pca 1 randomized")
fi

for ((run = 1; run <= rounds; run++)); do
  echo "round $run: $(uptime)" >>"$out/load.txt"  # what else the machine was doing
  # JSON: its two-thread rows carry counters the one-thread rows do not, which the CSV
  # reporter refuses.
  "$train_step" --benchmark_format=json --benchmark_min_time=1 \
    --benchmark_filter='W1_.*/float/batch:128/|W2_.*/float/batch:64/' 2>/dev/null \
    >"$out/train_step-$run.json"
  for measurement in "${measurements[@]}"; do
    read -r framework workload t variant <<<"$measurement"
    echo "compare.sh: run $run: $framework $workload, $t thread(s), $variant" >&2
    if [[ $framework == latent ]]; then
      command=("$peers_latent")
    elif $with_peers; then
      command=("$python" benchmarks/peers/pytorch_peers.py --budget "$budget")
    else
      continue
    fi
    "${command[@]}" --workload "$workload" --threads "$t" --variant "$variant" "${quick[@]}" |
      sed "s/\$/,$run/" >>"$out/runs.csv"
  done
done

python3 benchmarks/peers/table.py "$out" | tee "$out/table.md"
echo "compare.sh: raw rows in $out/runs.csv, medians in $out/medians.csv, load averages" \
  "in $out/load.txt" >&2
