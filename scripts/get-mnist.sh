#!/usr/bin/env bash
# Downloads MNIST's four original files into DIR (default: $MNIST_DIR, else data/mnist) and
# checks their SHA-256 sums; files already there with the right sum are kept. Exits non-zero,
# leaving no partial file, when a download fails or a sum does not match.
#
#   scripts/get-mnist.sh [DIR]
set -euo pipefail

dir=$(realpath -m -- "${1:-${MNIST_DIR:-data/mnist}}")
if ! command -v sha256sum >/dev/null 2>&1; then
  echo "get-mnist.sh: needs sha256sum (GNU coreutils) to check the files" >&2
  exit 1
fi
mirrors=(
  https://ossci-datasets.s3.amazonaws.com/mnist
  https://storage.googleapis.com/cvdf-datasets/mnist
  http://yann.lecun.com/exdb/mnist
)
sums='440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609  train-images-idx3-ubyte.gz
3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c  train-labels-idx1-ubyte.gz
8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6  t10k-images-idx3-ubyte.gz
f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6  t10k-labels-idx1-ubyte.gz'

fetch() {  # url destination
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    echo "get-mnist.sh: needs curl or wget" >&2
    return 1
  fi
}

mkdir -p "$dir"
while read -r sum name; do
  target="$dir/$name"
  if [[ -f $target ]] && echo "$sum  $target" | sha256sum --check --status; then
    continue
  fi
  partial="$target.partial"
  trap 'rm -f "$partial"' EXIT
  ok=0
  for mirror in "${mirrors[@]}"; do
    echo "get-mnist.sh: $mirror/$name" >&2
    if fetch "$mirror/$name" "$partial" && echo "$sum  $partial" | sha256sum --check --status; then
      mv "$partial" "$target"
      ok=1
      break
    fi
    echo "get-mnist.sh: download failed or checksum mismatch" >&2
  done
  rm -f "$partial"
  if ((ok == 0)); then
    echo "get-mnist.sh: could not get $name from any mirror" >&2
    exit 1
  fi
done <<<"$sums"
printf '%s\n' "$sums" >"$dir/SHA256SUMS"
echo "get-mnist.sh: MNIST is in $dir (checksums verified); export MNIST_DIR=$dir" >&2
