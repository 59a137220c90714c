#include <latent/losses.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <catch2/catch.hpp>

#include "support/data.hpp"
#include "support/gradient_check.hpp"

// The four losses: values worked out by hand, dL/dZ against central differences behind each
// output activation, the fused logits paths at the extremes of float, and the target checks.

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using latent::Index;
using latent::testing::numerical_gradient;
using latent::testing::relative_error;
using latent::testing::uniform_matrix;

template <class S>
using Matrix = latent::Matrix<S>;

template <class S>
Matrix<S> matrix(Index rows, Index cols, std::initializer_list<double> values) {
  Matrix<S> m(rows, cols);
  REQUIRE(static_cast<Index>(values.size()) == rows * cols);
  Index i = 0;
  for (double v : values) {
    m(i / cols, i % cols) = static_cast<S>(v);  // row by row, as written
    ++i;
  }
  return m;
}

latent::Labels labels(std::initializer_list<int> values) {
  latent::Labels l(static_cast<Index>(values.size()));
  Index i = 0;
  for (int v : values) l(i++) = v;
  return l;
}

template <class S>
constexpr double eps() {
  return std::is_same_v<S, float> ? 1e-5 : 1e-12;
}

/// A = act(Z), evaluated.
template <class Act>
Matrix<double> apply(const Act& act, const Matrix<double>& Z) {
  return act.value(Z.array()).matrix();
}

/// Checks Loss::value_and_gradient's dL/dZ against central differences of Loss::value(act(Z),
/// T), and that the value it returns is the loss.
template <class Loss, class Act, class Target>
void check_gradient(const Act& act, Eigen::VectorXd& z, Index rows, Index cols,
                    const Target& T) {
  const Eigen::Map<const Matrix<double>> Z(z.data(), rows, cols);
  const Matrix<double> A = apply(act, Z);
  Matrix<double> dZ_storage(rows, cols);
  const double returned = Loss::template value_and_gradient<double>(
      act, Z, A, T, latent::MatrixMap<double>(dZ_storage.data(), rows, cols));

  auto loss = [&] { return Loss::value(apply(act, Z), T); };
  const double expected = loss();
  CHECK_THAT(returned, WithinRel(expected, 1e-12));
  // The output-layer value (which may read Z) is the same loss.
  CHECK_THAT((Loss::template value<double>(act, Z, A, T)), WithinRel(expected, 1e-12));

  const Eigen::VectorXd numeric = numerical_gradient(loss, z);
  const Eigen::VectorXd analytic = Eigen::Map<const Eigen::VectorXd>(dZ_storage.data(), z.size());
  INFO(Loss::name << " behind " << Act::name << "\nanalytic " << analytic.transpose()
                  << "\nnumeric  " << numeric.transpose());
  CHECK(relative_error(analytic, numeric) < 1e-6);
}

}  // namespace

TEMPLATE_TEST_CASE("Losses give their hand-computed values", "[losses]", float, double) {
  using S = TestType;
  const double tiny = 1e-30;

  SECTION("MeanSquaredError sums over outputs and averages over columns") {
    // A - T = [1 0; 2 3]: squares 1 + 0 + 4 + 9 = 14, over n = 2 columns: 7.
    const Matrix<S> A = matrix<S>(2, 2, {1, 2, 3, 4});
    const Matrix<S> T = matrix<S>(2, 2, {0, 2, 1, 1});
    CHECK_THAT(latent::MeanSquaredError::value(A, T), WithinRel(7.0, eps<S>()));
    CHECK_THAT(latent::MeanSquaredError::value(T, T), WithinAbs(0.0, tiny));
  }
  SECTION("BinaryCrossEntropy") {
    // -(1 log 0.5 + 0) and -(0 + 1 log(1 - 0.9)), over n = 2: (ln 2 + ln 10) / 2 = ln(20) / 2.
    const Matrix<S> A = matrix<S>(1, 2, {0.5, 0.9});
    const Matrix<S> T = matrix<S>(1, 2, {1, 0});
    CHECK_THAT(latent::BinaryCrossEntropy::value(A, T),
               WithinRel(std::log(20.0) / 2, eps<S>()));
    // Soft targets: -(0.25 ln 0.5 + 0.75 ln 0.5) = ln 2.
    CHECK_THAT(latent::BinaryCrossEntropy::value(matrix<S>(1, 1, {0.5}), matrix<S>(1, 1, {0.25})),
               WithinRel(std::log(2.0), eps<S>()));
  }
  SECTION("BinaryCrossEntropy clamps each log at -100 and never gives NaN") {
    // a = 0, t = 1: -max(log 0, -100) = 100. a = 1, t = 1: the (1 - t) log(1 - a) term is
    // 0 * (-100) = 0, not 0 * (-inf) = NaN. Two columns: (100 + 0) / 2 = 50.
    const Matrix<S> A = matrix<S>(1, 2, {0, 1});
    const Matrix<S> T = matrix<S>(1, 2, {1, 1});
    CHECK_THAT(latent::BinaryCrossEntropy::value(A, T), WithinRel(50.0, eps<S>()));
  }
  SECTION("SigmoidCrossEntropy reads its outputs as logits") {
    // a = 0, t = 1: log(1 + e^0) = ln 2. a = 2, t = 0: log(1 + e^2). Over n = 2.
    const Matrix<S> A = matrix<S>(1, 2, {0, 2});
    const Matrix<S> T = matrix<S>(1, 2, {1, 0});
    CHECK_THAT(latent::SigmoidCrossEntropy::value(A, T),
               WithinRel((std::log(2.0) + std::log(1 + std::exp(2.0))) / 2, eps<S>()));
  }
  SECTION("SoftmaxCrossEntropy") {
    // Column 0, logits (1, 2, 3), label 2: log(e + e^2 + e^3) - 3 = log(e^-2 + e^-1 + 1).
    // Column 1, logits (0, 0, 0), label 0: log 3. Over n = 2.
    const Matrix<S> A = matrix<S>(3, 2, {1, 0, 2, 0, 3, 0});
    const double expected =
        (std::log(std::exp(-2.0) + std::exp(-1.0) + 1.0) + std::log(3.0)) / 2;
    CHECK_THAT(latent::SoftmaxCrossEntropy::value(A, labels({2, 0})),
               WithinRel(expected, eps<S>()));
    // Label 0 of column 0: log(e + e^2 + e^3) - 1 = 2 + log(e^-2 + e^-1 + 1).
    const double other = (2 + std::log(std::exp(-2.0) + std::exp(-1.0) + 1.0) + std::log(3.0)) / 2;
    CHECK_THAT(latent::SoftmaxCrossEntropy::value(A, labels({0, 0})),
               WithinRel(other, eps<S>()));
  }
}

TEMPLATE_TEST_CASE("Each loss's dL/dZ is the central difference of its value",
                   "[losses]", latent::Identity, latent::Sigmoid, latent::Tanh) {
  using Act = TestType;
  const Act act{};
  const std::uint64_t seed = GENERATE(1, 2, 3);
  const Index rows = 3;
  const Index cols = GENERATE(1, 4);
  CAPTURE(seed, cols);

  SECTION("MeanSquaredError") {
    Eigen::VectorXd z = uniform_matrix<double>(rows * cols, 1, seed, -2, 2);
    const Matrix<double> T = uniform_matrix<double>(rows, cols, seed + 10, -1, 1);
    check_gradient<latent::MeanSquaredError>(act, z, rows, cols, T);
  }
  SECTION("BinaryCrossEntropy, probabilities kept in [0.2, 0.8]") {
    // Identity: a = z in [0.2, 0.8]; Sigmoid: z in [-1.3, 1.3]; Tanh: z in [0.21, 1.09].
    double low = 0.2, high = 0.8;
    if (std::is_same_v<Act, latent::Sigmoid>) low = -1.3, high = 1.3;
    if (std::is_same_v<Act, latent::Tanh>) low = 0.21, high = 1.09;
    Eigen::VectorXd z = uniform_matrix<double>(rows * cols, 1, seed, low, high);
    const Matrix<double> T = uniform_matrix<double>(rows, cols, seed + 10, 0, 1);
    check_gradient<latent::BinaryCrossEntropy>(act, z, rows, cols, T);
  }
  SECTION("SigmoidCrossEntropy") {
    Eigen::VectorXd z = uniform_matrix<double>(rows * cols, 1, seed, -3, 3);
    const Matrix<double> T = uniform_matrix<double>(rows, cols, seed + 10, 0, 1);
    check_gradient<latent::SigmoidCrossEntropy>(act, z, rows, cols, T);
  }
  SECTION("SoftmaxCrossEntropy") {
    Eigen::VectorXd z = uniform_matrix<double>(rows * cols, 1, seed, -3, 3);
    const latent::Labels L = latent::testing::random_labels(cols, static_cast<int>(rows), seed);
    check_gradient<latent::SoftmaxCrossEntropy>(act, z, rows, cols, L);
  }
}

TEMPLATE_TEST_CASE("Binary cross-entropy behind a Sigmoid equals the formula on probabilities",
                   "[losses]", float, double) {
  using S = TestType;
  const std::uint64_t seed = GENERATE(1, 2);
  const Matrix<S> Z = uniform_matrix<S>(4, 3, seed, -3, 3);
  const Matrix<S> A = Z.array().logistic().matrix();
  const Matrix<S> T = uniform_matrix<S>(4, 3, seed + 1, 0, 1);
  const double unfused = latent::BinaryCrossEntropy::value(A, T);
  const S fused = latent::BinaryCrossEntropy::value<S>(latent::Sigmoid{}, Z, A, T);
  CHECK_THAT(fused, WithinRel(unfused, std::is_same_v<S, float> ? 1e-5 : 1e-12));

  Matrix<S> dZ(4, 3);
  const S returned = latent::BinaryCrossEntropy::value_and_gradient<S>(
      latent::Sigmoid{}, Z, A, T, latent::MatrixMap<S>(dZ.data(), 4, 3));
  CHECK(returned == fused);
  // The fused gradient: (sigmoid(z) - t) / n.
  const Matrix<S> expected = ((A - T) / S(3)).eval();
  CHECK(dZ.isApprox(expected, std::is_same_v<S, float> ? S(1e-6) : S(1e-14)));
}

TEST_CASE("Binary cross-entropy behind a Sigmoid is exact for float logits far from 0",
          "[losses]") {
  // max(z, 0) - z t + log(1 + exp(-|z|)) is |z| when t is the wrong label and exp(-|z|) ~ 0
  // when it is the right one. The formula on probabilities would take log(0) = -inf where
  // sigmoid(z) rounds to 0 or 1, and give its clamp of 100 instead of 150.
  const float z = GENERATE(100.f, -100.f, 150.f, -150.f);
  const bool mismatched = GENERATE(true, false);
  const float t = (z > 0) == mismatched ? 0.f : 1.f;
  CAPTURE(z, t);
  const Matrix<float> Z = Matrix<float>::Constant(1, 1, z);
  const Matrix<float> A = Z.array().logistic().matrix();
  const Matrix<float> T = Matrix<float>::Constant(1, 1, t);

  Matrix<float> dZ(1, 1);
  const float loss = latent::BinaryCrossEntropy::value_and_gradient<float>(
      latent::Sigmoid{}, Z, A, T, latent::MatrixMap<float>(dZ.data(), 1, 1));
  REQUIRE(std::isfinite(loss));
  REQUIRE(dZ.allFinite());
  CHECK(loss == latent::BinaryCrossEntropy::value<float>(latent::Sigmoid{}, Z, A, T));
  if (mismatched) {
    CHECK(loss == std::abs(z));
    CHECK(dZ(0, 0) == (z > 0 ? 1.f : -1.f));  // (a - t) / 1 with a rounded to 0 or 1
  } else {
    CHECK_THAT(loss, WithinAbs(0.0, 1e-30));
    CHECK_THAT(dZ(0, 0), WithinAbs(0.0, 1e-30));
  }
}

TEMPLATE_TEST_CASE("Softmax cross-entropy ignores a constant added to a column", "[losses]",
                   float, double) {
  using S = TestType;
  const std::uint64_t seed = GENERATE(1, 2);
  const Matrix<S> A = uniform_matrix<S>(4, 3, seed, -2, 2);
  const latent::Labels L = latent::testing::random_labels(3, 4, seed);
  Matrix<S> shifted = A;
  shifted.col(0).array() += S(50);
  shifted.col(2).array() -= S(7);
  const double tolerance = std::is_same_v<S, float> ? 1e-5 : 1e-12;

  const double base = latent::SoftmaxCrossEntropy::value(A, L);
  CHECK_THAT(latent::SoftmaxCrossEntropy::value(shifted, L), WithinRel(base, tolerance));

  Matrix<S> dA(4, 3), dShifted(4, 3);
  latent::SoftmaxCrossEntropy::value_and_gradient<S>(latent::Identity{}, A, A, L,
                                                     latent::MatrixMap<S>(dA.data(), 4, 3));
  latent::SoftmaxCrossEntropy::value_and_gradient<S>(
      latent::Identity{}, shifted, shifted, L, latent::MatrixMap<S>(dShifted.data(), 4, 3));
  CHECK(dShifted.isApprox(dA, S(tolerance)));
  // Each column of dL/dA = (softmax - onehot) / n sums to 0.
  CHECK(dA.colwise().sum().isZero(S(tolerance)));
}

TEMPLATE_TEST_CASE("Softmax cross-entropy stays finite for logits of 1000", "[losses]", float,
                   double) {
  using S = TestType;
  // Column 0: (1000, 0, -1000), label 0: log(1 + e^-1000 + e^-2000) ~ 0.
  // Column 1: the same, label 1: 1000 + log(1 + ...) = 1000.
  // Column 2: (1000, 1000, 1000), label 2: log 3.
  const Matrix<S> A = matrix<S>(3, 3, {1000, 1000, 1000, 0, 0, 1000, -1000, -1000, 1000});
  const double values[] = {0.0, 1000.0, std::log(3.0)};
  // log 3 comes out of (log 3 + 1000) - 1000, so it is exact to the rounding of 1000 in S:
  // 6e-5 in float.
  const double absolute = std::is_same_v<S, float> ? 1e-4 : 1e-12;
  for (Index j = 0; j < 3; ++j) {
    const latent::Labels L = labels({static_cast<int>(j)});
    const S loss = latent::SoftmaxCrossEntropy::value(A.col(j), L);
    CAPTURE(j);
    CHECK_THAT(loss, WithinRel(values[j], 1e-6) || WithinAbs(values[j], absolute));
  }
  Matrix<S> dZ(3, 3);
  const S total = latent::SoftmaxCrossEntropy::value_and_gradient<S>(
      latent::Identity{}, A, A, labels({0, 1, 2}), latent::MatrixMap<S>(dZ.data(), 3, 3));
  CHECK(std::isfinite(total));
  CHECK_THAT(total, WithinRel((1000.0 + std::log(3.0)) / 3, 1e-6));
  CHECK(dZ.allFinite());
  // Column 1 puts all probability on class 0 while the label is 1: dZ = (1, -1, 0) / 3.
  CHECK_THAT(dZ(0, 1), WithinRel(1.0 / 3, 1e-6));
  CHECK_THAT(dZ(1, 1), WithinRel(-1.0 / 3, 1e-6));
}

TEMPLATE_TEST_CASE("softmax gives columns of probabilities", "[losses]", float, double) {
  using S = TestType;
  const double tolerance = std::is_same_v<S, float> ? 1e-6 : 1e-14;
  SECTION("columns sum to 1, as exp(a) / sum exp(a)") {
    const Matrix<S> logits = uniform_matrix<S>(5, 4, 3, -4, 4);
    const Matrix<S> p = latent::softmax(logits);
    REQUIRE(p.rows() == 5);
    REQUIRE(p.cols() == 4);
    for (Index j = 0; j < 4; ++j) {
      CHECK_THAT(p.col(j).sum(), WithinRel(1.0, tolerance));
      const Matrix<S> expected = logits.col(j).array().exp() / logits.col(j).array().exp().sum();
      CHECK(p.col(j).isApprox(expected, S(tolerance * 10)));
    }
  }
  SECTION("large logits give finite probabilities") {
    const Matrix<S> logits = matrix<S>(3, 1, {1000, 999, -1000});
    const Matrix<S> p = latent::softmax(logits);
    CHECK(p.allFinite());
    CHECK_THAT(p.sum(), WithinRel(1.0, tolerance));
    // e / (e + 1) and 1 / (e + 1).
    CHECK_THAT(p(0), WithinRel(std::exp(1.0) / (std::exp(1.0) + 1), 1e-5));
    CHECK_THAT(p(1), WithinRel(1 / (std::exp(1.0) + 1), 1e-5));
  }
}

TEMPLATE_TEST_CASE("Losses refuse targets they cannot take, saying why", "[losses]", float,
                   double) {
  using S = TestType;
  const std::string who = "latent::fit";
  const Matrix<S> good = uniform_matrix<S>(3, 4, 1, 0, 1);

  SECTION("targets of the wrong shape") {
    const Matrix<S> wrong = uniform_matrix<S>(2, 4, 1, 0, 1);
    const Matrix<S> short_batch = uniform_matrix<S>(3, 3, 1, 0, 1);
    // A combined matcher holds references to its parts: it is built inside each check.
#define LATENT_SHAPE_MESSAGE \
  Contains(who) && Contains("targets are 2 x 4") && Contains("model gives 3 x 4")
    CHECK_THROWS_WITH(latent::MeanSquaredError::check_target<S>(wrong, 3, 4, who),
                      LATENT_SHAPE_MESSAGE);
    CHECK_THROWS_WITH(latent::BinaryCrossEntropy::check_target<S>(wrong, 3, 4, who),
                      LATENT_SHAPE_MESSAGE);
    CHECK_THROWS_WITH(latent::SigmoidCrossEntropy::check_target<S>(wrong, 3, 4, who),
                      LATENT_SHAPE_MESSAGE);
#undef LATENT_SHAPE_MESSAGE
    CHECK_THROWS_AS(latent::MeanSquaredError::check_target<S>(short_batch, 3, 4, who),
                    std::invalid_argument);
    CHECK_NOTHROW(latent::MeanSquaredError::check_target<S>(good, 3, 4, who));
    CHECK_NOTHROW(latent::BinaryCrossEntropy::check_target<S>(good, 3, 4, who));
    CHECK_NOTHROW(latent::SigmoidCrossEntropy::check_target<S>(good, 3, 4, who));
  }
  SECTION("MeanSquaredError: NaN or infinite targets") {
    Matrix<S> bad = good;
    bad(1, 2) = GENERATE(std::numeric_limits<S>::quiet_NaN(), std::numeric_limits<S>::infinity());
    CHECK_THROWS_AS(latent::MeanSquaredError::check_target<S>(bad, 3, 4, who),
                    std::invalid_argument);
    CHECK_THROWS_WITH(latent::MeanSquaredError::check_target<S>(bad, 3, 4, who),
                      Contains(who) && Contains("NaN"));
  }
  SECTION("binary cross-entropies: targets outside [0, 1]") {
    Matrix<S> bad = good;
    bad(2, 0) = GENERATE(S(-0.1), S(1.5), std::numeric_limits<S>::quiet_NaN());
    CHECK_THROWS_WITH(latent::BinaryCrossEntropy::check_target<S>(bad, 3, 4, who),
                      Contains(who) && Contains("[0, 1]"));
    CHECK_THROWS_WITH(latent::SigmoidCrossEntropy::check_target<S>(bad, 3, 4, who),
                      Contains(who) && Contains("[0, 1]"));
    // Regression targets outside [0, 1] are fine for MSE.
    if (bad.allFinite()) CHECK_NOTHROW(latent::MeanSquaredError::check_target<S>(bad, 3, 4, who));
  }
  SECTION("SoftmaxCrossEntropy: labels out of range or of the wrong count") {
    CHECK_NOTHROW(latent::SoftmaxCrossEntropy::check_target<S>(labels({0, 2, 1}), 3, 3, who));
    CHECK_THROWS_WITH(latent::SoftmaxCrossEntropy::check_target<S>(labels({0, 3, 1}), 3, 3, who),
                      Contains(who) && Contains("label 3 of sample 1") && Contains("[0, 3)"));
    CHECK_THROWS_WITH(latent::SoftmaxCrossEntropy::check_target<S>(labels({0, 1, -1}), 3, 3, who),
                      Contains("label -1 of sample 2"));
    CHECK_THROWS_WITH(latent::SoftmaxCrossEntropy::check_target<S>(labels({0, 1}), 3, 3, who),
                      Contains(who) && Contains("2 labels for 3 samples"));
    CHECK_THROWS_AS(latent::SoftmaxCrossEntropy::check_target<S>(labels({0, 1, 2, 0}), 3, 3, who),
                    std::invalid_argument);
  }
}
