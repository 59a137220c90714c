#!/usr/bin/env bash
# The first thing to run: builds the MNIST examples in Release, finds or fetches MNIST, trains a
# 32-dimensional autoencoder and a variational autoencoder on this machine's cores, and prints
# what they reached beside PCA, with the paths of the pictures.
#
#   scripts/demo.sh [--out DIR]        (default out/)
#
# MNIST: $MNIST_DIR if set (it must hold the data), else data/mnist, fetched there with
# scripts/get-mnist.sh when missing.
set -euo pipefail

out=out
while (($#)); do
  case $1 in
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
# Paths given relative to the caller's directory must survive the cd below.
out=$(realpath -m -- "$out")
if [[ -n ${MNIST_DIR:-} ]]; then
  MNIST_DIR=$(realpath -m -- "$MNIST_DIR")
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS

bash scripts/deps.sh

if [[ -z ${MNIST_DIR:-} ]]; then
  MNIST_DIR=$PWD/data/mnist
  # Checks the four files' sums, keeps those that match and downloads the rest.
  bash scripts/get-mnist.sh "$MNIST_DIR"
fi
export MNIST_DIR
echo "demo.sh: MNIST from $MNIST_DIR" >&2

build=build/demo
generator=()
if command -v ninja >/dev/null 2>&1 && ! [[ -f $build/CMakeCache.txt ]]; then
  generator=(-G Ninja)
fi
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# The configure output stays visible: it says why an example would be skipped.
cmake -S . -B "$build" ${generator[@]+"${generator[@]}"} ${launcher[@]+"${launcher[@]}"} \
  -DCMAKE_BUILD_TYPE=Release -DLATENT_BUILD_TESTS=OFF -DLATENT_BUILD_BENCHMARKS=OFF \
  -DLATENT_CHECK_HEADERS=OFF -DLATENT_INSTALL=OFF
cmake --build "$build" --parallel "$(nproc 2>/dev/null || echo 2)" \
  --target latent_example_mnist_autoencoder latent_example_mnist_vae
built=$SECONDS

mkdir -p "$out"
echo "==== 32-dimensional autoencoder (784-512-32-512-784) ====" >&2
"$build/examples/mnist_autoencoder" --model plain --code 32 --hidden 512 --epochs 20 \
  --out "$out/autoencoder"
echo "==== variational autoencoder (784-400-20, Bernoulli decoder) ====" >&2
"$build/examples/mnist_vae" --code 20 --hidden 400 --epochs 10 --iw-samples 100 --out "$out/vae"

python3 - "$out" $((built - started)) $((SECONDS - built)) <<'PY'
import json, sys
out, build_seconds, run_seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ae = json.load(open(f"{out}/autoencoder/metrics.json"))
vae = json.load(open(f"{out}/vae/metrics.json"))
lower = 100 * (1 - ae["test_mse_per_pixel"] / ae["pca_test_mse_per_pixel"])
print()
print(f"{'MNIST test set (10,000 images)':44} {'result':>12} {'train s':>8}")
print(f"{'autoencoder, 32-d code: MSE per pixel':44} {ae['test_mse_per_pixel']:12.5f} {ae['seconds']:8.1f}")
print(f"{'PCA, 32 components: MSE per pixel':44} {ae['pca_test_mse_per_pixel']:12.5f} {ae['pca_seconds']:8.1f}")
print(f"{'  autoencoder below PCA':44} {lower:11.1f}%")
print(f"{'VAE, 20-d: negative ELBO (nats)':44} {vae['test_negative_elbo']:12.2f} {vae['seconds']:8.1f}")
print(f"{'VAE: importance-weighted NLL, k = %d (nats)' % vae['iw_samples']:44} {vae['test_iw_nll']:12.2f}")
print()
print(f"build {build_seconds} s, training and evaluation {run_seconds} s")
print(f"pictures: {out}/autoencoder/reconstructions.png {out}/autoencoder/filters.png")
print(f"          {out}/vae/samples.png {out}/vae/reconstructions.png")
print(f"metrics and models: {out}/autoencoder/ {out}/vae/")
PY
