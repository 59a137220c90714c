#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include <catch2/catch.hpp>

#include "support/data.hpp"
#include "support/linear_algebra.hpp"
#include "support/pca.hpp"

// Pca against a reference computed another way (an SVD of the centred data), the
// randomised solver against the exact one, the algebra of transform / inverse_transform /
// explained variance / reconstruction error, and the refusals.

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using latent::Index;
using latent::Pca;
using latent::PcaOptions;
using latent::PcaSolver;
using latent::testing::orthonormal_basis;
using latent::testing::thin_svd;
using latent::testing::uniform_matrix;

template <class S>
using Matrix = latent::Matrix<S>;
template <class S>
using Vector = latent::Vector<S>;

/// d x n data whose rows have spreads 1, 1.5, 2, ...: well-separated variances, and a mean
/// away from zero.
template <class S>
Matrix<S> spread_data(Index d, Index n, std::uint64_t seed) {
  Matrix<S> X = uniform_matrix<S>(d, n, seed);
  const Matrix<S> Q = orthonormal_basis(uniform_matrix(d, d, seed + 1)).cast<S>();
  for (Index i = 0; i < d; ++i) X.row(i) *= S(1) + S(0.5) * static_cast<S>(i);
  X = Q * X;  // rotate, so that the components are not the axes
  X.colwise() += uniform_matrix<S>(d, 1, seed + 2, 2.0, 5.0).col(0);
  return X;
}

/// d x n data of rank k plus noise of `noise`: a clear gap after the k-th variance.
template <class S>
Matrix<S> low_rank_data(Index d, Index n, Index k, double noise, std::uint64_t seed) {
  latent::Rng rng(seed);
  Matrix<S> B(d, k), C(k, n), E(d, n);
  latent::fill_normal(B, 0.0, 1.0, rng);
  latent::fill_normal(C, 0.0, 1.0, rng);
  latent::fill_normal(E, 0.0, noise, rng);
  for (Index i = 0; i < k; ++i) C.row(i) *= static_cast<S>(k - i + 1);
  Matrix<S> X = B * C + E;
  X.colwise() += uniform_matrix<S>(d, 1, seed + 1, -3.0, 3.0).col(0);
  return X;
}

template <class S>
double tolerance() {
  return std::is_same_v<S, float> ? 1e-4 : 1e-10;
}

/// Largest |a - b| entry after flipping each column of b to the sign of a's.
template <class S>
double difference_up_to_sign(const Matrix<S>& a, const Matrix<S>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  double worst = 0.0;
  for (Index j = 0; j < a.cols(); ++j) {
    const S sign = a.col(j).dot(b.col(j)) < S(0) ? S(-1) : S(1);
    worst = std::max(worst, static_cast<double>((a.col(j) - sign * b.col(j)).cwiseAbs().maxCoeff()));
  }
  return worst;
}

template <class S>
Pca<S> fitted(const Matrix<S>& X, Index k, PcaSolver solver = PcaSolver::exact,
              std::uint64_t seed = 0) {
  PcaOptions options;
  options.components = k;
  options.solver = solver;
  options.seed = seed;
  Pca<S> pca(options);
  pca.fit(X);
  return pca;
}

}  // namespace

TEST_CASE("Pca's variances and components match an SVD of the centred data", "[pca]") {
  struct Case {
    Index d, n, k;
  };
  const Case shape = GENERATE(Case{5, 40, 2}, Case{8, 100, 8}, Case{12, 10, 5}, Case{30, 200, 6});
  const std::uint64_t seed = GENERATE(1, 2);
  INFO("d " << shape.d << ", n " << shape.n << ", k " << shape.k << ", seed " << seed);
  const Matrix<double> X = spread_data<double>(shape.d, shape.n, seed);

  const Matrix<double> centred = X.colwise() - X.rowwise().mean();
  const latent::testing::ThinSvd svd = thin_svd(centred);
  const Vector<double> variances =
      svd.singular_values.head(shape.k).array().square() / static_cast<double>(shape.n - 1);
  const Matrix<double> components = svd.U.leftCols(shape.k);

  // The exact solver; the randomised one is compared with it on data with a spectral gap.
  const Pca<double> pca = fitted(X, shape.k, PcaSolver::exact);
  REQUIRE(pca.components().rows() == shape.d);
  REQUIRE(pca.components().cols() == shape.k);
  REQUIRE(pca.explained_variance().size() == shape.k);
  CHECK((pca.mean() - X.rowwise().mean()).cwiseAbs().maxCoeff() < 1e-12);
  for (Index i = 0; i < shape.k; ++i) {
    INFO("component " << i);
    CHECK_THAT(pca.explained_variance()(i), WithinRel(variances(i), 1e-6));
  }
  CHECK(difference_up_to_sign(components, pca.components()) < 1e-6);
  // The documented sign: each component's entry of largest magnitude is positive.
  for (Index j = 0; j < shape.k; ++j) {
    Index top = 0;
    pca.components().col(j).cwiseAbs().maxCoeff(&top);
    CHECK(pca.components()(top, j) > 0.0);
  }
}

TEMPLATE_TEST_CASE("Pca's components are orthonormal, largest variance first", "[pca]", float,
                   double) {
  using S = TestType;
  const PcaSolver solver = GENERATE(PcaSolver::exact, PcaSolver::randomized);
  const Index k = GENERATE(1, 4, 10);
  INFO("k " << k);
  const Matrix<S> X = spread_data<S>(10, 60, 3);
  const Pca<S> pca = fitted(X, k, solver);
  const Matrix<S> gram = pca.components().transpose() * pca.components();
  CHECK((gram - Matrix<S>::Identity(k, k)).cwiseAbs().maxCoeff() < 10 * tolerance<S>());
  for (Index i = 1; i < k; ++i) CHECK(pca.explained_variance()(i) <= pca.explained_variance()(i - 1));
  CHECK(pca.explained_variance().minCoeff() > S(0));
}

TEMPLATE_TEST_CASE("The randomised solver agrees with the exact one on data with a spectral gap",
                   "[pca]", float, double) {
  using S = TestType;
  const std::uint64_t seed = GENERATE(1, 2, 3);
  // n = 300 and a sketch of width 14 with 4 power iterations: at d = 40 the solver goes through
  // the covariance, at d = 400 through passes over the data (the cheaper, see PcaSolver).
  const Index d = GENERATE(40, 400);
  INFO("seed " << seed << ", d " << d);
  // Rank 4 with spreads 5, 4, 3, 2, noise 0.01: the 14th singular value, the first the sketch
  // misses, is hundreds of times below the 4th.
  const Matrix<S> X = low_rank_data<S>(d, 300, 4, 0.01, seed);
  const Pca<S> exact = fitted(X, 4, PcaSolver::exact);
  const Pca<S> randomized = fitted(X, 4, PcaSolver::randomized, seed);
  const double eps = std::is_same_v<S, float> ? 1e-4 : 1e-8;
  for (Index i = 0; i < 4; ++i)
    CHECK_THAT(static_cast<double>(randomized.explained_variance()(i)),
               WithinRel(static_cast<double>(exact.explained_variance()(i)), eps));
  // The sign convention makes them equal, not only equal up to sign.
  CHECK((randomized.components() - exact.components()).cwiseAbs().maxCoeff() < eps);
  CHECK_THAT(static_cast<double>(randomized.explained_variance_ratio().sum()),
             WithinRel(static_cast<double>(exact.explained_variance_ratio().sum()), eps));

  SECTION("the sketch's seed fixes the result") {
    const Pca<S> again = fitted(X, 4, PcaSolver::randomized, seed);
    CHECK(again.components() == randomized.components());
    CHECK(again.explained_variance() == randomized.explained_variance());
  }
  SECTION("automatic is the exact solver at this size") {
    const Pca<S> automatic = fitted(X, 4, PcaSolver::automatic);
    CHECK(automatic.components() == exact.components());
  }
}

TEMPLATE_TEST_CASE("explained_variance_ratio sums to at most 1, and to 1 when k = d", "[pca]",
                   float, double) {
  using S = TestType;
  const PcaSolver solver = GENERATE(PcaSolver::exact, PcaSolver::randomized);
  const Matrix<S> X = spread_data<S>(6, 50, 4);
  const double eps = std::is_same_v<S, float> ? 1e-5 : 1e-12;
  double previous = 0.0;
  for (Index k = 1; k <= 6; ++k) {
    INFO("k " << k);
    const Vector<S> ratio = fitted(X, k, solver).explained_variance_ratio();
    REQUIRE(ratio.size() == k);
    CHECK((ratio.array() > S(0)).all());
    const double sum = static_cast<double>(ratio.sum());
    CHECK(sum <= 1.0 + eps);
    CHECK(sum > previous);
    previous = sum;
    if (k == 6) CHECK_THAT(sum, WithinRel(1.0, eps));
  }
}

TEMPLATE_TEST_CASE("transform and inverse_transform round-trip exactly when k = d", "[pca]", float,
                   double) {
  using S = TestType;
  const PcaSolver solver = GENERATE(PcaSolver::exact, PcaSolver::randomized);
  const Matrix<S> X = spread_data<S>(7, 30, 5);
  const Pca<S> pca = fitted(X, 7, solver);
  const Matrix<S> codes = pca.transform(X);
  REQUIRE(codes.rows() == 7);
  REQUIRE(codes.cols() == 30);
  const Matrix<S> back = pca.inverse_transform(codes);
  CHECK((back - X).cwiseAbs().maxCoeff() < 100 * tolerance<S>() * X.cwiseAbs().maxCoeff());
  CHECK(pca.reconstruction_error(X) < 100 * tolerance<S>());
}

TEMPLATE_TEST_CASE("Pca's codes are centred and uncorrelated with the explained variances",
                   "[pca]", float, double) {
  using S = TestType;
  const Matrix<S> X = spread_data<S>(8, 80, 6);
  const Pca<S> pca = fitted(X, 3);
  const Matrix<S> codes = pca.transform(X);
  REQUIRE(codes.rows() == 3);
  const double eps = std::is_same_v<S, float> ? 1e-4 : 1e-10;
  CHECK(codes.rowwise().mean().cwiseAbs().maxCoeff() < eps * 10);
  const Matrix<S> covariance = codes * codes.transpose() / S(79);
  for (Index i = 0; i < 3; ++i)
    for (Index j = 0; j < 3; ++j) {
      INFO("(" << i << ", " << j << ")");
      const double expected = i == j ? static_cast<double>(pca.explained_variance()(i)) : 0.0;
      CHECK_THAT(static_cast<double>(covariance(i, j)), WithinRel(expected, eps) || WithinAbs(0.0, eps));
    }

  SECTION("reconstruct projects: applying it twice changes nothing") {
    const Matrix<S> once = pca.reconstruct(X);
    CHECK((pca.reconstruct(once) - once).cwiseAbs().maxCoeff() < 10 * eps);
    CHECK((once - X).norm() > S(0.1) * (X.colwise() - pca.mean()).norm());  // k < d: not the identity
  }
  SECTION("the mean maps to the zero code") {
    CHECK(pca.transform(pca.mean()).cwiseAbs().maxCoeff() < eps);
  }
}

TEST_CASE("Pca's reconstruction error is the discarded variance times (n - 1) / n", "[pca]") {
  const Index d = 9, n = 70;
  const Matrix<double> X = spread_data<double>(d, n, 7);
  const Vector<double> all = fitted(X, d).explained_variance();
  for (Index k = 1; k < d; ++k) {
    INFO("k " << k);
    const Pca<double> pca = fitted(X, k);
    const double expected = all.tail(d - k).sum() * static_cast<double>(n - 1) / static_cast<double>(n);
    CHECK_THAT(static_cast<double>(pca.reconstruction_error(X)), WithinRel(expected, 1e-10));
    // And it is the mean squared norm of the residuals.
    const double by_hand = (pca.reconstruct(X) - X).squaredNorm() / static_cast<double>(n);
    CHECK_THAT(static_cast<double>(pca.reconstruction_error(X)), WithinRel(by_hand, 1e-12));
  }
}

TEST_CASE("Pca refuses bad options and bad data", "[pca][errors]") {
  SECTION("options") {
    CHECK_THROWS_AS(Pca<double>(0), std::invalid_argument);
    CHECK_THROWS_WITH(Pca<double>(-2), Contains("'components'"));
    PcaOptions options;
    options.oversampling = -1;
    CHECK_THROWS_AS(Pca<double>(options), std::invalid_argument);
    options.oversampling = 10;
    options.power_iterations = -1;
    CHECK_THROWS_AS(Pca<double>(options), std::invalid_argument);
  }
  SECTION("k above min(d, n)") {
    Pca<double> pca(6);
    CHECK_THROWS_AS(pca.fit(uniform_matrix(5, 20, 1)), std::invalid_argument);  // d = 5
    CHECK_THROWS_AS(pca.fit(uniform_matrix(10, 5, 1)), std::invalid_argument);  // n = 5
    CHECK_THROWS_WITH(pca.fit(uniform_matrix(5, 20, 1)), Contains("'components'") && Contains("5"));
    CHECK_NOTHROW(pca.fit(uniform_matrix(6, 6, 1)));
  }
  SECTION("fewer than two samples") {
    Pca<double> pca(1);
    CHECK_THROWS_AS(pca.fit(uniform_matrix(3, 1, 1)), std::invalid_argument);
    CHECK_THROWS_AS(pca.fit(Matrix<double>(3, 0)), std::invalid_argument);
  }
  SECTION("NaN or infinity in the data") {
    Pca<double> pca(2);
    Matrix<double> X = uniform_matrix(4, 10, 1);
    X(2, 7) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(pca.fit(X), std::invalid_argument);
    CHECK_THROWS_WITH(pca.fit(X), Contains("row 2") && Contains("column 7"));
    X(2, 7) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(pca.fit(X), std::invalid_argument);
    CHECK_FALSE(pca.fitted());
  }
  SECTION("wrong rows after fit") {
    Pca<double> pca(2);
    pca.fit(uniform_matrix(4, 10, 1));
    CHECK_THROWS_AS(pca.transform(uniform_matrix(5, 3, 2)), std::invalid_argument);
    CHECK_THROWS_AS(pca.inverse_transform(uniform_matrix(3, 3, 2)), std::invalid_argument);
    CHECK_THROWS_AS(pca.reconstruction_error(uniform_matrix(3, 3, 2)), std::invalid_argument);
    CHECK_THROWS_AS(pca.reconstruct(uniform_matrix(5, 3, 2)), std::invalid_argument);
    Matrix<double> codes = uniform_matrix(2, 3, 2);
    codes(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(pca.inverse_transform(codes), std::invalid_argument);
  }
  SECTION("a refused fit keeps the earlier one") {
    Pca<double> pca(2);
    const Matrix<double> X = uniform_matrix(4, 10, 1);
    pca.fit(X);
    const Matrix<double> components = pca.components();
    Matrix<double> bad = uniform_matrix(4, 10, 2);
    bad(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS(pca.fit(bad));
    CHECK_THROWS(pca.fit(uniform_matrix(1, 10, 3)));
    CHECK(pca.components() == components);
    CHECK(pca.input_size() == 4);
  }
}

TEST_CASE("Pca refuses use before fit, saying to call fit", "[pca][errors]") {
  const Pca<double> pca(2);
  CHECK_FALSE(pca.fitted());
  CHECK_THROWS_AS(pca.components(), std::logic_error);
  CHECK_THROWS_WITH(pca.components(), Contains("fit()"));
  CHECK_THROWS_WITH(pca.mean(), Contains("fit()"));
  CHECK_THROWS_WITH(pca.explained_variance(), Contains("fit()"));
  CHECK_THROWS_WITH(pca.explained_variance_ratio(), Contains("fit()"));
  // transform and friends check the rows against input_size() first, which is 0 before fit:
  // they refuse with "data has 4 rows but the model takes 0" instead of saying to call fit.
  const Matrix<double> X = uniform_matrix(4, 3, 1);
  CHECK_THROWS_WITH(pca.transform(X), Contains("fit()"));
  CHECK_THROWS_WITH(pca.reconstruct(X), Contains("fit()"));
  CHECK_THROWS_WITH(pca.reconstruction_error(X), Contains("fit()"));
  CHECK_THROWS_WITH(pca.inverse_transform(uniform_matrix(2, 3, 1)), Contains("fit()"));
}
