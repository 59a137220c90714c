#ifndef LATENT_CORE_THREADS_HPP
#define LATENT_CORE_THREADS_HPP

#include <stdexcept>
#include <string>

#include <Eigen/Core>

#if LATENT_HAVE_OPENBLAS
// OpenBLAS's thread setting, declared as its cblas.h does (whose directory we need not know).
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}
#endif

namespace latent {

/// The one thread setting of latent: how many threads a matrix product may use.
///
/// What runs threaded:
/// - without BLAS: Eigen's products (GEMM), on OpenMP threads when latent was built with OpenMP;
///   without OpenMP everything runs on the calling thread;
/// - with BLAS (CMake option LATENT_USE_BLAS, which defines EIGEN_USE_BLAS and
///   LATENT_HAVE_OPENBLAS): Eigen hands its float and double products to OpenBLAS and starts
///   no threads for them; OpenBLAS splits the larger ones over its own pool. This call sets
///   OpenBLAS's count and Eigen's (which latent's own code still reads) together: a product
///   uses at most `threads` threads, and no OpenMP team competes with OpenBLAS's pool.
///   FlushDenormals does not reach OpenBLAS's workers.
/// Either way the element-wise passes (bias, activations, loss), the optimizer's update and the
/// batch gather run on the calling thread.
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
