#include <latent/optim/adagrad.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include <catch2/catch.hpp>

// Expected values are worked out by hand from the update of torch.optim.Adagrad (Duchi, Hazan
// and Singer, 2011): G <- G + g^2, p <- p - lr g / (sqrt(G) + eps), G starting at
// initial_accumulator. Every test uses p0 = (1, -2, 0.5), g1 = (0.5, -1, 2),
// g2 = (1.5, 0.25, -0.5), g3 = (-1, 0, 1), lr = 0.1, eps = 1e-10.

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

}  // namespace

TEST_CASE("AdaGrad steps match hand-computed updates", "[adagrad]") {
  Eigen::VectorXd p = vec(1.0, -2.0, 0.5);
  latent::AdaGradOptions options;
  options.learning_rate = 0.1;
  options.epsilon = 1e-10;

  SECTION("with an initial accumulator of 0.1") {
    options.initial_accumulator = 0.1;
    latent::AdaGrad<double> adagrad(options);
    adagrad.step(p, vec(0.5, -1.0, 2.0));
    // G1 = 0.1 + g1^2 = (0.35, 1.1, 4.1)
    const Eigen::VectorXd p1 = vec(1.0 - 0.1 * 0.5 / (std::sqrt(0.35) + 1e-10),
                                   -2.0 - 0.1 * -1.0 / (std::sqrt(1.1) + 1e-10),
                                   0.5 - 0.1 * 2.0 / (std::sqrt(4.1) + 1e-10));
    require_close(p, p1);
    require_close(p, vec(0.9154845745414341, -1.9046537410845317, 0.40122704033991907));
    adagrad.step(p, vec(1.5, 0.25, -0.5));
    // G2 = G1 + g2^2 = (0.35 + 2.25, 1.1 + 0.0625, 4.1 + 0.25) = (2.6, 1.1625, 4.35)
    const Eigen::VectorXd p2 = vec(p1(0) - 0.1 * 1.5 / (std::sqrt(2.6) + 1e-10),
                                   p1(1) - 0.1 * 0.25 / (std::sqrt(1.1625) + 1e-10),
                                   p1(2) - 0.1 * -0.5 / (std::sqrt(4.35) + 1e-10));
    require_close(p, p2);
    adagrad.step(p, vec(-1.0, 0.0, 1.0));
    // G3 = G2 + g3^2 = (3.6, 1.1625, 5.35); the middle parameter has a zero gradient and stays
    require_close(p, vec(p2(0) + 0.1 / (std::sqrt(3.6) + 1e-10), p2(1),
                         p2(2) - 0.1 / (std::sqrt(5.35) + 1e-10)));
    require_close(p, vec(0.8751631512719922, -1.9278406858703896, 0.38196643529819635));
  }

  SECTION("with no initial accumulator the first step is lr * sign(g)") {
    latent::AdaGrad<double> adagrad(options);
    adagrad.step(p, vec(0.5, -1.0, 2.0));
    // G1 = g1^2 = (0.25, 1, 4): the move is 0.1 g / (|g| + 1e-10), about 0.1 sign(g)
    const Eigen::VectorXd p1 = vec(1.0 - 0.1 * 0.5 / (0.5 + 1e-10),
                                   -2.0 + 0.1 * 1.0 / (1.0 + 1e-10),
                                   0.5 - 0.1 * 2.0 / (2.0 + 1e-10));
    require_close(p, p1);
    adagrad.step(p, vec(0.5, -1.0, 2.0));
    // G2 = 2 g1^2 = (0.5, 2, 8): the move is about 0.1 / sqrt(2) sign(g)
    require_close(p, vec(p1(0) - 0.1 * 0.5 / (std::sqrt(0.5) + 1e-10),
                         p1(1) + 0.1 * 1.0 / (std::sqrt(2.0) + 1e-10),
                         p1(2) - 0.1 * 2.0 / (std::sqrt(8.0) + 1e-10)));
    REQUIRE_THAT(p(0), WithinRel(0.9 - 0.1 / std::sqrt(2.0), 1e-8));
  }
}

TEMPLATE_TEST_CASE("AdaGrad refuses bad options, naming them", "[adagrad]", float, double) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  latent::AdaGradOptions options;

  SECTION("learning rate zero, negative or NaN") {
    options.learning_rate = GENERATE_COPY(0.0, -0.01, nan);
    REQUIRE_THROWS_AS(latent::AdaGrad<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::AdaGrad<TestType>(options), Contains("'learning_rate'"));
    REQUIRE_THROWS_AS(latent::AdaGrad<TestType>(options.learning_rate), std::invalid_argument);
  }
  SECTION("epsilon zero or negative") {
    options.epsilon = GENERATE(0.0, -1e-10);
    REQUIRE_THROWS_AS(latent::AdaGrad<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::AdaGrad<TestType>(options), Contains("'epsilon'"));
  }
  SECTION("negative or NaN initial accumulator") {
    options.initial_accumulator = GENERATE_COPY(-0.1, nan);
    REQUIRE_THROWS_AS(latent::AdaGrad<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::AdaGrad<TestType>(options), Contains("'initial_accumulator'"));
  }
  SECTION("the defaults are accepted") { REQUIRE_NOTHROW(latent::AdaGrad<TestType>(options)); }
}

TEMPLATE_TEST_CASE("AdaGrad validates set_learning_rate", "[adagrad]", float, double) {
  latent::AdaGrad<TestType> adagrad(0.01);
  const double rate = GENERATE(0.0, -1.0, std::numeric_limits<double>::quiet_NaN());
  REQUIRE_THROWS_AS(adagrad.set_learning_rate(rate), std::invalid_argument);
  REQUIRE_THROWS_WITH(adagrad.set_learning_rate(rate), Contains("'learning_rate'"));
  REQUIRE(adagrad.learning_rate() == 0.01);
  adagrad.set_learning_rate(0.03);
  REQUIRE(adagrad.learning_rate() == 0.03);
}

TEMPLATE_TEST_CASE("AdaGrad refuses mismatched sizes, and another model's size until reset",
                   "[adagrad]", float, double) {
  latent::AdaGradOptions options;
  options.learning_rate = 0.1;
  options.initial_accumulator = 0.5;
  latent::AdaGrad<TestType> adagrad(options);
  latent::Vector<TestType> p = latent::Vector<TestType>::Ones(3);

  SECTION("mismatched parameters and gradients") {
    REQUIRE_THROWS_AS(adagrad.step(p, latent::Vector<TestType>::Ones(2)), std::invalid_argument);
    REQUIRE((p.array() == TestType(1)).all());
  }
  SECTION("a model of another size") {
    adagrad.step(p, latent::Vector<TestType>::Ones(3));
    latent::Vector<TestType> big = latent::Vector<TestType>::Zero(4);
    const latent::Vector<TestType> g = latent::Vector<TestType>::Constant(4, TestType(2));
    REQUIRE_THROWS_AS(adagrad.step(big, g), std::invalid_argument);
    REQUIRE_THROWS_WITH(adagrad.step(big, g), Contains("reset()"));
    adagrad.reset();
    adagrad.step(big, g);
    // Fresh state, starting again from the initial accumulator: G = 0.5 + 4,
    // move = 0.1 * 2 / sqrt(4.5).
    for (Eigen::Index i = 0; i < 4; ++i)
      REQUIRE_THAT(static_cast<double>(big(i)), WithinRel(-0.2 / std::sqrt(4.5), 1e-5));
  }
}
