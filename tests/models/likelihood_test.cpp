#include <latent/models/likelihood.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <catch2/catch.hpp>

#include <latent/activations.hpp>

#include "support/data.hpp"
#include "support/gradient_check.hpp"

// The decoder likelihoods of the VAE: each log_likelihood against its formula written out
// element by element on a tiny case, negative_log_likelihood as minus their sum with dZ (the
// output activation fused in) against central differences, and the data and option checks.

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using latent::Index;
using latent::testing::uniform_matrix;

template <class S>
using Matrix = latent::Matrix<S>;

const double pi = 3.14159265358979323846;

template <class S>
double tolerance() {
  return std::is_same_v<S, float> ? 2e-6 : 1e-13;
}

// Three pixels, two samples; logits and data chosen by hand.
Matrix<double> logits() {
  Matrix<double> Z(3, 2);
  Z << 0.5, -1.2,
       2.0, 0.3,
       -0.7, -3.0;
  return Z;
}
Matrix<double> pixels() {
  Matrix<double> X(3, 2);
  X << 1.0, 0.0,
       0.25, 1.0,
       0.0, 0.6;
  return X;
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

template <class Act, class S>
Matrix<S> activate(const Act& act, const Matrix<S>& Z) {
  return act.value(Z.array()).matrix();
}

/// log p(x_j | z_j) of each column, from the likelihood under test.
template <class S, class L, class Act>
Matrix<S> log_likelihood(const L& likelihood, const Act& act, const Matrix<S>& Z,
                         const Matrix<S>& X) {
  const Matrix<S> A = activate(act, Z);
  Matrix<S> out(1, Z.cols());
  likelihood.template log_likelihood<S>(act, Z, A, X, out);
  return out;
}

/// negative_log_likelihood's value for the logits Z, and its dZ at `scale` into dZ.
template <class L, class Act>
double negative_log_likelihood(const L& likelihood, const Act& act, const Matrix<double>& Z,
                               const Matrix<double>& X, double scale, Matrix<double>& dZ) {
  const Matrix<double> A = activate(act, Z);
  dZ.resize(Z.rows(), Z.cols());
  return likelihood.template negative_log_likelihood<double>(
      act, Z, A, X, scale, latent::MatrixMap<double>(dZ.data(), dZ.rows(), dZ.cols()));
}

/// Relative error of dZ / scale against central differences of the value in Z; also checks that
/// the value is minus the sum of log_likelihood.
template <class L, class Act>
double nll_gradient_error(const L& likelihood, const Act& act, Matrix<double> Z,
                          const Matrix<double>& X) {
  const double scale = 0.37;
  Matrix<double> dZ, scratch;
  const double value = negative_log_likelihood(likelihood, act, Z, X, scale, dZ);
  CHECK_THAT(value, WithinRel(-log_likelihood(likelihood, act, Z, X).sum(), 1e-13));
  Eigen::VectorXd z = Eigen::Map<const Eigen::VectorXd>(Z.data(), Z.size());
  const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
      [&] {
        Z = Eigen::Map<const Matrix<double>>(z.data(), Z.rows(), Z.cols());
        return negative_log_likelihood(likelihood, act, Z, X, scale, scratch);
      },
      z);
  const Eigen::VectorXd analytic = Eigen::Map<const Eigen::VectorXd>(dZ.data(), dZ.size()) / scale;
  REQUIRE(analytic.norm() > 1e-3);
  return latent::testing::relative_error(analytic, numeric);
}

}  // namespace

TEMPLATE_TEST_CASE("Bernoulli's log-likelihood is sum x log a + (1 - x) log(1 - a)",
                   "[likelihood][bernoulli]", float, double) {
  using S = TestType;
  const Matrix<double> Z = logits(), X = pixels();
  const Matrix<S> out = log_likelihood(latent::Bernoulli{}, latent::Sigmoid{},
                                       Matrix<S>(Z.cast<S>()), Matrix<S>(X.cast<S>()));
  REQUIRE(out.rows() == 1);
  REQUIRE(out.cols() == 2);
  for (Index j = 0; j < 2; ++j) {
    double expected = 0.0;
    for (Index i = 0; i < 3; ++i) {
      const double a = sigmoid(Z(i, j));
      expected += X(i, j) * std::log(a) + (1.0 - X(i, j)) * std::log(1.0 - a);
    }
    INFO("column " << j);
    CHECK_THAT(static_cast<double>(out(0, j)), WithinRel(expected, tolerance<S>()));
  }
}

TEMPLATE_TEST_CASE("Bernoulli's log-likelihood stays exact where the sigmoid rounds to 0 or 1",
                   "[likelihood][bernoulli]", float, double) {
  using S = TestType;
  // sigmoid(40) is 1 in float and sigmoid(-40) is 0 to 4e-18 in double: log(1 - a) from a
  // would be -inf or far off; the logits path gives log p = -40 - log1p(exp(-40)).
  Matrix<S> Z(2, 1), X(2, 1);
  Z << S(40), S(-40);
  X << S(0), S(1);
  const Matrix<S> out = log_likelihood(latent::Bernoulli{}, latent::Sigmoid{}, Z, X);
  REQUIRE(std::isfinite(out(0, 0)));
  CHECK_THAT(static_cast<double>(out(0, 0)), WithinRel(-80.0 - 2.0 * std::log1p(std::exp(-40.0)),
                                                       tolerance<S>()));
}

TEMPLATE_TEST_CASE("Gaussian's log-likelihood is -sum (x - a)^2 / (2 var) - d log(2 pi var) / 2",
                   "[likelihood][gaussian]", float, double) {
  using S = TestType;
  const double variance = GENERATE(1.0, 0.3);
  INFO("variance " << variance);
  const Matrix<double> Z = logits(), X = pixels();
  const latent::Gaussian gaussian(variance);

  SECTION("around an Identity output") {
    const Matrix<S> out =
        log_likelihood(gaussian, latent::Identity{}, Matrix<S>(Z.cast<S>()), Matrix<S>(X.cast<S>()));
    for (Index j = 0; j < 2; ++j) {
      double expected = 0.0;
      for (Index i = 0; i < 3; ++i)
        expected += -(X(i, j) - Z(i, j)) * (X(i, j) - Z(i, j)) / (2 * variance) -
                    0.5 * std::log(2 * pi * variance);
      CHECK_THAT(static_cast<double>(out(0, j)), WithinRel(expected, tolerance<S>()));
    }
  }
  SECTION("around a Sigmoid output, reading a = sigmoid(z)") {
    const Matrix<S> out =
        log_likelihood(gaussian, latent::Sigmoid{}, Matrix<S>(Z.cast<S>()), Matrix<S>(X.cast<S>()));
    for (Index j = 0; j < 2; ++j) {
      double expected = 0.0;
      for (Index i = 0; i < 3; ++i) {
        const double a = sigmoid(Z(i, j));
        expected += -(X(i, j) - a) * (X(i, j) - a) / (2 * variance) - 0.5 * std::log(2 * pi * variance);
      }
      CHECK_THAT(static_cast<double>(out(0, j)), WithinRel(expected, tolerance<S>()));
    }
  }
}

TEMPLATE_TEST_CASE("GaussianLearnedVariance's log-likelihood reads means then log-variances",
                   "[likelihood][gaussian]", float, double) {
  using S = TestType;
  Matrix<double> A(6, 2);  // means 3x2 on top, log-variances 3x2 below
  A << 0.5, -1.2,
       2.0, 0.3,
       -0.7, -3.0,
       0.0, -1.5,
       0.8, 0.2,
       -2.0, 1.1;
  const Matrix<double> X = pixels();
  const Matrix<S> out = log_likelihood(latent::GaussianLearnedVariance{}, latent::Identity{},
                                       Matrix<S>(A.cast<S>()), Matrix<S>(X.cast<S>()));
  for (Index j = 0; j < 2; ++j) {
    double expected = 0.0;
    for (Index i = 0; i < 3; ++i) {
      const double mu = A(i, j), v = A(i + 3, j), r = X(i, j) - mu;
      expected += -0.5 * (r * r / std::exp(v) + v + std::log(2 * pi));
    }
    INFO("column " << j);
    CHECK_THAT(static_cast<double>(out(0, j)), WithinRel(expected, tolerance<S>()));
  }
  CHECK(latent::GaussianLearnedVariance::output_size(3) == 6);
  CHECK(latent::GaussianLearnedVariance::mean<S>(Matrix<S>(A.cast<S>()), 3) ==
        Matrix<S>(A.topRows(3).cast<S>()));
}

TEST_CASE("negative_log_likelihood's dZ matches central differences of its value",
          "[likelihood][gradient]") {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  INFO("seed " << seed);
  const Matrix<double> X = uniform_matrix(4, 5, seed, 0.0, 1.0);

  SECTION("Bernoulli, logits through a Sigmoid") {
    CHECK(nll_gradient_error(latent::Bernoulli{}, latent::Sigmoid{},
                             uniform_matrix(4, 5, seed + 10, -3.0, 3.0), X) < 1e-6);
  }
  SECTION("Gaussian around an Identity output") {
    CHECK(nll_gradient_error(latent::Gaussian(0.4), latent::Identity{},
                             uniform_matrix(4, 5, seed + 10), X) < 1e-6);
  }
  SECTION("Gaussian around a Tanh output") {
    CHECK(nll_gradient_error(latent::Gaussian(2.0), latent::Tanh{},
                             uniform_matrix(4, 5, seed + 10), X) < 1e-6);
  }
  SECTION("GaussianLearnedVariance, means and log-variances") {
    CHECK(nll_gradient_error(latent::GaussianLearnedVariance{}, latent::Identity{},
                             uniform_matrix(8, 5, seed + 10, -1.5, 1.5), X) < 1e-6);
  }
}

TEST_CASE("Likelihoods state their output sizes and means", "[likelihood]") {
  CHECK(latent::Bernoulli::output_size(7) == 7);
  CHECK(latent::Gaussian::output_size(7) == 7);
  CHECK(latent::GaussianLearnedVariance::output_size(7) == 14);
  const Matrix<double> A = uniform_matrix(4, 3, 1);
  CHECK(latent::Bernoulli::mean<double>(A, 4) == A);
  CHECK(latent::Gaussian::mean<double>(A, 4) == A);
  CHECK(latent::Gaussian{}.variance == 1.0);
}

TEST_CASE("Likelihoods refuse data and options they cannot model", "[likelihood][errors]") {
  SECTION("Bernoulli needs data in [0, 1]") {
    Matrix<double> X = uniform_matrix(3, 4, 1, 0.0, 1.0);
    CHECK_NOTHROW(latent::Bernoulli::check_data<double>(X, "who"));
    X(1, 2) = 1.5;
    CHECK_THROWS_AS(latent::Bernoulli::check_data<double>(X, "who"), std::invalid_argument);
    CHECK_THROWS_WITH(latent::Bernoulli::check_data<double>(X, "who"),
                      Contains("who") && Contains("[0, 1]"));
    X(1, 2) = -0.1;
    CHECK_THROWS_AS(latent::Bernoulli::check_data<double>(X, "who"), std::invalid_argument);
  }
  SECTION("Gaussian takes any real data") {
    const Matrix<double> X = uniform_matrix(3, 4, 1, -10.0, 10.0);
    CHECK_NOTHROW(latent::Gaussian::check_data<double>(X, "who"));
    CHECK_NOTHROW(latent::GaussianLearnedVariance::check_data<double>(X, "who"));
  }
  SECTION("Gaussian needs a positive, finite variance") {
    CHECK_THROWS_AS(latent::Gaussian(0.0), std::invalid_argument);
    CHECK_THROWS_AS(latent::Gaussian(-1.0), std::invalid_argument);
    CHECK_THROWS_AS(latent::Gaussian(std::numeric_limits<double>::quiet_NaN()),
                    std::invalid_argument);
    CHECK_THROWS_AS(latent::Gaussian(std::numeric_limits<double>::infinity()),
                    std::invalid_argument);
    CHECK_THROWS_WITH(latent::Gaussian(-1.0), Contains("'variance'"));
  }
}
