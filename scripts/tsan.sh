#!/usr/bin/env bash
# Builds the [threads] tests (tests/threads/: several threads share one const model's
# inference) under ThreadSanitizer in build/tsan and runs them. Exits non-zero on a failed test
# or on any TSan report. Only that one small executable is compiled (LATENT_SANITIZE=thread);
# OpenMP is off, as TSan cannot see libgomp's synchronisation and would report Eigen's own
# threaded products. Uses Ninja and ccache when installed, and CMAKE_BUILD_PARALLEL_LEVEL jobs
# (default: one per core).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh

started=$SECONDS
jobs=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}
build=build/tsan

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # As scripts/test.sh: paths inside the checkout are hashed as relative ones.
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
fi

# CMake refuses to switch the generator of an existing build tree.
if [[ -f $build/CMakeCache.txt ]] && grep -q '^CMAKE_GENERATOR:INTERNAL=' "$build/CMakeCache.txt"; then
  generator=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$build/CMakeCache.txt")
elif command -v ninja >/dev/null 2>&1; then
  generator=Ninja
else
  generator="Unix Makefiles"
fi

# The TSan runtimes of GCC 12 and Clang 14 cannot lay out their shadow memory when the kernel
# randomises mmap with more than 28 bits (newer kernels' default): run without ASLR there. The
# build runs a test listing too (POST_BUILD), so it goes through the same wrapper.
no_aslr=()
if (($(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0) > 28)); then
  no_aslr=(setarch "$(uname -m)" -R)
fi

# -O1 -g without NDEBUG: fast enough under TSan, with readable stacks and the asserts kept.
cmake -S . -B "$build" -G "$generator" "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DLATENT_SANITIZE=thread \
  -DLATENT_USE_OPENMP=OFF \
  -DLATENT_BUILD_TESTS=ON \
  -DLATENT_BUILD_EXAMPLES=OFF \
  -DLATENT_BUILD_BENCHMARKS=OFF \
  -DLATENT_CHECK_HEADERS=OFF \
  -DLATENT_INSTALL=OFF
"${no_aslr[@]}" cmake --build "$build" --target latent_tests --parallel "$jobs"

# halt_on_error: the first report ends the run with TSan's exit code (66).
TSAN_OPTIONS="halt_on_error=1 ${TSAN_OPTIONS:-}" \
  "${no_aslr[@]}" "$build/tests/latent_tests" "[threads]" --warn NoTests
echo "tsan.sh: the [threads] tests ran clean under ThreadSanitizer ($((SECONDS - started)) s)"
