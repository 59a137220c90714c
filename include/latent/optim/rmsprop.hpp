#ifndef LATENT_OPTIM_RMSPROP_HPP
#define LATENT_OPTIM_RMSPROP_HPP

#include "latent/core/types.hpp"
#include "latent/detail/optimizer_support.hpp"
#include "latent/optim/state.hpp"

namespace latent {

/// Options of RmsProp. Defaults are PyTorch's.
struct RmsPropOptions {
  double learning_rate = 1e-2;  ///< > 0
  double alpha = 0.99;          ///< decay of the mean square, in [0, 1)
  double epsilon = 1e-8;        ///< added to sqrt(v), > 0
  double momentum = 0.0;        ///< in [0, 1)

  void check() const {
    detail::check_learning_rate(learning_rate, "latent::RmsProp");
    detail::check_in_unit_interval(alpha, "alpha", "latent::RmsProp");
    detail::check_positive(epsilon, "epsilon", "latent::RmsProp");
    detail::check_in_unit_interval(momentum, "momentum", "latent::RmsProp");
  }
};

/// RMSProp (Tieleman and Hinton, 2012), as PyTorch's torch.optim.RMSprop (not centred):
///   v <- alpha v + (1 - alpha) g^2
///   p <- p - lr g / (sqrt(v) + eps)                     (momentum 0)
///   b <- mu b + g / (sqrt(v) + eps),  p <- p - lr b     (momentum mu > 0)
template <class S>
class RmsProp {
 public:
  using Scalar = S;
  explicit RmsProp(RmsPropOptions options = {}) : options_(options) { options_.check(); }
  explicit RmsProp(double learning_rate) : RmsProp(RmsPropOptions{learning_rate}) {}

  double learning_rate() const noexcept { return options_.learning_rate; }
  void set_learning_rate(double rate) {
    detail::check_learning_rate(rate, "latent::RmsProp");
    options_.learning_rate = rate;
  }
  const RmsPropOptions& options() const noexcept { return options_; }

  void step(Eigen::Ref<Vector<S>> parameters, const Eigen::Ref<const Vector<S>>& gradients) {
    detail::check_step(parameters.size(), gradients.size(), "latent::RmsProp");
    detail::prepare_state(square_, parameters.size(), "latent::RmsProp");
    const bool momentum = options_.momentum != 0.0;
    if (momentum) detail::prepare_state(buffer_, parameters.size(), "latent::RmsProp");
    const S rate = static_cast<S>(options_.learning_rate);
    const S alpha = static_cast<S>(options_.alpha);
    const S eps = static_cast<S>(options_.epsilon);
    const S mu = static_cast<S>(options_.momentum);
    const S* g = gradients.data();
    S *p = parameters.data(), *square = square_.data(), *buffer = buffer_.data();
    detail::for_each_lane<S>(parameters.size(), [=](Index i, auto lane) {
      using namespace detail::simd;
      using Lane = decltype(lane);
      const Lane gi = load<Lane>(g + i);
      const Lane si = pmadd(broadcast<Lane>(alpha), load<Lane>(square + i),
                            pmul(broadcast<Lane>(S(1) - alpha), pmul(gi, gi)));
      store(square + i, si);
      Lane direction = pdiv(gi, padd(psqrt(si), broadcast<Lane>(eps)));
      if (momentum) {
        direction = pmadd(broadcast<Lane>(mu), load<Lane>(buffer + i), direction);
        store(buffer + i, direction);
      }
      store(p + i, psub(load<Lane>(p + i), pmul(broadcast<Lane>(rate), direction)));
    });
  }

  /// The running mean of squares and the momentum buffer, to continue later with restore().
  OptimizerState<S> state() const { return {"latent::RmsProp", 0, {square_, buffer_}}; }
  /// Continues from a state() of another RmsProp; std::invalid_argument, and no change,
  /// otherwise.
  void restore(const OptimizerState<S>& state) {
    detail::check_state(state, "latent::RmsProp", 2);
    square_ = state.buffers[0];
    buffer_ = state.buffers[1];
  }

  /// Forgets the running means, as for a new model.
  void reset() {
    square_.resize(0);
    buffer_.resize(0);
  }

 private:
  RmsPropOptions options_;
  Vector<S> square_, buffer_;
};

}  // namespace latent

#endif  // LATENT_OPTIM_RMSPROP_HPP
