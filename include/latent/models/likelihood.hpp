#ifndef LATENT_MODELS_LIKELIHOOD_HPP
#define LATENT_MODELS_LIKELIHOOD_HPP

#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "latent/activations.hpp"
#include "latent/core/policy.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/describe.hpp"
#include "latent/losses.hpp"

namespace latent {

struct likelihood_kind {};

/// Decoder likelihoods p(x | z) of a VariationalAutoencoder. The decoder's output layer gives
/// the distribution's parameters; a likelihood knows how to read them.
///
/// Contract (S the scalar, Act the decoder's output activation, Z and A its pre-activation
/// and output for n latent points, X the n data columns):
/// - `output_size(d)`: the decoder's output size for d-dimensional data;
/// - `negative_log_likelihood(act, Z, A, X, scale, dZ)`: returns sum over columns of
///   -log p(x | z) and writes scale * d(that)/dZ into dZ (the output activation fused in);
/// - `log_likelihood(act, Z, A, X, out)`: log p(x_j | z_j) for each column into out (1 x n);
/// - `mean(A, d)`: the distribution's mean for each column (d x n), the reconstruction;
/// - `check_data(X)`: throws std::invalid_argument for data it cannot model;
/// - `name`, and `describe()` for a likelihood with options (model files compare it), and
///   `check()`, throwing std::invalid_argument for a bad one (its constructor and the model
///   call it).

/// Bernoulli pixels (binary or in [0, 1]): the decoder ends in a Sigmoid layer and its
/// pre-activation are the logits, so log p(x | z) = -sum [max(l, 0) - l x + log(1 + exp(-|l|))]
/// is exact where sigmoid(l) rounds to 0 or 1. Its gradient is (A - X).
struct Bernoulli {
  static constexpr const char* name = "Bernoulli";
  using kind = likelihood_kind;

  static Index output_size(Index d) { return d; }

  template <class S, class Act>
  static S negative_log_likelihood(const Act&, const ConstMatrixRef<S>& Z,
                                   const ConstMatrixRef<S>& A, const ConstMatrixRef<S>& X,
                                   S scale, MatrixMap<S> dZ) {
    require_sigmoid<Act>();
    dZ.noalias() = scale * (A - X);
    return detail::logistic_cross_entropy(Z.array(), X.array()).sum();
  }

  template <class S, class Act>
  static void log_likelihood(const Act&, const ConstMatrixRef<S>& Z, const ConstMatrixRef<S>&,
                             const ConstMatrixRef<S>& X, Eigen::Ref<Matrix<S>> out) {
    require_sigmoid<Act>();
    out = -detail::logistic_cross_entropy(Z.array(), X.array()).matrix().colwise().sum();
  }

  template <class S>
  static auto mean(const ConstMatrixRef<S>& A, Index d) {
    return A.topRows(d);
  }

  template <class S>
  static void check_data(const ConstMatrixRef<S>& X, std::string_view who) {
    if (!((X.array() >= S(0)).all() && (X.array() <= S(1)).all()))
      throw std::invalid_argument(std::string(who) + ": a Bernoulli decoder needs data in [0, 1]");
  }

 private:
  template <class Act>
  static constexpr void require_sigmoid() {
    static_assert(std::is_same_v<Act, Sigmoid>,
                  "latent::Bernoulli: the decoder must end in a Sigmoid layer (its "
                  "pre-activation are the logits)");
  }
};

/// Gaussian with a fixed variance sigma^2 around the decoder's output:
/// -log p(x | z) = sum [(x - a)^2 / (2 sigma^2) + log(2 pi sigma^2) / 2]. Default variance 1.
struct Gaussian {
  static constexpr const char* name = "Gaussian";
  using kind = likelihood_kind;
  double variance = 1.0;

  Gaussian() = default;
  explicit Gaussian(double sigma_squared) : variance(sigma_squared) { check(); }
  void check() const {
    if (!(variance > 0.0) || !std::isfinite(variance))
      throw std::invalid_argument("latent::Gaussian: 'variance' must be positive, got " +
                                  std::to_string(variance));
  }
  std::string describe() const {
    return "Gaussian(variance=" + detail::number_text(variance) + ")";
  }

  static Index output_size(Index d) { return d; }

  template <class S, class Act>
  S negative_log_likelihood(const Act& act, const ConstMatrixRef<S>& Z,
                            const ConstMatrixRef<S>& A, const ConstMatrixRef<S>& X, S scale,
                            MatrixMap<S> dZ) const {
    const S inverse = static_cast<S>(1.0 / variance);
    if constexpr (std::is_same_v<Act, Identity>)
      dZ.noalias() = (scale * inverse) * (A - X);
    else
      dZ.array() = (scale * inverse) * (A - X).array() * act.derivative(Z.array(), A.array());
    return S(0.5) * inverse * (A - X).squaredNorm() + static_cast<S>(A.size()) * constant<S>();
  }

  template <class S, class Act>
  void log_likelihood(const Act&, const ConstMatrixRef<S>&, const ConstMatrixRef<S>& A,
                      const ConstMatrixRef<S>& X, Eigen::Ref<Matrix<S>> out) const {
    out = -(S(0.5 / variance) * (A - X).colwise().squaredNorm().array() +
            static_cast<S>(A.rows()) * constant<S>())
               .matrix();
  }

  template <class S>
  static auto mean(const ConstMatrixRef<S>& A, Index d) {
    return A.topRows(d);
  }

  template <class S>
  static void check_data(const ConstMatrixRef<S>&, std::string_view) {}

 private:
  template <class S>
  S constant() const {  // log(2 pi sigma^2) / 2
    return static_cast<S>(0.5 * std::log(2.0 * 3.14159265358979323846 * variance));
  }
};

/// Gaussian whose variance the decoder learns per pixel: the decoder (ending in an Identity
/// layer) gives 2d outputs, the means and then the log-variances v, and
/// -log p(x | z) = sum [(x - mu)^2 exp(-v) / 2 + v / 2 + log(2 pi) / 2].
struct GaussianLearnedVariance {
  static constexpr const char* name = "GaussianLearnedVariance";
  using kind = likelihood_kind;

  static Index output_size(Index d) { return 2 * d; }

  template <class S, class Act>
  static S negative_log_likelihood(const Act&, const ConstMatrixRef<S>&,
                                   const ConstMatrixRef<S>& A, const ConstMatrixRef<S>& X,
                                   S scale, MatrixMap<S> dZ) {
    require_identity<Act>();
    const Index d = X.rows();
    const auto mu = A.topRows(d).array();
    const auto log_variance = A.bottomRows(d).array();
    // d/dmu = (mu - x) exp(-v);  d/dv = (1 - (x - mu)^2 exp(-v)) / 2
    dZ.topRows(d).array() = scale * (mu - X.array()) * (-log_variance).exp();
    dZ.bottomRows(d).array() =
        (scale * S(0.5)) * (S(1) - (X.array() - mu).square() * (-log_variance).exp());
    return S(0.5) * ((X.array() - mu).square() * (-log_variance).exp() + log_variance).sum() +
           static_cast<S>(X.size()) * half_log_two_pi<S>();
  }

  template <class S, class Act>
  static void log_likelihood(const Act&, const ConstMatrixRef<S>&, const ConstMatrixRef<S>& A,
                             const ConstMatrixRef<S>& X, Eigen::Ref<Matrix<S>> out) {
    require_identity<Act>();
    const Index d = X.rows();
    out = -(S(0.5) * ((X.array() - A.topRows(d).array()).square() *
                          (-A.bottomRows(d).array()).exp() +
                      A.bottomRows(d).array())
                         .matrix()
                         .colwise()
                         .sum()
                         .array() +
            static_cast<S>(d) * half_log_two_pi<S>())
               .matrix();
  }

  template <class S>
  static auto mean(const ConstMatrixRef<S>& A, Index d) {
    return A.topRows(d);
  }

  template <class S>
  static void check_data(const ConstMatrixRef<S>&, std::string_view) {}

 private:
  template <class Act>
  static constexpr void require_identity() {
    static_assert(std::is_same_v<Act, Identity>,
                  "latent::GaussianLearnedVariance: the decoder must end in an Identity layer "
                  "(means and log-variances)");
  }
  template <class S>
  static S half_log_two_pi() {
    return static_cast<S>(0.5 * std::log(2.0 * 3.14159265358979323846));
  }
};

}  // namespace latent

#endif  // LATENT_MODELS_LIKELIHOOD_HPP
