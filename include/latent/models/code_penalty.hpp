#ifndef LATENT_MODELS_CODE_PENALTY_HPP
#define LATENT_MODELS_CODE_PENALTY_HPP

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "latent/activations.hpp"
#include "latent/core/policy.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/describe.hpp"

namespace latent {

/// Code penalties are terms of the training objective that depend on the code h = encoder(x)
/// (and possibly directly on the encoder's parameters); they make sparse and contractive
/// autoencoders.
///
/// Contract: `apply(encoder, values, gradients, X, H, dH)` returns the penalty's value on the
/// batch (X the encoder's input, H its output, n columns), adds dPenalty/dH into dH (which then
/// flows back through the encoder) and any direct dPenalty/dparameters into `gradients`; `name`;
/// `describe()`, the name and the options exactly (model files compare it); a penalty with
/// options has `check()`, throwing std::invalid_argument for a bad one (its constructor and the
/// model call it).
/// Like the losses, penalties are means over the batch of per-sample sums unless stated.

/// No penalty.
struct NoPenalty {
  static constexpr const char* name = "none";
  using kind = penalty_kind;
};

/// L1 sparsity: lambda (1/n) sum_j |h_j|, subgradient lambda sign(h) / n. Default lambda 1e-3.
struct L1Penalty {
  static constexpr const char* name = "l1";
  using kind = penalty_kind;
  double lambda = 1e-3;

  L1Penalty() = default;
  explicit L1Penalty(double weight) : lambda(weight) { check(); }
  void check() const {
    if (!(lambda >= 0.0) || !std::isfinite(lambda))
      throw std::invalid_argument("latent::L1Penalty: 'lambda' must be non-negative, got " +
                                  std::to_string(lambda));
  }
  std::string describe() const { return "l1(lambda=" + detail::number_text(lambda) + ")"; }

  template <class S, class Encoder>
  S apply(const Encoder&, const S*, S*, const ConstMatrixRef<S>&, const ConstMatrixRef<S>& H,
          MatrixMap<S> dH) const {
    const S scale = static_cast<S>(lambda) / static_cast<S>(H.cols());
    dH.array() += scale * H.array().sign();
    return scale * H.array().abs().sum();
  }
};

/// KL sparsity (Ng, "Sparse autoencoder", CS294A notes): with rho-hat_j the mean activation of
/// code unit j over the batch,
///   beta sum_j [rho log(rho / rho-hat_j) + (1 - rho) log((1 - rho) / (1 - rho-hat_j))],
/// computed on the batch's statistics (not a mean of per-sample terms). Its gradient for each
/// sample is (beta / n) (-rho / rho-hat_j + (1 - rho) / (1 - rho-hat_j)). Codes must be in
/// (0, 1): the encoder ends in a Sigmoid. Defaults rho 0.05, beta 1.
struct KLSparsity {
  static constexpr const char* name = "kl";
  using kind = penalty_kind;
  double rho = 0.05;
  double beta = 1.0;

  KLSparsity() = default;
  KLSparsity(double target, double weight) : rho(target), beta(weight) { check(); }
  void check() const {
    if (!(rho > 0.0 && rho < 1.0))
      throw std::invalid_argument("latent::KLSparsity: 'rho' must be in (0, 1), got " +
                                  std::to_string(rho));
    if (!(beta >= 0.0) || !std::isfinite(beta))
      throw std::invalid_argument("latent::KLSparsity: 'beta' must be non-negative, got " +
                                  std::to_string(beta));
  }
  std::string describe() const {
    return "kl(rho=" + detail::number_text(rho) + ", beta=" + detail::number_text(beta) + ")";
  }

  template <class S, class Encoder>
  S apply(const Encoder&, const S*, S*, const ConstMatrixRef<S>&, const ConstMatrixRef<S>& H,
          MatrixMap<S> dH) const {
    static_assert(std::is_same_v<typename Encoder::Last::Activation, Sigmoid>,
                  "latent::KLSparsity: the encoder must end in a Sigmoid layer (codes in (0, 1))");
    const double n = static_cast<double>(H.cols());
    double total = 0.0;
    for (Index j = 0; j < H.rows(); ++j) {
      // Clamped so that a dead or saturated unit gives a large, finite penalty.
      const double mean = std::clamp(static_cast<double>(H.row(j).sum()) / n, 1e-7, 1.0 - 1e-7);
      total += rho * std::log(rho / mean) + (1.0 - rho) * std::log((1.0 - rho) / (1.0 - mean));
      dH.row(j).array() += static_cast<S>(beta / n * (-rho / mean + (1.0 - rho) / (1.0 - mean)));
    }
    return static_cast<S>(beta * total);
  }
};

}  // namespace latent

#endif  // LATENT_MODELS_CODE_PENALTY_HPP
