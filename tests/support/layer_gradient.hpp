#ifndef LATENT_TESTS_SUPPORT_LAYER_GRADIENT_HPP
#define LATENT_TESTS_SUPPORT_LAYER_GRADIENT_HPP

#include <cstdint>

#include <catch2/catch.hpp>

#include <latent/core/types.hpp>

#include "support/data.hpp"
#include "support/gradient_check.hpp"

namespace latent::testing {

/// Relative errors of a layer's backward against central differences of L = sum(C .* A),
/// A = layer.forward(X), for random C, X and parameters (double).
struct LayerGradientErrors {
  double parameters;
  double input;
};

/// Checks one layer's backward (any layer of the contract on Dense) on n random samples. The
/// layer sits at offset 3 of an arena with 2 values after it, which must get no gradient.
/// `low`/`high` bound the inputs.
template <class Layer>
LayerGradientErrors layer_gradient_errors(Layer& layer, Index n, std::uint64_t seed,
                                          double low = -1.0, double high = 1.0) {
  const Index offset = 3, pad = 2;
  layer.place(offset);
  const Index size = offset + layer.parameter_count() + pad;
  Eigen::VectorXd arena = uniform_matrix<double>(size, 1, seed);
  Eigen::VectorXd x = uniform_matrix<double>(layer.input_size() * n, 1, seed + 100, low, high);
  const Eigen::Map<const Matrix<double>> X(x.data(), layer.input_size(), n);
  const Matrix<double> C = uniform_matrix<double>(layer.output_size(), n, seed + 200);

  layer.forward(arena.data(), X);
  Eigen::VectorXd gradients = Eigen::VectorXd::Zero(size);
  const Matrix<double> dX = layer.backward(arena.data(), gradients.data(), X, C, true);
  REQUIRE(dX.rows() == layer.input_size());
  REQUIRE(dX.cols() == n);

  auto loss = [&] { return (C.array() * layer.forward(arena.data(), X).array()).sum(); };
  const Eigen::VectorXd numeric_parameters = numerical_gradient(loss, arena);
  const Eigen::VectorXd numeric_input = numerical_gradient(loss, x);
  CHECK(gradients.head(offset).isZero(0.0));
  CHECK(gradients.tail(pad).isZero(0.0));
  const Eigen::VectorXd dx = Eigen::Map<const Eigen::VectorXd>(dX.data(), dX.size());
  REQUIRE(dx.norm() > 1e-3);  // an input gradient of zeros would check nothing
  return {relative_error(gradients, numeric_parameters), relative_error(dx, numeric_input)};
}

}  // namespace latent::testing

#endif  // LATENT_TESTS_SUPPORT_LAYER_GRADIENT_HPP
