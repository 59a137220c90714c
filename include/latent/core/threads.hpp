#ifndef LATENT_CORE_THREADS_HPP
#define LATENT_CORE_THREADS_HPP

#include <stdexcept>
#include <string>

#include <Eigen/Core>

namespace latent {

/// Sets how many threads latent's matrix products use (Eigen's, through OpenMP when latent
/// was built with it; without OpenMP everything runs on one thread). Element-wise passes and
/// optimizer updates run on the calling thread.
inline void set_threads(int threads) {
  if (threads <= 0)
    throw std::invalid_argument("latent::set_threads: 'threads' must be positive, got " +
                                std::to_string(threads));
  Eigen::setNbThreads(threads);
}

/// The number of threads products use now.
inline int threads() { return Eigen::nbThreads(); }

}  // namespace latent

#endif  // LATENT_CORE_THREADS_HPP
