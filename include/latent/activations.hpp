#ifndef LATENT_ACTIVATIONS_HPP
#define LATENT_ACTIVATIONS_HPP

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "latent/core/init.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/describe.hpp"

namespace latent {

/// Activations are small policy objects applied element-wise: a = f(z).
///
/// Contract (checked by detail::is_activation):
/// - `value(z)` returns f(z) as an Eigen array expression of z;
/// - `derivative(z, a)` returns f'(z) as an array expression, given both z and a = f(z), so that
///   each activation uses whichever is cheaper (sigmoid needs only a: f' = a (1 - a));
/// - `name` (for messages) and `default_init` (the initialiser that suits it);
/// - `describe()`, only for activations with a constant: the name and the constant, exactly
///   ("LeakyReLU(slope=0.2)"), which model files compare.
/// Both functions return expressions, so a layer's `A = f(Z)` and `dZ = dA * f'(Z, A)` are one
/// fused, vectorised pass each. Activations with a constant (LeakyReLU, ELU) hold it as a member.
/// Each entry's value must depend on that entry alone, and both functions must be safe to call
/// from several threads at once: a training step applies them to ranges of entries on several
/// threads (core/threads.hpp).

/// f(z) = z.
struct Identity {
  static constexpr const char* name = "Identity";
  static constexpr Init default_init = Init::glorot_uniform;
  template <class Z>
  auto value(const Eigen::ArrayBase<Z>& z) const {
    return z.derived();
  }
  template <class Z, class A>
  auto derivative(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<A>&) const {
    return Z::PlainObject::Ones(z.rows(), z.cols());
  }
};

/// f(z) = 1 / (1 + exp(-z)), f' = a (1 - a).
struct Sigmoid {
  static constexpr const char* name = "Sigmoid";
  static constexpr Init default_init = Init::glorot_uniform;
  template <class Z>
  auto value(const Eigen::ArrayBase<Z>& z) const {
    return z.logistic();
  }
  template <class Z, class A>
  auto derivative(const Eigen::ArrayBase<Z>&, const Eigen::ArrayBase<A>& a) const {
    using T = typename A::Scalar;
    return a * (T(1) - a);
  }
};

/// f(z) = tanh(z), f' = 1 - a^2.
struct Tanh {
  static constexpr const char* name = "Tanh";
  static constexpr Init default_init = Init::glorot_uniform;
  template <class Z>
  auto value(const Eigen::ArrayBase<Z>& z) const {
    return z.tanh();
  }
  template <class Z, class A>
  auto derivative(const Eigen::ArrayBase<Z>&, const Eigen::ArrayBase<A>& a) const {
    using T = typename A::Scalar;
    return T(1) - a.square();
  }
};

/// f(z) = max(z, 0), f' = [z > 0] (0 at the kink).
struct ReLU {
  static constexpr const char* name = "ReLU";
  static constexpr Init default_init = Init::he_uniform;
  template <class Z>
  auto value(const Eigen::ArrayBase<Z>& z) const {
    using T = typename Z::Scalar;
    return z.cwiseMax(T(0));
  }
  template <class Z, class A>
  auto derivative(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<A>&) const {
    using T = typename Z::Scalar;
    return (z > T(0)).template cast<T>();
  }
};

/// f(z) = z for z > 0, slope * z otherwise; f' = 1 or slope. Default slope 0.01.
struct LeakyReLU {
  static constexpr const char* name = "LeakyReLU";
  static constexpr Init default_init = Init::he_uniform;
  double slope = 0.01;

  LeakyReLU() = default;
  explicit LeakyReLU(double negative_slope) : slope(negative_slope) {
    if (!(slope >= 0.0 && slope < 1.0))
      throw std::invalid_argument("latent::LeakyReLU: 'slope' must be in [0, 1), got " +
                                  std::to_string(slope));
  }
  std::string describe() const { return "LeakyReLU(slope=" + detail::number_text(slope) + ")"; }
  template <class Z>
  auto value(const Eigen::ArrayBase<Z>& z) const {
    using T = typename Z::Scalar;
    return z.cwiseMax(T(slope) * z);  // max(z, slope z) is f for 0 <= slope < 1
  }
  template <class Z, class A>
  auto derivative(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<A>&) const {
    using T = typename Z::Scalar;
    return (z > T(0)).template cast<T>() * T(1 - slope) + T(slope);
  }
};

/// f(z) = z for z > 0, alpha (exp(z) - 1) otherwise; f' = 1 or a + alpha. Default alpha 1
/// (Clevert, Unterthiner and Hochreiter, 2016).
struct ELU {
  static constexpr const char* name = "ELU";
  static constexpr Init default_init = Init::he_uniform;
  double alpha = 1.0;

  ELU() = default;
  explicit ELU(double scale) : alpha(scale) {
    if (!(alpha > 0.0))
      throw std::invalid_argument("latent::ELU: 'alpha' must be positive, got " +
                                  std::to_string(alpha));
  }
  std::string describe() const { return "ELU(alpha=" + detail::number_text(alpha) + ")"; }
  template <class Z>
  auto value(const Eigen::ArrayBase<Z>& z) const {
    using T = typename Z::Scalar;
    return (z > T(0)).select(z, T(alpha) * z.cwiseMin(T(0)).expm1());
  }
  template <class Z, class A>
  auto derivative(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<A>& a) const {
    using T = typename Z::Scalar;
    return (z > T(0)).select(T(1), a + T(alpha));
  }
};

/// f(z) = log(1 + exp(z)), computed as max(z, 0) + log1p(exp(-|z|)) so it never overflows;
/// f' = sigmoid(z).
struct Softplus {
  static constexpr const char* name = "Softplus";
  static constexpr Init default_init = Init::glorot_uniform;
  template <class Z>
  auto value(const Eigen::ArrayBase<Z>& z) const {
    using T = typename Z::Scalar;
    return z.cwiseMax(T(0)) + (-z.abs()).exp().log1p();
  }
  template <class Z, class A>
  auto derivative(const Eigen::ArrayBase<Z>& z, const Eigen::ArrayBase<A>&) const {
    return z.logistic();
  }
};

namespace detail {

template <class Act, class S, class = void>
struct is_activation : std::false_type {};

template <class Act, class S>
struct is_activation<
    Act, S,
    std::void_t<decltype(std::declval<const Act&>().value(
                    std::declval<const Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>&>())),
                decltype(std::declval<const Act&>().derivative(
                    std::declval<const Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>&>(),
                    std::declval<const Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>&>())),
                decltype(Act::name), decltype(Act::default_init)>> : std::true_type {};

}  // namespace detail
}  // namespace latent

#endif  // LATENT_ACTIVATIONS_HPP
