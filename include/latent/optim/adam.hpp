#ifndef LATENT_OPTIM_ADAM_HPP
#define LATENT_OPTIM_ADAM_HPP

#include <cmath>
#include <cstdint>

#include "latent/core/types.hpp"
#include "latent/detail/optimizer_support.hpp"
#include "latent/optim/state.hpp"

namespace latent {

/// Options of Adam. Defaults are the paper's and PyTorch's. (For an L2 term in the loss use the
/// model's weight_decay option; for decay decoupled from the gradient, AdamW.)
struct AdamOptions {
  double learning_rate = 1e-3;  ///< alpha, > 0
  double beta1 = 0.9;           ///< decay of the first moment, in [0, 1)
  double beta2 = 0.999;         ///< decay of the second moment, in [0, 1)
  double epsilon = 1e-8;        ///< added to sqrt(v-hat), > 0

  void check(const char* who = "latent::Adam") const {
    detail::check_learning_rate(learning_rate, who);
    detail::check_in_unit_interval(beta1, "beta1", who);
    detail::check_in_unit_interval(beta2, "beta2", who);
    detail::check_positive(epsilon, "epsilon", who);
  }
};

/// Options of AdamW: Adam's, and the decoupled weight decay lambda (PyTorch's default 0.01).
struct AdamWOptions : AdamOptions {
  double weight_decay = 0.01;  ///< lambda >= 0

  void check() const {
    AdamOptions::check("latent::AdamW");
    detail::check_non_negative(weight_decay, "weight_decay", "latent::AdamW");
  }
};

/// Adam (Kingma and Ba, 2015), one vectorised pass over the flat buffers per step t = 1, 2, ...:
///   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
///   p <- p - lr m-hat / (sqrt(v-hat) + eps),  m-hat = m / (1 - b1^t),  v-hat = v / (1 - b2^t)
/// The bias corrections advance once per step over the whole model (not once per layer, the
/// mistake of per-block optimizer state).
template <class S>
class Adam {
 public:
  using Scalar = S;
  explicit Adam(AdamOptions options = {}) : Adam(options, "latent::Adam", 0.0) {}
  explicit Adam(double learning_rate) : Adam(AdamOptions{learning_rate}) {}

  double learning_rate() const noexcept { return options_.learning_rate; }
  void set_learning_rate(double rate) {
    detail::check_learning_rate(rate, who_);
    options_.learning_rate = rate;
  }
  const AdamOptions& options() const noexcept { return options_; }
  /// Steps taken since construction or reset().
  std::int64_t steps() const noexcept { return t_; }

  /// In/Out: parameters. In: gradients of the same length.
  void step(Eigen::Ref<Vector<S>> parameters, const Eigen::Ref<const Vector<S>>& gradients) {
    detail::check_step(parameters.size(), gradients.size(), who_);
    detail::prepare_state(m_, parameters.size(), who_);
    detail::prepare_state(v_, parameters.size(), who_);
    ++t_;
    const double t = static_cast<double>(t_);
    const S b1 = static_cast<S>(options_.beta1), b2 = static_cast<S>(options_.beta2);
    const double correction1 = 1.0 - std::pow(options_.beta1, t);
    const double correction2 = 1.0 - std::pow(options_.beta2, t);
    // lr m-hat / (sqrt(v-hat) + eps) = (lr / c1) m / (sqrt(v) / sqrt(c2) + eps)
    const S step_size = static_cast<S>(options_.learning_rate / correction1);
    const S inverse_root_c2 = static_cast<S>(1.0 / std::sqrt(correction2));
    const S eps = static_cast<S>(options_.epsilon);
    const bool decays = decoupled_decay_ != 0.0;
    const S keep = static_cast<S>(1.0 - options_.learning_rate * decoupled_decay_);
    const S* g = gradients.data();
    S *p = parameters.data(), *m = m_.data(), *v = v_.data();
    detail::for_each_lane<S>(parameters.size(), [=](Index i, auto lane) {
      using namespace detail::simd;
      using Lane = decltype(lane);
      const Lane gi = load<Lane>(g + i);
      const Lane mi = pmadd(broadcast<Lane>(b1), load<Lane>(m + i), pmul(broadcast<Lane>(S(1) - b1), gi));
      const Lane vi = pmadd(broadcast<Lane>(b2), load<Lane>(v + i),
                            pmul(broadcast<Lane>(S(1) - b2), pmul(gi, gi)));
      const Lane denominator = pmadd(psqrt(vi), broadcast<Lane>(inverse_root_c2), broadcast<Lane>(eps));
      store(m + i, mi);
      store(v + i, vi);
      Lane pi = load<Lane>(p + i);
      if (decays) pi = pmul(pi, broadcast<Lane>(keep));
      store(p + i, psub(pi, pdiv(pmul(broadcast<Lane>(step_size), mi), denominator)));
    });
  }

  /// The moments m and v and the step count t, to continue later with restore().
  OptimizerState<S> state() const { return {who_, t_, {m_, v_}}; }
  /// Continues from a state() of an optimizer of the same class (AdamW's is not Adam's);
  /// std::invalid_argument, and no change, for another.
  void restore(const OptimizerState<S>& state) {
    detail::check_state(state, who_, 2);
    m_ = state.buffers[0];
    v_ = state.buffers[1];
    t_ = state.steps;
  }

  /// Forgets the moments and the step count, as for a new model.
  void reset() {
    m_.resize(0);
    v_.resize(0);
    t_ = 0;
  }

 protected:
  Adam(AdamOptions options, const char* who, double decoupled_decay)
      : options_(options), who_(who), decoupled_decay_(decoupled_decay) {
    options_.check(who_);
  }

 private:
  AdamOptions options_;
  const char* who_;
  double decoupled_decay_;
  Vector<S> m_, v_;
  std::int64_t t_ = 0;
};

/// AdamW (Loshchilov and Hutter, 2019): Adam with weight decay decoupled from the gradient,
/// p <- p (1 - lr lambda) before the Adam update, as PyTorch's torch.optim.AdamW. It decays
/// every parameter of the flat buffer, biases included.
template <class S>
class AdamW : public Adam<S> {
 public:
  explicit AdamW(AdamWOptions options = {})
      : Adam<S>((options.check(), options), "latent::AdamW", options.weight_decay),
        weight_decay_(options.weight_decay) {}
  explicit AdamW(double learning_rate) : AdamW(with_rate(learning_rate)) {}

  double weight_decay() const noexcept { return weight_decay_; }

 private:
  static AdamWOptions with_rate(double learning_rate) {
    AdamWOptions options;
    options.learning_rate = learning_rate;
    return options;
  }

  double weight_decay_;
};

}  // namespace latent

#endif  // LATENT_OPTIM_ADAM_HPP
