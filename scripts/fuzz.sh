#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [seconds per target]   (default 60)
#
# Builds the libFuzzer targets of tests/fuzz/ with clang, ASan and UBSan in build/fuzz, then
# runs each for that many seconds on a copy of its seed corpus in tests/corpus/ (the committed
# corpus is never written to). Prints the executions per target; exits non-zero if a target
# found anything: a crash, a sanitizer report, a leak, an input taking over 10 s, or an
# allocation over the limits. Inputs that found something are kept in
# build/fuzz/run/<target>/findings/; once fixed, copy them into tests/corpus/<target>/.
# Installs what is missing through scripts/deps.sh (clang and its libFuzzer runtime among it).
# CMAKE_BUILD_PARALLEL_LEVEL sets the build's jobs (default: all cores).
#
# Regenerating the seeds: build/fuzz/tests/fuzz/latent_fuzz_<target> -seed_corpus=DIR.
set -euo pipefail

seconds=${1:-60}
if [[ ! $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [seconds per target, a positive integer]" >&2
  exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/deps.sh

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
fi

build=build/fuzz
cmake -S . -B "$build" "${launcher[@]}" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DLATENT_FUZZ=ON -DLATENT_BUILD_TESTS=OFF -DLATENT_BUILD_EXAMPLES=OFF -DLATENT_BUILD_BENCHMARKS=OFF \
  -DLATENT_CHECK_HEADERS=OFF -DLATENT_INSTALL=OFF -DLATENT_USE_OPENMP=OFF -DLATENT_USE_BLAS=OFF \
  >/dev/null
cmake --build "$build" --target latent_fuzz_idx latent_fuzz_model_file \
  -j "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"

# Limits. -max_len: inputs up to 64 KiB. -malloc_limit_mb: such an input, if gzip, may inflate
# to 66 MiB (deflate's 1032:1 at most) and the IDX reader doubles its buffer as data arrives,
# so no single block over 160 MiB is legitimate; each target also checks a bound of its own
# per input, from what that input holds (tests/fuzz/fuzz_support.hpp). -rss_limit_mb: the
# whole process, ASan's quarantine of freed blocks included. -timeout: one input over 10 s is
# a hang.
limits=(-max_len=65536 -malloc_limit_mb=160 -rss_limit_mb=512 -timeout=10)

run="$build/run"
rm -rf "$run"
found=()
for target in idx model_file; do
  dir="$run/$target"
  mkdir -p "$dir/corpus" "$dir/findings" "$dir/tmp"
  cp tests/corpus/"$target"/* "$dir/corpus/"
  status=0
  TMPDIR="$root/$dir/tmp" "$build/tests/fuzz/latent_fuzz_$target" "${limits[@]}" \
    -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$dir/findings/" \
    "$dir/corpus" >"$dir/log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
  printf 'fuzz.sh: %-11s %10s executions in %s s\n' "$target" "${executions:-?}" "$seconds"
  if ((status != 0)); then
    found+=("$target")
    echo "fuzz.sh: $target found something (exit $status); its log, $dir/log, ends:" >&2
    tail -n 40 "$dir/log" >&2
    ls "$dir/findings" >&2
  fi
done
if ((${#found[@]} > 0)); then
  echo "fuzz.sh: findings in ${found[*]}" >&2
  exit 1
fi
echo "fuzz.sh: no findings"
