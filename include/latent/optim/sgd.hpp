#ifndef LATENT_OPTIM_SGD_HPP
#define LATENT_OPTIM_SGD_HPP

#include "latent/core/types.hpp"
#include "latent/detail/optimizer_support.hpp"
#include "latent/optim/state.hpp"

namespace latent {

/// Options of Sgd. Defaults are PyTorch's (dampening 0).
struct SgdOptions {
  double learning_rate = 0.01;  ///< step size, > 0
  double momentum = 0.0;        ///< mu in [0, 1); 0 is plain gradient descent
  bool nesterov = false;        ///< look-ahead momentum (needs momentum > 0)

  void check() const {
    detail::check_learning_rate(learning_rate, "latent::Sgd");
    detail::check_in_unit_interval(momentum, "momentum", "latent::Sgd");
    if (nesterov && momentum == 0.0)
      throw std::invalid_argument("latent::Sgd: 'nesterov' needs 'momentum' > 0");
  }
};

/// Stochastic gradient descent with momentum, on a flat parameter vector:
///   v <- mu v + g,  p <- p - lr v             (heavy ball; v starts at 0)
///   p <- p - lr (g + mu v)                    (Nesterov, after updating v)
/// as PyTorch's torch.optim.SGD without dampening (Sutskever et al., 2013).
template <class S>
class Sgd {
 public:
  using Scalar = S;
  explicit Sgd(SgdOptions options = {}) : options_(options) { options_.check(); }
  explicit Sgd(double learning_rate) : Sgd(SgdOptions{learning_rate}) {}

  double learning_rate() const noexcept { return options_.learning_rate; }
  void set_learning_rate(double rate) {
    detail::check_learning_rate(rate, "latent::Sgd");
    options_.learning_rate = rate;
  }
  const SgdOptions& options() const noexcept { return options_; }

  /// In/Out: parameters. In: gradients of the same length.
  void step(Eigen::Ref<Vector<S>> parameters, const Eigen::Ref<const Vector<S>>& gradients) {
    detail::check_step(parameters.size(), gradients.size(), "latent::Sgd");
    const S rate = static_cast<S>(options_.learning_rate);
    if (options_.momentum == 0.0) {
      parameters.noalias() -= rate * gradients;
      return;
    }
    detail::prepare_state(velocity_, parameters.size(), "latent::Sgd");
    const S mu = static_cast<S>(options_.momentum);
    const bool nesterov = options_.nesterov;
    const S* g = gradients.data();
    S *p = parameters.data(), *velocity = velocity_.data();
    detail::for_each_lane<S>(parameters.size(), [=](Index i, auto lane) {
      using namespace detail::simd;
      using Lane = decltype(lane);
      const Lane gi = load<Lane>(g + i);
      const Lane vi = pmadd(broadcast<Lane>(mu), load<Lane>(velocity + i), gi);
      const Lane direction = nesterov ? pmadd(broadcast<Lane>(mu), vi, gi) : vi;
      store(velocity + i, vi);
      store(p + i, psub(load<Lane>(p + i), pmul(broadcast<Lane>(rate), direction)));
    });
  }

  /// The velocity, to continue later with restore().
  OptimizerState<S> state() const { return {"latent::Sgd", 0, {velocity_}}; }
  /// Continues from a state() of another Sgd; std::invalid_argument, and no change, otherwise.
  void restore(const OptimizerState<S>& state) {
    detail::check_state(state, "latent::Sgd", 1);
    velocity_ = state.buffers[0];
  }

  /// Forgets the velocity, as for a new model.
  void reset() { velocity_.resize(0); }

 private:
  SgdOptions options_;
  Vector<S> velocity_;
};

}  // namespace latent

#endif  // LATENT_OPTIM_SGD_HPP
