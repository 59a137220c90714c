#ifndef LATENT_DETAIL_OPTIMIZER_SUPPORT_HPP
#define LATENT_DETAIL_OPTIMIZER_SUPPORT_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "latent/core/types.hpp"

namespace latent::detail {

/// Runs f(start, length) over [0, n) in blocks small enough that an update touching four
/// buffers (parameters, gradients and two moments) keeps them all in L1: each buffer is then
/// streamed from memory once per step although the update is written as several expressions.
template <class F>
void for_each_block(Index n, F&& f) {
  constexpr Index block = 1024;
  for (Index start = 0; start < n; start += block) f(start, std::min(block, n - start));
}

inline void check_learning_rate(double rate, const char* who) {
  if (!(rate > 0.0) || !std::isfinite(rate))
    throw std::invalid_argument(std::string(who) + ": 'learning_rate' must be positive and finite, got " +
                                std::to_string(rate));
}

inline void check_in_unit_interval(double value, const char* option, const char* who) {
  if (!(value >= 0.0 && value < 1.0))
    throw std::invalid_argument(std::string(who) + ": '" + option + "' must be in [0, 1), got " +
                                std::to_string(value));
}

inline void check_positive(double value, const char* option, const char* who) {
  if (!(value > 0.0) || !std::isfinite(value))
    throw std::invalid_argument(std::string(who) + ": '" + option + "' must be positive, got " +
                                std::to_string(value));
}

inline void check_non_negative(double value, const char* option, const char* who) {
  if (!(value >= 0.0) || !std::isfinite(value))
    throw std::invalid_argument(std::string(who) + ": '" + option + "' must be non-negative, got " +
                                std::to_string(value));
}

inline void check_step(Index parameters, Index gradients, const char* who) {
  if (parameters != gradients)
    throw std::invalid_argument(std::string(who) + "::step: " + std::to_string(parameters) +
                                " parameters but " + std::to_string(gradients) + " gradients");
}

/// Sizes `state` for `n` parameters on the first step; an optimizer's state belongs to one
/// model, so a step on a buffer of another size is a caller mistake.
template <class S>
bool prepare_state(Vector<S>& state, Index n, const char* who) {
  if (state.size() == n) return false;
  if (state.size() != 0)
    throw std::invalid_argument(std::string(who) + "::step: state was made for " +
                                std::to_string(state.size()) + " parameters, got " +
                                std::to_string(n) + "; call reset() to reuse the optimizer");
  state.setZero(n);
  return true;
}

}  // namespace latent::detail

#endif  // LATENT_DETAIL_OPTIMIZER_SUPPORT_HPP
