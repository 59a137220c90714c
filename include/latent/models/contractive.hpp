#ifndef LATENT_MODELS_CONTRACTIVE_HPP
#define LATENT_MODELS_CONTRACTIVE_HPP

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "latent/activations.hpp"
#include "latent/core/policy.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/describe.hpp"

namespace latent {

/// The contractive penalty (Rifai et al., 2011): lambda times the squared Frobenius norm of the
/// encoder's Jacobian dh/dx, averaged over the batch. For a one-layer encoder h = f(W x + b)
/// with f Sigmoid or Tanh the Jacobian is diag(f'(z)) W, so per sample
///   ||J||_F^2 = sum_j f'(z_j)^2 ||W_j||^2      (W_j the j-th row of W)
/// and its exact gradient has two parts: through the code, d/dh_j = 2 f'_j (df'/dh)_j ||W_j||^2
/// with f' = h (1 - h), df'/dh = 1 - 2h (Sigmoid) or f' = 1 - h^2, df'/dh = -2h (Tanh); and
/// directly, d/dW_j = 2 f'_j^2 W_j. Default lambda 0.1.
struct ContractivePenalty {
  static constexpr const char* name = "contractive";
  using kind = penalty_kind;
  double lambda = 0.1;

  ContractivePenalty() = default;
  explicit ContractivePenalty(double weight) : lambda(weight) { check(); }
  void check() const {
    if (!(lambda >= 0.0) || !std::isfinite(lambda))
      throw std::invalid_argument("latent::ContractivePenalty: 'lambda' must be non-negative, got " +
                                  std::to_string(lambda));
  }
  std::string describe() const {
    return "contractive(lambda=" + detail::number_text(lambda) + ")";
  }

  template <class S, class Encoder>
  S apply(const Encoder& encoder, const S* values, S* gradients, const ConstMatrixRef<S>&,
          const ConstMatrixRef<S>& H, MatrixMap<S> dH) const {
    static_assert(Encoder::depth == 1,
                  "latent::ContractivePenalty: the encoder must be a single Dense layer");
    using Act = typename Encoder::Last::Activation;
    static_assert(std::is_same_v<Act, Sigmoid> || std::is_same_v<Act, Tanh>,
                  "latent::ContractivePenalty: the encoder's activation must be Sigmoid or Tanh");
    const auto& layer = encoder.last();
    const ConstMatrixMap<S> W = layer.weight(values);  // code x inputs
    MatrixMap<S> dW(gradients + layer.offset(), W.rows(), W.cols());
    const S scale = static_cast<S>(lambda) / static_cast<S>(H.cols());
    S total(0);
    for (Index j = 0; j < H.rows(); ++j) {
      const S row_norm = W.row(j).squaredNorm();
      S slope_squares(0);  // sum over the batch of f'(z_j)^2
      for (Index k = 0; k < H.cols(); ++k) {
        const S h = H(j, k);
        S slope, curvature;  // f' and df'/dh
        if constexpr (std::is_same_v<Act, Sigmoid>) {
          slope = h * (S(1) - h);
          curvature = S(1) - S(2) * h;
        } else {
          slope = S(1) - h * h;
          curvature = S(-2) * h;
        }
        slope_squares += slope * slope;
        dH(j, k) += scale * S(2) * slope * curvature * row_norm;
      }
      total += slope_squares * row_norm;
      dW.row(j) += scale * S(2) * slope_squares * W.row(j);
    }
    return scale * total;
  }
};

}  // namespace latent

#endif  // LATENT_MODELS_CONTRACTIVE_HPP
