#include <latent/optim/rmsprop.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include <catch2/catch.hpp>

// Expected values are worked out by hand from the update of torch.optim.RMSprop (not centred):
//   v <- alpha v + (1 - alpha) g^2;  p <- p - lr g / (sqrt(v) + eps)            (momentum 0)
//   b <- mu b + g / (sqrt(v) + eps);  p <- p - lr b                            (momentum mu)
// Every test uses p0 = (1, -2, 0.5), g1 = (0.5, -1, 2), g2 = (1.5, 0.25, -0.5), lr = 0.01,
// alpha = 0.99, eps = 1e-8.

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

void require_close(const Eigen::VectorXd& actual, const Eigen::VectorXd& expected) {
  REQUIRE(actual.size() == expected.size());
  for (Eigen::Index i = 0; i < actual.size(); ++i) {
    INFO("component " << i);
    REQUIRE_THAT(actual(i), WithinRel(expected(i), 1e-12) || WithinAbs(0.0, 1e-15));
  }
}

Eigen::VectorXd vec(double a, double b, double c) {
  Eigen::VectorXd v(3);
  v << a, b, c;
  return v;
}

// v1 = 0.01 g1^2 = (0.0025, 0.01, 0.04), sqrt(v1) = (0.05, 0.1, 0.2):
// g1 / (sqrt(v1) + eps) is about (10, -10, 10).
const Eigen::VectorXd scaled1 = vec(0.5 / (0.05 + 1e-8), -1.0 / (0.1 + 1e-8), 2.0 / (0.2 + 1e-8));
// v2 = 0.99 v1 + 0.01 g2^2 = (0.002475 + 0.0225, 0.0099 + 0.000625, 0.0396 + 0.0025)
//    = (0.024975, 0.010525, 0.0421)
const Eigen::VectorXd scaled2 = vec(1.5 / (std::sqrt(0.024975) + 1e-8),
                                    0.25 / (std::sqrt(0.010525) + 1e-8),
                                    -0.5 / (std::sqrt(0.0421) + 1e-8));

}  // namespace

TEST_CASE("RmsProp steps match hand-computed updates", "[rmsprop]") {
  Eigen::VectorXd p = vec(1.0, -2.0, 0.5);
  latent::RmsPropOptions options;
  options.learning_rate = 0.01;
  options.alpha = 0.99;
  options.epsilon = 1e-8;

  SECTION("without momentum") {
    latent::RmsProp<double> rmsprop(options);
    rmsprop.step(p, vec(0.5, -1.0, 2.0));
    // p1 = p0 - 0.01 scaled1
    const Eigen::VectorXd p1 =
        vec(1.0 - 0.01 * scaled1(0), -2.0 - 0.01 * scaled1(1), 0.5 - 0.01 * scaled1(2));
    require_close(p, p1);
    require_close(p, vec(0.90000002, -1.90000001, 0.400000005));
    rmsprop.step(p, vec(1.5, 0.25, -0.5));
    // p2 = p1 - 0.01 scaled2, about (0.9 - 0.0949158, -1.9 - 0.0243685, 0.4 + 0.0243685)
    require_close(p, vec(p1(0) - 0.01 * scaled2(0), p1(1) - 0.01 * scaled2(1),
                         p1(2) - 0.01 * scaled2(2)));
    REQUIRE_THAT(p(0), WithinRel(0.8050842264307517, 1e-12));
  }

  SECTION("with momentum 0.5") {
    options.momentum = 0.5;
    latent::RmsProp<double> rmsprop(options);
    rmsprop.step(p, vec(0.5, -1.0, 2.0));
    // b1 = scaled1, p1 = p0 - 0.01 b1: the same first step as without momentum
    const Eigen::VectorXd p1 =
        vec(1.0 - 0.01 * scaled1(0), -2.0 - 0.01 * scaled1(1), 0.5 - 0.01 * scaled1(2));
    require_close(p, p1);
    rmsprop.step(p, vec(1.5, 0.25, -0.5));
    // b2 = 0.5 b1 + scaled2, about (5 + 9.49158, -5 + 2.43685, 5 - 2.43685); p2 = p1 - 0.01 b2
    const Eigen::VectorXd b2 = vec(0.5 * scaled1(0) + scaled2(0), 0.5 * scaled1(1) + scaled2(1),
                                   0.5 * scaled1(2) + scaled2(2));
    require_close(p, vec(p1(0) - 0.01 * b2(0), p1(1) - 0.01 * b2(1), p1(2) - 0.01 * b2(2)));
    REQUIRE_THAT(p(0), WithinRel(0.7550842364307498, 1e-12));
  }
}

TEMPLATE_TEST_CASE("RmsProp leaves a parameter whose gradient is zero", "[rmsprop]", float,
                   double) {
  // 0 / (sqrt(0) + eps) is 0, not NaN.
  latent::RmsPropOptions options;
  options.momentum = GENERATE(0.0, 0.9);
  latent::RmsProp<TestType> rmsprop(options);
  latent::Vector<TestType> p = latent::Vector<TestType>::Constant(2, TestType(3));
  latent::Vector<TestType> g(2);
  g << TestType(0), TestType(1);
  rmsprop.step(p, g);
  REQUIRE(p(0) == TestType(3));
  REQUIRE(p(1) < TestType(3));
}

TEMPLATE_TEST_CASE("RmsProp refuses bad options, naming them", "[rmsprop]", float, double) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  latent::RmsPropOptions options;

  SECTION("learning rate zero, negative or NaN") {
    options.learning_rate = GENERATE_COPY(0.0, -0.01, nan);
    REQUIRE_THROWS_AS(latent::RmsProp<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::RmsProp<TestType>(options), Contains("'learning_rate'"));
    REQUIRE_THROWS_AS(latent::RmsProp<TestType>(options.learning_rate), std::invalid_argument);
  }
  SECTION("alpha of 1 or negative") {
    options.alpha = GENERATE(1.0, -0.5);
    REQUIRE_THROWS_AS(latent::RmsProp<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::RmsProp<TestType>(options), Contains("'alpha'"));
  }
  SECTION("epsilon zero or negative") {
    options.epsilon = GENERATE(0.0, -1e-8);
    REQUIRE_THROWS_AS(latent::RmsProp<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::RmsProp<TestType>(options), Contains("'epsilon'"));
  }
  SECTION("momentum of 1, negative or NaN") {
    options.momentum = GENERATE_COPY(1.0, -0.1, nan);
    REQUIRE_THROWS_AS(latent::RmsProp<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::RmsProp<TestType>(options), Contains("'momentum'"));
  }
  SECTION("the defaults are accepted") { REQUIRE_NOTHROW(latent::RmsProp<TestType>(options)); }
}

TEMPLATE_TEST_CASE("RmsProp validates set_learning_rate", "[rmsprop]", float, double) {
  latent::RmsProp<TestType> rmsprop(0.01);
  const double rate = GENERATE(0.0, -1.0, std::numeric_limits<double>::quiet_NaN());
  REQUIRE_THROWS_AS(rmsprop.set_learning_rate(rate), std::invalid_argument);
  REQUIRE_THROWS_WITH(rmsprop.set_learning_rate(rate), Contains("'learning_rate'"));
  REQUIRE(rmsprop.learning_rate() == 0.01);
  rmsprop.set_learning_rate(0.02);
  REQUIRE(rmsprop.learning_rate() == 0.02);
}

TEMPLATE_TEST_CASE("RmsProp refuses mismatched sizes, and another model's size until reset",
                   "[rmsprop]", float, double) {
  latent::RmsPropOptions options;
  options.learning_rate = 0.01;
  options.momentum = GENERATE(0.0, 0.5);
  latent::RmsProp<TestType> rmsprop(options);
  latent::Vector<TestType> p = latent::Vector<TestType>::Ones(3);

  SECTION("mismatched parameters and gradients") {
    REQUIRE_THROWS_AS(rmsprop.step(p, latent::Vector<TestType>::Ones(4)), std::invalid_argument);
    REQUIRE((p.array() == TestType(1)).all());
  }
  SECTION("a model of another size") {
    rmsprop.step(p, latent::Vector<TestType>::Ones(3));
    latent::Vector<TestType> big = latent::Vector<TestType>::Zero(4);
    const latent::Vector<TestType> g = latent::Vector<TestType>::Constant(4, TestType(2));
    REQUIRE_THROWS_AS(rmsprop.step(big, g), std::invalid_argument);
    REQUIRE_THROWS_WITH(rmsprop.step(big, g), Contains("reset()"));
    REQUIRE((big.array() == TestType(0)).all());
    rmsprop.reset();
    rmsprop.step(big, g);
    // Fresh state: v = 0.01 * 4, move = 0.01 * 2 / (0.2 + eps), about 0.1.
    for (Eigen::Index i = 0; i < 4; ++i)
      REQUIRE_THAT(static_cast<double>(big(i)), WithinRel(-0.1, 1e-5));
  }
}
