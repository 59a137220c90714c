#ifndef LATENT_CORE_THREADS_HPP
#define LATENT_CORE_THREADS_HPP

#include <stdexcept>
#include <string>

#include <Eigen/Core>

// Eigen's products under EIGEN_USE_BLAS run inside latent's own threads, so the BLAS must run
// them on one thread: latent sets OpenBLAS's count itself, and cannot know another BLAS's.
// Left unsaid, two threads ran a training step 3 to 8 times slower than one (docs/threads.md).
#if defined(EIGEN_USE_BLAS) && !defined(LATENT_HAVE_OPENBLAS)
#error "EIGEN_USE_BLAS without LATENT_HAVE_OPENBLAS: define LATENT_HAVE_OPENBLAS=1 when the BLAS is OpenBLAS (CMake's LATENT_USE_BLAS does), or LATENT_HAVE_OPENBLAS=0 for another BLAS and set its thread count to 1 (docs/threads.md)"
#endif

// Any value but 1 or 0 (ON, or an empty definition) would read as 0 below, and with OpenBLAS
// the same slowdown would follow in silence.
#define LATENT_DETAIL_OPENBLAS_IS_0 1
#define LATENT_DETAIL_OPENBLAS_IS_1 1
#define LATENT_DETAIL_PASTE(a, b) a##b
#define LATENT_DETAIL_EXPAND_PASTE(a, b) LATENT_DETAIL_PASTE(a, b)
#if defined(LATENT_HAVE_OPENBLAS) && \
    !LATENT_DETAIL_EXPAND_PASTE(LATENT_DETAIL_OPENBLAS_IS_, LATENT_HAVE_OPENBLAS)
#error "LATENT_HAVE_OPENBLAS must be 1 (the BLAS is OpenBLAS) or 0 (another BLAS, or none)"
#endif
#undef LATENT_DETAIL_EXPAND_PASTE
#undef LATENT_DETAIL_PASTE
#undef LATENT_DETAIL_OPENBLAS_IS_1
#undef LATENT_DETAIL_OPENBLAS_IS_0

#if LATENT_HAVE_OPENBLAS
// OpenBLAS's thread setting, declared as its cblas.h does (whose directory we need not know).
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}
#endif

namespace latent {

/// The one thread setting of latent: how many threads a training step, an optimizer update and
/// a matrix product may use.
///
/// What runs threaded:
/// - a layer's own products (Dense, TiedDense, the convolutions): latent cuts each into one
///   panel per thread and runs the panels on its OpenMP team, each a single-threaded product
///   (Eigen's kernel, or OpenBLAS's with BLAS, whose pool sits out meanwhile);
/// - the element-wise passes of a training step (bias broadcast, activations and their
///   derivatives, the mean squared error, the logistic cross-entropy, zeroing the gradients)
///   and the optimizers' updates (all but plain SGD's, one Eigen expression), split into ranges
///   on the same team;
/// - other products (inference's, PCA's): without BLAS Eigen's, on OpenMP threads; with BLAS
///   (CMake option LATENT_USE_BLAS, which defines EIGEN_USE_BLAS and LATENT_HAVE_OPENBLAS)
///   OpenBLAS's, on its own pool. This call sets OpenBLAS's count and Eigen's together.
/// Passes too small to pay for a second thread stay on the calling thread, and so does
/// everything without OpenMP. On Eigen's products a split changes no result: a training step
/// gives the same parameters to the last bit on any number of threads. OpenBLAS's kernels
/// depend on a product's shape, so with BLAS a panel may round differently from the whole
/// product: results differ in the last bits from one thread count to another, never from one
/// run to the next. FlushDenormals does not reach OpenBLAS's workers.
///
/// Until this is called each library takes its default: OMP_NUM_THREADS when set (OpenBLAS
/// reads OPENBLAS_NUM_THREADS first), else the machine's cores. Not thread-safe: call it before
/// starting threads of your own, never while a product runs (docs/threads.md).
///
/// In: threads > 0, else std::invalid_argument.
inline void set_threads(int threads) {
  if (threads <= 0)
    throw std::invalid_argument("latent::set_threads: 'threads' must be positive, got " +
                                std::to_string(threads));
  Eigen::setNbThreads(threads);
#if LATENT_HAVE_OPENBLAS
  openblas_set_num_threads(threads);
#endif
}

/// The number of threads a product may use now: OpenBLAS's count with BLAS, Eigen's without
/// (1 without OpenMP).
inline int threads() {
#if LATENT_HAVE_OPENBLAS
  return openblas_get_num_threads();
#else
  return Eigen::nbThreads();
#endif
}

}  // namespace latent

#endif  // LATENT_CORE_THREADS_HPP
