#ifndef LATENT_OPTIM_ADAGRAD_HPP
#define LATENT_OPTIM_ADAGRAD_HPP

#include "latent/core/types.hpp"
#include "latent/detail/optimizer_support.hpp"
#include "latent/optim/state.hpp"

namespace latent {

/// Options of AdaGrad. Defaults are PyTorch's.
struct AdaGradOptions {
  double learning_rate = 1e-2;        ///< > 0
  double epsilon = 1e-10;             ///< added to sqrt(G), > 0
  double initial_accumulator = 0.0;   ///< G at the first step, >= 0

  void check() const {
    detail::check_learning_rate(learning_rate, "latent::AdaGrad");
    detail::check_positive(epsilon, "epsilon", "latent::AdaGrad");
    detail::check_non_negative(initial_accumulator, "initial_accumulator", "latent::AdaGrad");
  }
};

/// AdaGrad (Duchi, Hazan and Singer, 2011), as PyTorch's torch.optim.Adagrad:
///   G <- G + g^2,  p <- p - lr g / (sqrt(G) + eps)
template <class S>
class AdaGrad {
 public:
  using Scalar = S;
  explicit AdaGrad(AdaGradOptions options = {}) : options_(options) { options_.check(); }
  explicit AdaGrad(double learning_rate) : AdaGrad(AdaGradOptions{learning_rate}) {}

  double learning_rate() const noexcept { return options_.learning_rate; }
  void set_learning_rate(double rate) {
    detail::check_learning_rate(rate, "latent::AdaGrad");
    options_.learning_rate = rate;
  }
  const AdaGradOptions& options() const noexcept { return options_; }

  void step(Eigen::Ref<Vector<S>> parameters, const Eigen::Ref<const Vector<S>>& gradients) {
    detail::check_step(parameters.size(), gradients.size(), "latent::AdaGrad");
    if (detail::prepare_state(sum_, parameters.size(), "latent::AdaGrad"))
      sum_.setConstant(static_cast<S>(options_.initial_accumulator));
    const S rate = static_cast<S>(options_.learning_rate);
    const S eps = static_cast<S>(options_.epsilon);
    const S* g = gradients.data();
    S *p = parameters.data(), *sum = sum_.data();
    detail::for_each_lane<S>(parameters.size(), [=](Index i, auto lane) {
      using namespace detail::simd;
      using Lane = decltype(lane);
      const Lane gi = load<Lane>(g + i);
      const Lane si = pmadd(gi, gi, load<Lane>(sum + i));
      store(sum + i, si);
      store(p + i, psub(load<Lane>(p + i), pmul(broadcast<Lane>(rate), pdiv(gi, padd(psqrt(si), broadcast<Lane>(eps))))));
    });
  }

  /// The sums of squares, to continue later with restore().
  OptimizerState<S> state() const { return {"latent::AdaGrad", 0, {sum_}}; }
  /// Continues from a state() of another AdaGrad; std::invalid_argument, and no change,
  /// otherwise.
  void restore(const OptimizerState<S>& state) {
    detail::check_state(state, "latent::AdaGrad", 1);
    sum_ = state.buffers[0];
  }

  /// Forgets the sums, as for a new model.
  void reset() { sum_.resize(0); }

 private:
  AdaGradOptions options_;
  Vector<S> sum_;
};

}  // namespace latent

#endif  // LATENT_OPTIM_ADAGRAD_HPP
