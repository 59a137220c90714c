#!/usr/bin/env bash
# Installs, through apt-get, the Debian packages latent's build, tests, examples and benchmarks
# need. Idempotent and silent when everything is there; apt-get update runs only when something
# is missing. Needs root or sudo for that case.
#
#   scripts/deps.sh           what latent needs
#   scripts/deps.sh --peers   also PyTorch, scikit-learn and NumPy for Debian's /usr/bin/python3,
#                             the frameworks benchmarks/peers/compare.sh measures latent against
set -euo pipefail

peers=false
for arg in "$@"; do
  case $arg in
    --peers) peers=true ;;
    *) echo "usage: scripts/deps.sh [--peers]" >&2; exit 2 ;;
  esac
done

packages=(
  cmake g++ make pkg-config
  libeigen3-dev catch2 libbenchmark-dev
  zlib1g-dev libcli11-dev libstb-dev libopenblas-dev
  ccache python3
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer
)
if $peers; then
  packages+=(python3-torch python3-sklearn python3-numpy)
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps.sh: no dpkg-query (not Debian or Ubuntu?): install by hand: ${packages[*]}" >&2
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  if [[ $status != "install ok installed" ]]; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

as_root=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "deps.sh: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
  fi
  as_root=(sudo)
fi

echo "deps.sh: installing ${missing[*]}" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
