#ifndef LATENT_OPTIM_SCHEDULES_HPP
#define LATENT_OPTIM_SCHEDULES_HPP

#include <cmath>
#include <stdexcept>
#include <string>

#include "latent/core/types.hpp"
#include "latent/detail/optimizer_support.hpp"

namespace latent {

/// Learning-rate schedules: `rate(base, epoch)` gives the rate of epoch 0, 1, ... from the
/// optimizer's rate at the start of fit. Pass one to fit with the callbacks; fit sets the
/// optimizer's rate before each epoch and records it in the history.

/// The base rate throughout.
struct ConstantRate {
  double rate(double base, Index) const { return base; }
};

/// base * gamma^floor(epoch / step_size): multiply by gamma every step_size epochs.
struct StepDecay {
  Index step_size = 10;
  double gamma = 0.1;

  StepDecay() = default;
  StepDecay(Index every, double factor) : step_size(every), gamma(factor) { check(); }
  void check() const {
    if (step_size <= 0)
      throw std::invalid_argument("latent::StepDecay: 'step_size' must be positive, got " +
                                  std::to_string(step_size));
    if (!(gamma > 0.0 && gamma <= 1.0))
      throw std::invalid_argument("latent::StepDecay: 'gamma' must be in (0, 1], got " +
                                  std::to_string(gamma));
  }
  double rate(double base, Index epoch) const {
    return base * std::pow(gamma, static_cast<double>(epoch / step_size));
  }
};

/// Cosine annealing (Loshchilov and Hutter, 2017) from base down to minimum over `period`
/// epochs, then held at minimum: minimum + (base - minimum) (1 + cos(pi epoch / period)) / 2.
/// The minimum must be positive (optimizers refuse a rate of 0); default 1e-6.
struct CosineAnnealing {
  Index period = 100;
  double minimum = 1e-6;

  CosineAnnealing() = default;
  CosineAnnealing(Index epochs, double floor_rate) : period(epochs), minimum(floor_rate) { check(); }
  void check() const {
    if (period <= 0)
      throw std::invalid_argument("latent::CosineAnnealing: 'period' must be positive, got " +
                                  std::to_string(period));
    detail::check_positive(minimum, "minimum", "latent::CosineAnnealing");
  }
  double rate(double base, Index epoch) const {
    if (epoch >= period) return minimum;
    const double progress = static_cast<double>(epoch) / static_cast<double>(period);
    return minimum + (base - minimum) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));
  }
};

}  // namespace latent

#endif  // LATENT_OPTIM_SCHEDULES_HPP
