#ifndef LATENT_CORE_DENORMALS_HPP
#define LATENT_CORE_DENORMALS_HPP

#include <cstdint>

#include <Eigen/Core>

#if defined(_OPENMP)
#include <omp.h>
#endif

#if defined(__SSE__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 1)
#include <xmmintrin.h>
#define LATENT_DENORMALS_SSE 1
#elif defined(__aarch64__)
#define LATENT_DENORMALS_AARCH64 1
#endif

namespace latent {

/// While alive, treats subnormal floating-point numbers as zero (flush-to-zero for results,
/// denormals-are-zero for operands) on the calling thread and on the OpenMP threads Eigen's
/// products run on; at the end, puts the calling thread's two flush bits back as they were
/// (rounding mode, exception masks and sticky exception flags are left alone) and clears them
/// on the OpenMP threads unless the caller had them set.
///
/// Why: x86 processors take a microcode assist, about a hundred cycles, for every subnormal
/// operand or result. Training produces them by the million (squared small gradients in Adam's
/// second moment, saturated sigmoids), and a step then runs several times slower: a VAE on
/// MNIST trained 2.5x faster with this on. Values below 1e-38 (float) are noise for learning.
/// fit() holds one by default (FitOptions::flush_denormals); hold one yourself around long
/// inference. On processors other than x86 and AArch64 it does nothing.
class FlushDenormals {
 public:
  FlushDenormals() : saved_(read()) {
    write(saved_ | flush_bits);
    for_openmp_threads([] { write(read() | flush_bits); });
  }
  ~FlushDenormals() {
    const std::uint64_t keep = saved_ & flush_bits;
    const auto restore = [keep] { write((read() & ~flush_bits) | keep); };
    restore();
    for_openmp_threads(restore);
  }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

  /// Whether this processor's mode can be set (x86 with SSE, AArch64).
  static constexpr bool supported() noexcept { return flush_bits != 0; }

 private:
#if defined(LATENT_DENORMALS_SSE)
  static constexpr std::uint64_t flush_bits = 0x8040;  // MXCSR: FTZ (bit 15) and DAZ (bit 6)
  static std::uint64_t read() noexcept { return _mm_getcsr(); }
  static void write(std::uint64_t mode) noexcept { _mm_setcsr(static_cast<unsigned>(mode)); }
#elif defined(LATENT_DENORMALS_AARCH64)
  static constexpr std::uint64_t flush_bits = std::uint64_t{1} << 24;  // FPCR.FZ
  static std::uint64_t read() noexcept {
    std::uint64_t mode;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(mode));
    return mode;
  }
  static void write(std::uint64_t mode) noexcept { __asm__ __volatile__("msr fpcr, %0" : : "r"(mode)); }
#else
  static constexpr std::uint64_t flush_bits = 0;
  static std::uint64_t read() noexcept { return 0; }
  static void write(std::uint64_t) noexcept {}
#endif

  // The floating-point mode is per thread. OpenMP runtimes keep a team's threads from one
  // parallel region to the next (GCC's libgomp does; LLVM's libomp even copies the mode to its
  // workers at each fork), so setting it once in each reaches the threads Eigen's products use.
  // Inside a parallel region Eigen's products run single-threaded: the caller's thread is all.
  template <class F>
  static void for_openmp_threads([[maybe_unused]] F set) {
#if defined(_OPENMP)
    if (supported() && !omp_in_parallel()) {
#pragma omp parallel num_threads(Eigen::nbThreads())
      set();
    }
#endif
  }

  std::uint64_t saved_;
};

}  // namespace latent

#endif  // LATENT_CORE_DENORMALS_HPP
