#ifndef LATENT_TESTS_SUPPORT_DATA_HPP
#define LATENT_TESTS_SUPPORT_DATA_HPP

#include <cstdint>

#include <latent/core/random.hpp>
#include <latent/core/types.hpp>

namespace latent::testing {

/// A rows x cols matrix of U(low, high) draws from a generator seeded with `seed`.
template <class S = double>
Matrix<S> uniform_matrix(Index rows, Index cols, std::uint64_t seed, double low = -1.0,
                         double high = 1.0) {
  Rng rng(seed);
  Matrix<S> m(rows, cols);
  fill_uniform(m, low, high, rng);
  return m;
}

/// n labels in [0, classes), seeded.
inline Labels random_labels(Index n, int classes, std::uint64_t seed) {
  Rng rng(seed);
  Labels labels(n);
  for (Index j = 0; j < n; ++j)
    labels(j) = static_cast<int>(detail::uniform_below(rng, static_cast<std::uint64_t>(classes)));
  return labels;
}

}  // namespace latent::testing

#endif  // LATENT_TESTS_SUPPORT_DATA_HPP
