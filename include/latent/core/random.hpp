#ifndef LATENT_CORE_RANDOM_HPP
#define LATENT_CORE_RANDOM_HPP

#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <type_traits>
#include <utility>

#include "latent/core/types.hpp"

namespace latent {

/// The default random engine. Every function that draws takes the engine by reference from the
/// caller: nothing in latent seeds itself, so one seed fixes a whole run.
using Rng = std::mt19937_64;

namespace detail {

// The standard distributions are implementation-defined, so the same seed would give other
// numbers under another standard library. These transforms are ours and give the same numbers
// everywhere; they need an engine with 64 random bits per call, as std::mt19937_64 has.
template <class Engine>
constexpr void check_engine() {
  static_assert(Engine::min() == 0 && Engine::max() == std::numeric_limits<std::uint64_t>::max(),
                "latent: the random engine must return 64 random bits per call "
                "(like std::mt19937_64); see core/random.hpp");
}

/// Uniform in [0, 1), from the top 53 bits of one draw.
template <class Engine>
double uniform01(Engine& rng) {
  check_engine<Engine>();
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

/// Uniform integer in [0, bound), bound > 0, without modulo bias (rejects the top remainder).
template <class Engine>
std::uint64_t uniform_below(Engine& rng, std::uint64_t bound) {
  check_engine<Engine>();
  assert(bound > 0);
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              std::numeric_limits<std::uint64_t>::max() % bound;
  std::uint64_t draw = rng();
  while (draw >= limit) draw = rng();
  return draw % bound;
}

/// A pair of independent standard normals (Box-Muller).
template <class Engine>
std::pair<double, double> normal_pair(Engine& rng) {
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform01(rng)));  // 1 - u is in (0, 1]
  const double angle = 2.0 * 3.14159265358979323846 * uniform01(rng);
  return {radius * std::cos(angle), radius * std::sin(angle)};
}

/// Fisher-Yates over any random-access range of indices.
template <class Indices, class Engine>
void shuffle(Indices& indices, Engine& rng) {
  for (auto i = static_cast<std::uint64_t>(indices.size()); i > 1; --i) {
    const auto j = uniform_below(rng, i);
    std::swap(indices[i - 1], indices[j]);
  }
}

}  // namespace detail

/// Fills `values` with independent draws from U(low, high).
template <class Derived, class Engine>
void fill_uniform(Eigen::DenseBase<Derived>& values, double low, double high, Engine& rng) {
  using S = typename Derived::Scalar;
  for (Index j = 0; j < values.cols(); ++j)
    for (Index i = 0; i < values.rows(); ++i)
      values(i, j) = static_cast<S>(low + (high - low) * detail::uniform01(rng));
}

/// Fills `values` with independent draws from N(mean, stddev^2), in column-major order.
template <class Derived, class Engine>
void fill_normal(Eigen::DenseBase<Derived>& values, double mean, double stddev, Engine& rng) {
  using S = typename Derived::Scalar;
  double spare = 0.0;
  bool have_spare = false;
  for (Index j = 0; j < values.cols(); ++j) {
    for (Index i = 0; i < values.rows(); ++i) {
      double z = spare;
      if (!have_spare) std::tie(z, spare) = detail::normal_pair(rng);
      have_spare = !have_spare;
      values(i, j) = static_cast<S>(mean + stddev * z);
    }
  }
}

}  // namespace latent

#endif  // LATENT_CORE_RANDOM_HPP
