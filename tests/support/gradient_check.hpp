#ifndef LATENT_TESTS_SUPPORT_GRADIENT_CHECK_HPP
#define LATENT_TESTS_SUPPORT_GRADIENT_CHECK_HPP

#include <algorithm>
#include <cmath>

#include <Eigen/Core>

namespace latent::testing {

/// Central differences of a scalar function of x: g_i = (f(x + h e_i) - f(x - h e_i)) / 2h.
/// x is perturbed in place and restored exactly. The O(h^2) truncation error and the
/// O(eps / h) rounding error balance near h = 1e-5 for smooth double functions.
template <class F>
Eigen::VectorXd numerical_gradient(F&& f, Eigen::VectorXd& x, double h = 1e-5) {
  Eigen::VectorXd g(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double saved = x(i);
    x(i) = saved + h;
    const double up = f();
    x(i) = saved - h;
    const double down = f();
    x(i) = saved;
    g(i) = (up - down) / (2.0 * h);
  }
  return g;
}

/// ||a - b|| / max(||a||, ||b||): the figure the gradient checks bound by 1e-6.
inline double relative_error(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const double scale = std::max({a.norm(), b.norm(), 1e-300});
  return (a - b).norm() / scale;
}

}  // namespace latent::testing

#endif  // LATENT_TESTS_SUPPORT_GRADIENT_CHECK_HPP
