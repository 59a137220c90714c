#ifndef LATENT_CORE_INIT_HPP
#define LATENT_CORE_INIT_HPP

#include <cmath>
#include <stdexcept>
#include <string>

#include "latent/core/random.hpp"
#include "latent/core/types.hpp"

namespace latent {

/// How a layer draws its initial weights (biases start at zero).
///
/// With fan_in inputs and fan_out outputs per unit:
/// - glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out))   (Glorot and Bengio, 2010)
/// - glorot_normal:  N(0, 2 / (fan_in + fan_out))
/// - he_uniform:     U(-l, l), l = sqrt(6 / fan_in)                (He et al., 2015)
/// - he_normal:      N(0, 2 / fan_in)
/// Glorot keeps the variance of activations and gradients for symmetric activations (sigmoid,
/// tanh, identity); He doubles it to make up for ReLU zeroing half of its inputs.
enum class Init { glorot_uniform, glorot_normal, he_uniform, he_normal };

inline const char* to_string(Init init) {
  switch (init) {
    case Init::glorot_uniform: return "glorot_uniform";
    case Init::glorot_normal: return "glorot_normal";
    case Init::he_uniform: return "he_uniform";
    case Init::he_normal: return "he_normal";
  }
  return "unknown";
}

/// Draws `weights` by `init` for a layer with the given fans. Same engine state, same numbers.
/// In/Out: weights, drawn in column-major order.
template <class Derived, class Engine>
void initialize(Init init, Eigen::DenseBase<Derived>& weights, Index fan_in, Index fan_out,
                Engine& rng) {
  if (fan_in <= 0 || fan_out <= 0)
    throw std::invalid_argument("latent::initialize: fans must be positive, got fan_in = " +
                                std::to_string(fan_in) + ", fan_out = " + std::to_string(fan_out));
  const double in = static_cast<double>(fan_in);
  const double sum = static_cast<double>(fan_in + fan_out);
  switch (init) {
    case Init::glorot_uniform: {
      const double limit = std::sqrt(6.0 / sum);
      fill_uniform(weights, -limit, limit, rng);
      break;
    }
    case Init::glorot_normal: fill_normal(weights, 0.0, std::sqrt(2.0 / sum), rng); break;
    case Init::he_uniform: {
      const double limit = std::sqrt(6.0 / in);
      fill_uniform(weights, -limit, limit, rng);
      break;
    }
    case Init::he_normal: fill_normal(weights, 0.0, std::sqrt(2.0 / in), rng); break;
  }
}

}  // namespace latent

#endif  // LATENT_CORE_INIT_HPP
