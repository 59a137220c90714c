#ifndef LATENT_MODELS_CORRUPTION_HPP
#define LATENT_MODELS_CORRUPTION_HPP

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "latent/core/policy.hpp"
#include "latent/core/random.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/describe.hpp"

namespace latent {

/// Corruption policies turn an autoencoder into a denoising one (Vincent et al., 2008): the
/// input is corrupted during training only, and the loss compares the reconstruction with the
/// clean input. Inference (encode, reconstruct, loss) never corrupts.
///
/// Contract: `apply(X, out, rng)` writes a corrupted copy of X into out (same shape), drawing
/// from rng only; `name`; `describe()`, the name and the options exactly (model files compare
/// it); a policy with options has `check()`, throwing std::invalid_argument for a bad one (its
/// constructor and the model call it). Each element is corrupted independently.

/// No corruption: a plain autoencoder.
struct NoCorruption {
  static constexpr const char* name = "none";
  using kind = corruption_kind;
};

namespace detail {

/// Draws independent U[0, 1) values two at a time, 32 bits each, for per-element decisions.
template <class Engine>
class UniformPairs {
 public:
  explicit UniformPairs(Engine& rng) : rng_(rng) {}
  double next() {
    if (!have_low_) {
      bits_ = rng_();
      have_low_ = true;
      return static_cast<double>(bits_ >> 32) * 0x1.0p-32;
    }
    have_low_ = false;
    return static_cast<double>(bits_ & 0xffffffffu) * 0x1.0p-32;
  }

 private:
  Engine& rng_;
  std::uint64_t bits_ = 0;
  bool have_low_ = false;
};

inline void check_fraction(double fraction, const char* who) {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw std::invalid_argument(std::string(who) + ": 'fraction' must be in [0, 1], got " +
                                std::to_string(fraction));
}

}  // namespace detail

/// x + sigma * N(0, 1) on every element. Default sigma 0.1.
struct GaussianNoise {
  static constexpr const char* name = "gaussian";
  using kind = corruption_kind;
  double sigma = 0.1;

  GaussianNoise() = default;
  explicit GaussianNoise(double stddev) : sigma(stddev) { check(); }
  void check() const {
    if (!(sigma >= 0.0) || !std::isfinite(sigma))
      throw std::invalid_argument("latent::GaussianNoise: 'sigma' must be non-negative, got " +
                                  std::to_string(sigma));
  }
  std::string describe() const { return "gaussian(sigma=" + detail::number_text(sigma) + ")"; }

  template <class S, class Engine>
  void apply(const ConstMatrixRef<S>& X, MatrixMap<S> out, Engine& rng) const {
    fill_normal(out, 0.0, sigma, rng);
    out += X;
  }
};

/// Masking noise: each element is set to zero with probability `fraction`. Default 0.25.
struct MaskingNoise {
  static constexpr const char* name = "masking";
  using kind = corruption_kind;
  double fraction = 0.25;

  MaskingNoise() = default;
  explicit MaskingNoise(double probability) : fraction(probability) { check(); }
  void check() const { detail::check_fraction(fraction, "latent::MaskingNoise"); }
  std::string describe() const {
    return "masking(fraction=" + detail::number_text(fraction) + ")";
  }

  template <class S, class Engine>
  void apply(const ConstMatrixRef<S>& X, MatrixMap<S> out, Engine& rng) const {
    detail::UniformPairs<Engine> uniform(rng);
    for (Index j = 0; j < X.cols(); ++j)
      for (Index i = 0; i < X.rows(); ++i) out(i, j) = uniform.next() < fraction ? S(0) : X(i, j);
  }
};

/// Salt-and-pepper noise: each element, with probability `fraction`, is set to `low` or `high`
/// with equal chance. Defaults: fraction 0.1, low 0, high 1 (pixels in [0, 1]).
struct SaltAndPepper {
  static constexpr const char* name = "salt_and_pepper";
  using kind = corruption_kind;
  double fraction = 0.1;
  double low = 0.0;
  double high = 1.0;

  SaltAndPepper() = default;
  explicit SaltAndPepper(double probability, double minimum = 0.0, double maximum = 1.0)
      : fraction(probability), low(minimum), high(maximum) {
    check();
  }
  void check() const {
    detail::check_fraction(fraction, "latent::SaltAndPepper");
    if (!(low < high))
      throw std::invalid_argument("latent::SaltAndPepper: 'low' must be below 'high'");
  }
  std::string describe() const {
    return "salt_and_pepper(fraction=" + detail::number_text(fraction) +
           ", low=" + detail::number_text(low) + ", high=" + detail::number_text(high) + ")";
  }

  template <class S, class Engine>
  void apply(const ConstMatrixRef<S>& X, MatrixMap<S> out, Engine& rng) const {
    detail::UniformPairs<Engine> uniform(rng);
    const double half = 0.5 * fraction;
    for (Index j = 0; j < X.cols(); ++j)
      for (Index i = 0; i < X.rows(); ++i) {
        const double u = uniform.next();
        out(i, j) = u < half ? static_cast<S>(low) : u < fraction ? static_cast<S>(high) : X(i, j);
      }
  }
};

}  // namespace latent

#endif  // LATENT_MODELS_CORRUPTION_HPP
