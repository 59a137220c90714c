#!/usr/bin/env bash
# Measures latent on MNIST and writes every figure of docs/benchmarks.md: reconstruction against
# PCA at code sizes 2-64 (plot and picture), the 784-1000-500-250-30 autoencoder against Hinton
# and Salakhutdinov's 3.00, PCA's fit times, the VAE against published likelihoods, the
# training step against its own GEMMs, Adam's update against a plain loop, and inference.
# Builds the benchmarks in Release, finds or fetches MNIST as scripts/demo.sh does, writes
# CSVs, plots and machine.txt to the output folder and prints the tables.
#
#   scripts/bench.sh [--quick] [--peers] [--out DIR] [--build DIR]
#
#   --quick   small budgets (1 epoch, 30-second runs, 200 test images for the likelihoods):
#             under 5 minutes on 2 cores once built, the same tables and files; the full run
#             takes about 115 minutes (20 of them the deep autoencoder, 30 the best VAE)
#   --peers   also runs benchmarks/peers/compare.sh (PyTorch and scikit-learn) when present
#   --out     default out/bench;  --build  default build/bench
# A parallel build uses all cores unless CMAKE_BUILD_PARALLEL_LEVEL says otherwise.
set -euo pipefail

quick=0
peers=0
out=out/bench
build=build/bench
while (($#)); do
  case $1 in
    --quick) quick=1; shift ;;
    --peers) peers=1; shift ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --build=*) build=${1#--build=}; shift ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
# Paths given relative to the caller's directory must survive the cd below.
out=$(realpath -m -- "$out")
build=$(realpath -m -- "$build")
if [[ -n ${MNIST_DIR:-} ]]; then
  MNIST_DIR=$(realpath -m -- "$MNIST_DIR")
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS

bash scripts/deps.sh
# gnuplot draws the plots; only this script needs it, so it is installed here, as deps.sh would.
if ! command -v gnuplot >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  as_root=()
  if ((EUID != 0)); then as_root=(sudo); fi
  echo "bench.sh: installing gnuplot-nox" >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends gnuplot-nox
fi

if [[ -z ${MNIST_DIR:-} ]]; then
  MNIST_DIR=$PWD/data/mnist
  bash scripts/get-mnist.sh "$MNIST_DIR"
fi
export MNIST_DIR
echo "bench.sh: MNIST from $MNIST_DIR" >&2

# A build folder configured before keeps its generator and compiler launcher (changing the
# launcher would rebuild everything).
generator=()
launcher=()
if ! [[ -f $build/CMakeCache.txt ]]; then
  if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
fi
cmake -S . -B "$build" ${generator[@]+"${generator[@]}"} ${launcher[@]+"${launcher[@]}"} \
  -DCMAKE_BUILD_TYPE=Release -DLATENT_BUILD_TESTS=OFF -DLATENT_BUILD_BENCHMARKS=ON \
  -DLATENT_CHECK_HEADERS=OFF -DLATENT_INSTALL=OFF >/dev/null
cmake --build "$build" --parallel --target latent_bench_train_step latent_bench_optimizer_step \
  latent_bench_inference latent_bench_pca_fit latent_bench_reconstruction latent_bench_deep_autoencoder latent_bench_vae_likelihood
built=$SECONDS
bin=$build/benchmarks

if ((quick)); then
  step_args=(--benchmark_min_time=0.05)
  train_step_args=("${step_args[@]}")
  pca_args=(--repeats 1)
  reconstruction_args=(--epochs 1 --train-images 10000)
  deep_args=(--minutes 0.5)
  pytorch_args=(--epochs 1 --test-images 200)
  dynamic_args=(--minutes 0.5 --test-images 200)
else
  # Repetitions in random order: the VM's speed drifts by 15-30% over minutes, which would
  # otherwise land on whichever cases ran last.
  step_args=(--benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
    --benchmark_report_aggregates_only=true)
  # Ten for the training step (the later flag wins): on a 2-core VM whose second core comes
  # and goes its two-thread speedups still vary by up to 0.3 (standard deviation) from one
  # repetition to the next at small batches, 0.01-0.09 at batch 512.
  train_step_args=("${step_args[@]}" --benchmark_repetitions=10)
  pca_args=(--repeats 3)
  reconstruction_args=(--epochs 10)
  deep_args=(--minutes 20)
  pytorch_args=(--epochs 10)
  dynamic_args=(--minutes 30)
fi

# The kernels OpenBLAS chose as it loaded (Debian's build names them), and the settings that
# steer the choice: on a Zen 5 the same OpenBLAS multiplied 1.5-1.9x as fast with its own
# choice as held to AVX2 by OPENBLAS_CORETYPE=Haswell (docs/benchmarks.md).
blas_core=$(OPENBLAS_VERBOSE=2 "$bin/train_step" --help 2>&1 >/dev/null |
  sed -n 's/^Core: //p' | head -n1) || true
mkdir -p "$out"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "mode: $( ((quick)) && echo quick || echo full)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores," \
    "$(grep -o -w -m1 'avx512f' /proc/cpuinfo || grep -o -w -m1 'avx2' /proc/cpuinfo || echo 'no AVX2')"
  echo "compiler: $("$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")" --version | head -1)"
  echo "flags: -O3 -march=native (Release), BLAS: $(sed -n 's/^LATENT_USE_BLAS:BOOL=//p' "$build/CMakeCache.txt")"
  echo "OpenBLAS kernels: ${blas_core:-not reported}," \
    "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}"
  echo "threads: $(nproc) (all cores) unless a table says otherwise"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/machine.txt"

echo "==== PCA fit on 60,000 x 784 ====" >&2
"$bin/pca_fit" "${pca_args[@]}" --csv "$out/pca_fit.csv"
echo "==== training step against its GEMMs ====" >&2
"$bin/train_step" "${train_step_args[@]}" --benchmark_out="$out/train_step.json" --benchmark_out_format=json
echo "==== Adam's update against a plain loop ====" >&2
"$bin/optimizer_step" "${step_args[@]}" --benchmark_out="$out/optimizer_step.json" --benchmark_out_format=json
echo "==== inference with the 32-d model ====" >&2
"$bin/inference" "${step_args[@]}" --benchmark_out="$out/inference.json" --benchmark_out_format=json
echo "==== reconstruction against PCA ====" >&2
"$bin/reconstruction" "${reconstruction_args[@]}" --csv "$out/reconstruction.csv" \
  --picture "$out/reconstructions.png"
echo "==== the PyTorch examples' VAE ====" >&2
"$bin/vae_likelihood" --recipe pytorch "${pytorch_args[@]}" --csv "$out/vae_pytorch.csv"
echo "==== 784-1000-500-250-30 against 3.00 ====" >&2
"$bin/deep_autoencoder" "${deep_args[@]}" --csv "$out/deep_autoencoder.csv" \
  --summary "$out/deep_autoencoder_summary.csv"
echo "==== VAE on dynamically binarised MNIST ====" >&2
"$bin/vae_likelihood" --recipe dynamic "${dynamic_args[@]}" --csv "$out/vae_dynamic.csv"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"

if command -v gnuplot >/dev/null 2>&1; then
  gnuplot <<GP
set terminal pngcairo size 720,450 font ",10" noenhanced
set datafile separator ","
set key outside right
set grid
set output "$out/reconstruction.png"
set title "MNIST test reconstruction (fit on the training images)"
set xlabel "code size"
set ylabel "test MSE per pixel"
set logscale xy
set xtics (2, 4, 8, 16, 32, 64)
plot for [m in "pca linear plain tied denoising sparse vae"] \
  "< awk -F, '\$1 == \"".m."\"' '$out/reconstruction.csv'" using 2:6 with linespoints title m
set output "$out/deep_autoencoder.png"
set title "784-1000-500-250-30 autoencoder: test error against training time"
set xlabel "training seconds"
set ylabel "squared error per test image"
unset logscale x
set xtics auto
set xrange [0:*]
set logscale y
set yrange [2:20]
set key inside right center
set ytics (2, 3, 4, 5, 7, 10, 14, 20)
pca = system("sed -n 's/^pca-30,[^,]*,//p' '$out/deep_autoencoder_summary.csv'") + 0
plot "$out/deep_autoencoder.csv" using 2:5 with linespoints title "autoencoder, test images", \
  "$out/deep_autoencoder.csv" using 2:6 with lines title "autoencoder, 10,000 training images", \
  pca with lines dashtype 2 title "PCA-30", 3.0 with lines dashtype 3 title "Hinton and Salakhutdinov: 3.00"
GP
else
  echo "bench.sh: no gnuplot: plots skipped" >&2
fi

python3 - "$out" <<'PY'
import csv, json, re, sys
out = sys.argv[1]
def rows(name):
    with open(f"{out}/{name}") as f:
        return list(csv.DictReader(f))

print()
print(open(f"{out}/machine.txt").read())
print("Reconstruction of the 10,000 test images: MSE per pixel (training seconds)")
rec = rows("reconstruction.csv")
codes = sorted({int(r["code"]) for r in rec})
models = list(dict.fromkeys(r["model"] for r in rec))
print(f"{'model':10}" + "".join(f"{c:>17}" for c in codes))
for m in models:
    cells = {int(r["code"]): r for r in rec if r["model"] == m}
    print(f"{m:10}" + "".join(
        f"{float(cells[c]['test_mse_per_pixel']):9.5f} ({float(cells[c]['train_seconds']):4.0f})"
        if c in cells else f"{'':>17}" for c in codes))
print(f"epochs {rec[-1]['epochs']}, fitted on {rec[-1]['train_images']} training images")

print("\n784-1000-500-250-30: squared error per test image (target 3.00)")
for r in rows("deep_autoencoder_summary.csv"):
    print(f"  {r['model']:34} {float(r['test_squared_error_per_image']):7.2f}  after {float(r['train_seconds']):6.0f} s")

print("\nPCA fit on 60,000 x 784 (seconds, median)")
for r in rows("pca_fit.csv"):
    print(f"  {r['scalar']:6} {r['solver']:10} k = {r['components']:>2}  {float(r['seconds_median']):6.2f} s"
          f"  test MSE per pixel {float(r['test_mse_per_pixel']):.5f}")

print("\nVAE, test set: nats per image")
for name in ("vae_pytorch.csv", "vae_dynamic.csv"):
    for r in rows(name):
        print(f"  {r['recipe']:8} {r['architecture']:14} {r['epochs']:>4} epochs {float(r['train_seconds']):6.0f} s"
              f"  -ELBO {float(r['negative_elbo']):7.2f}  IW NLL k = {r['k']:>4}: {float(r['iw_nll']):7.2f}"
              f"  ({r['test_images']} test images)")

print("\nTraining step (samples/s, step/GEMM ratio)")
runs = json.load(open(f"{out}/train_step.json"))["benchmarks"]
medians = [b for b in runs if b.get("aggregate_name") == "median"]
runs = medians or [b for b in runs if b.get("run_type") == "iteration"]
table = {}
for b in runs:
    m = re.match(r"train_step/(W\d)_[^/]*/(\w+)/batch:(\d+)/threads:(\d+)", b["run_name"])
    if m:
        table[m.groups()] = b
    elif "machine_fma" in b["run_name"]:
        print(f"  the machine's ceiling: a register-only FMA loop runs {b['speedup']:.2f}x on 2 threads")
with open(f"{out}/train_step.csv", "w") as f:
    f.write("workload,scalar,batch,threads,samples_per_second,gemm_samples_per_second,step_over_gemm,"
            "speedup,gemm_speedup\n")
    print(f"  {'':14} {'1 thread':>22} {'2 threads':>22} {'2 / 1':>6} {'GEMMs 2 / 1':>12}")
    for (w, s, batch, threads), b in table.items():
        speedups = f"{b['speedup']:.3f},{b['gemm speedup']:.3f}" if "speedup" in b else ","
        f.write(f"{w},{s},{batch},{threads},{b['samples/s']:.0f},{b['gemm samples/s']:.0f},{b['step/gemm']:.3f},"
                f"{speedups}\n")
        if threads == "1":
            two = table.get((w, s, batch, "2"))
            line = f"  {w} {s:6} {batch:>4}  {b['samples/s']:10.0f} ({b['step/gemm']:.2f})"
            if two:
                line += (f"  {two['samples/s']:10.0f} ({two['step/gemm']:.2f})  {two['speedup']:5.2f}"
                         f"  {two['gemm speedup']:11.2f}")
            print(line)

print("\nAdam's update on one thread (ns per parameter; latent over a plain vectorised loop)")
runs = json.load(open(f"{out}/optimizer_step.json"))["benchmarks"]
medians = [b for b in runs if b.get("aggregate_name") == "median"]
for b in medians or [b for b in runs if b.get("run_type") == "iteration"]:
    name = b["run_name"].replace("optimizer_step/adam/", "").replace("/manual_time", "")
    print(f"  {name:28} {b['ns/parameter']:6.2f}  loop {b['loop ns/parameter']:6.2f}  ratio {b['vs loop']:5.2f}")

print("\nInference, 784-512-32 encoder (784-512-32-512-784 to reconstruct), float")
runs = json.load(open(f"{out}/inference.json"))["benchmarks"]
medians = [b for b in runs if b.get("aggregate_name") == "median"]
for b in medians or [b for b in runs if b.get("run_type") == "iteration"]:
    name = b["run_name"].replace("/real_time", "")
    print(f"  {name:40} {b['real_time']:10.1f} {b['time_unit']}  {b['samples/s']:10.0f} samples/s")
PY

if ((peers)); then
  if [[ -f benchmarks/peers/compare.sh ]]; then
    peer_args=()
    if ((quick)); then peer_args=(--quick); fi
    bash benchmarks/peers/compare.sh "$build" ${peer_args[@]+"${peer_args[@]}"}
  else
    echo "bench.sh: benchmarks/peers/compare.sh is missing: no comparison with PyTorch and scikit-learn" >&2
  fi
fi

echo
echo "build $((built - started)) s, benchmarks $((SECONDS - built)) s; results in $out"
