#!/usr/bin/env bash
# Builds and tests latent as CI does, in build trees under build/:
#   build/release  Release, tests + examples + benchmarks + header checks + consumer tests
#   build/tsan     ThreadSanitizer, the [threads] tests only (scripts/tsan.sh)
#   build/fuzz     the libFuzzer targets, each run LATENT_FUZZ_SECONDS (default 60) on its seed
#                  corpus (scripts/fuzz.sh)
#   build/asan     Debug with AddressSanitizer and UndefinedBehaviorSanitizer, unit tests only
# Stops at the first failure with a non-zero exit code. The last line printed is the summary of
# the last ctest run. Uses Ninja and ccache when installed; MNIST_DIR is passed on to the tests.
set -euo pipefail

# MNIST_DIR, if given relative to the caller's directory, must survive the cd below.
if [[ -n ${MNIST_DIR:-} ]]; then
  MNIST_DIR=$(realpath -m -- "$MNIST_DIR")
  export MNIST_DIR
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths inside the checkout are hashed as relative ones, so that two checkouts (a work tree
  # and a CI clone) share cache entries.
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
fi

# banner <title>: starts a phase, saying how long the previous one took.
started=$SECONDS
phase=""
phase_started=$SECONDS
banner() {
  local previous=""
  if [[ -n $phase ]]; then
    previous="; $phase took $((SECONDS - phase_started)) s"
  fi
  printf '\n==== %s (at %d s%s) ====\n' "$1" $((SECONDS - started)) "$previous"
  phase=$1
  phase_started=$SECONDS
}

# generator <build dir>: the one an existing build tree was made with (CMake refuses to switch),
# else Ninja if installed, else Unix Makefiles.
generator() {
  local cache=$1/CMakeCache.txt
  if [[ -f $cache ]] && grep -q '^CMAKE_GENERATOR:INTERNAL=' "$cache"; then
    sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache"
  elif command -v ninja >/dev/null 2>&1; then
    echo Ninja
  else
    echo "Unix Makefiles"
  fi
}

# configure <build dir> <cmake args...>
configure() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G "$(generator "$dir")" "${launcher[@]}" "$@"
}

# run_ctest <build dir> [VAR=value...]: ctest with the environment given, its summary line
# ("N% tests passed, ...") moved to the very end, after "Total Test time" and the list of
# failures.
run_ctest() {
  local dir=$1
  shift
  (cd "$dir" && env "$@" ctest --output-on-failure -j "$jobs" 2>&1) | awk '
    /tests passed, [0-9]+ tests? failed out of/ { summary = $0; next }
    summary != "" { if (NF) tail[++n] = $0; next }
    { print; fflush() }
    END { for (i = 1; i <= n; i++) print tail[i]; if (summary != "") print summary }'
}

if [[ -n ${MNIST_DIR:-} ]]; then
  echo "MNIST_DIR=$MNIST_DIR"
fi

banner "release: configure"
configure build/release \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DLATENT_BUILD_TESTS=ON \
  -DLATENT_BUILD_EXAMPLES=ON \
  -DLATENT_BUILD_BENCHMARKS=ON \
  -DLATENT_CHECK_HEADERS=ON \
  -DLATENT_SANITIZE=OFF
banner "release: build"
cmake --build build/release --parallel "$jobs"
banner "release: test"
run_ctest build/release

banner "tsan: const inference from several threads (scripts/tsan.sh)"
bash scripts/tsan.sh

banner "fuzz: ${LATENT_FUZZ_SECONDS:-60} s per target (scripts/fuzz.sh)"
bash scripts/fuzz.sh "${LATENT_FUZZ_SECONDS:-60}"

banner "asan: configure"
# -g1: line tables for the sanitizers' stack traces, without the full debug information that
# costs a sixth of the compile time and doubles the objects. Without BLAS: the release tree
# tests latent on OpenBLAS (when found), this one on Eigen's own products.
configure build/asan \
  -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG=-g1 \
  -DLATENT_USE_BLAS=OFF \
  -DLATENT_BUILD_TESTS=ON \
  -DLATENT_BUILD_EXAMPLES=OFF \
  -DLATENT_BUILD_BENCHMARKS=OFF \
  -DLATENT_CHECK_HEADERS=OFF \
  -DLATENT_SANITIZE=ON
banner "asan: build"
cmake --build build/asan --parallel "$jobs"
banner "asan: test"
run_ctest build/asan \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
