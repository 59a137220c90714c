#include <latent/core/init.hpp>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

// Each initialiser against its definition: variance (within 5% on 120000 draws), uniform or
// normal shape, limits, determinism, and the fans it refuses.

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using latent::Index;
using latent::Init;

template <class S>
using Matrix = latent::Matrix<S>;

bool is_uniform(Init init) { return init == Init::glorot_uniform || init == Init::he_uniform; }

/// The variance each initialiser promises for a layer with these fans.
double target_variance(Init init, Index fan_in, Index fan_out) {
  const double in = static_cast<double>(fan_in);
  const double sum = static_cast<double>(fan_in + fan_out);
  switch (init) {
    case Init::glorot_uniform:
    case Init::glorot_normal: return 2.0 / sum;
    case Init::he_uniform:
    case Init::he_normal: return 2.0 / in;
  }
  return 0.0;
}

}  // namespace

TEMPLATE_TEST_CASE("initialize gives each Init its variance and shape", "[init]", float,
                   double) {
  using S = TestType;
  const Init init =
      GENERATE(Init::glorot_uniform, Init::glorot_normal, Init::he_uniform, Init::he_normal);
  // A layer with 300 inputs and 400 outputs: W is 400 x 300.
  const Index fan_in = 300, fan_out = 400;
  Matrix<S> W(fan_out, fan_in);
  latent::Rng rng(2024);
  latent::initialize(init, W, fan_in, fan_out, rng);

  const Eigen::ArrayXd w = W.template cast<double>().reshaped().array();
  const double mean = w.mean();
  const double variance = (w - mean).square().sum() / static_cast<double>(w.size() - 1);
  const double kurtosis = (w - mean).pow(4).mean() / (variance * variance);
  const double target = target_variance(init, fan_in, fan_out);
  CAPTURE(latent::to_string(init), mean, variance, target, kurtosis);

  CHECK_THAT(variance, WithinRel(target, 0.05));
  // The standard error of the mean is sqrt(target / 120000) = 0.003 sqrt(target).
  CHECK_THAT(mean, WithinAbs(0.0, 0.02 * std::sqrt(target)));
  if (is_uniform(init)) {
    // U(-l, l) has variance l^2 / 3 and kurtosis 1.8.
    const double limit = std::sqrt(3.0 * target);
    CHECK(W.cwiseAbs().maxCoeff() <= S(limit));
    CHECK(W.cwiseAbs().maxCoeff() > S(0.99 * limit));
    CHECK_THAT(kurtosis, WithinAbs(1.8, 0.05));
  } else {
    // A normal has kurtosis 3 and tails beyond any limit: 56 of 120000 draws expected beyond
    // 3.5 standard deviations, where a uniform of the same variance stops at 1.73.
    CHECK_THAT(kurtosis, WithinAbs(3.0, 0.1));
    CHECK(W.cwiseAbs().maxCoeff() > S(3.5 * std::sqrt(target)));
  }
}

TEST_CASE("initialize draws the same numbers from the same engine state", "[init]") {
  const Init init =
      GENERATE(Init::glorot_uniform, Init::glorot_normal, Init::he_uniform, Init::he_normal);
  CAPTURE(latent::to_string(init));
  Matrix<double> a(6, 5), b(6, 5), c(6, 5);
  latent::Rng ra(3), rb(3), rc(4);
  latent::initialize(init, a, 5, 6, ra);
  latent::initialize(init, b, 5, 6, rb);
  latent::initialize(init, c, 5, 6, rc);
  CHECK(a == b);
  CHECK((a.array() != c.array()).all());

  SECTION("and goes on from where the engine is") {
    latent::initialize(init, b, 5, 6, rb);
    CHECK((a.array() != b.array()).all());
  }
}

TEST_CASE("initialize is pinned for Rng(42)", "[init]") {
  // The first uniform01 of Rng(42) is 0x1.82a3befaddcbcp-1 (core/random_test.cpp): glorot
  // uniform with fans 1 and 1 has limit sqrt(6 / 2) = sqrt(3), so it draws -l + 2 l u.
  Matrix<double> W(1, 1);
  latent::Rng rng(42);
  latent::initialize(Init::glorot_uniform, W, 1, 1, rng);
  const double limit = std::sqrt(3.0);
  CHECK_THAT(W(0, 0), WithinRel(-limit + 2 * limit * 0x1.82a3befaddcbcp-1, 1e-15));

  // he_normal: N(0, 2 / 3) from the first Box-Muller pair of Rng(42).
  Matrix<double> V(2, 1);
  latent::Rng again(42);
  latent::initialize(Init::he_normal, V, 3, 2, again);
  CHECK_THAT(V(0), WithinRel(std::sqrt(2.0 / 3.0) * -1.0771745442782885, 1e-12));
  CHECK_THAT(V(1), WithinRel(std::sqrt(2.0 / 3.0) * -1.2860634502166481, 1e-12));
}

TEST_CASE("initialize refuses fans that are not positive", "[init]") {
  Matrix<float> W(3, 2);
  latent::Rng rng(1);
  const Init init =
      GENERATE(Init::glorot_uniform, Init::glorot_normal, Init::he_uniform, Init::he_normal);
  CHECK_THROWS_AS(latent::initialize(init, W, 0, 3, rng), std::invalid_argument);
  CHECK_THROWS_AS(latent::initialize(init, W, 2, 0, rng), std::invalid_argument);
  CHECK_THROWS_AS(latent::initialize(init, W, -2, 3, rng), std::invalid_argument);
  CHECK_THROWS_WITH(latent::initialize(init, W, 0, 3, rng),
                    Contains("fan_in = 0") && Contains("fan_out = 3"));
  CHECK_THROWS_WITH(latent::initialize(init, W, 2, -1, rng), Contains("fan_out = -1"));
  CHECK_NOTHROW(latent::initialize(init, W, 2, 3, rng));
}

TEST_CASE("Init values have names", "[init]") {
  CHECK(std::string(latent::to_string(Init::glorot_uniform)) == "glorot_uniform");
  CHECK(std::string(latent::to_string(Init::glorot_normal)) == "glorot_normal");
  CHECK(std::string(latent::to_string(Init::he_uniform)) == "he_uniform");
  CHECK(std::string(latent::to_string(Init::he_normal)) == "he_normal");
}
