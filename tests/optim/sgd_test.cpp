#include <latent/optim/sgd.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include <catch2/catch.hpp>

// Expected values are worked out by hand from the update rules of PyTorch's torch.optim.SGD
// (dampening 0): v <- mu v + g, p <- p - lr v; Nesterov: p <- p - lr (g + mu v). Every test
// uses p0 = (1, -2, 0.5), g1 = (0.5, -1, 2), g2 = (1.5, 0.25, -0.5), g3 = (-1, 0, 1), lr = 0.1.

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

TEST_CASE("Sgd steps match hand-computed updates", "[sgd]") {
  Eigen::VectorXd p = vec(1.0, -2.0, 0.5);
  const Eigen::VectorXd g1 = vec(0.5, -1.0, 2.0);
  const Eigen::VectorXd g2 = vec(1.5, 0.25, -0.5);
  const Eigen::VectorXd g3 = vec(-1.0, 0.0, 1.0);

  SECTION("plain gradient descent") {
    latent::Sgd<double> sgd(0.1);
    sgd.step(p, g1);
    // p1 = p0 - 0.1 g1
    require_close(p, vec(1.0 - 0.1 * 0.5, -2.0 + 0.1 * 1.0, 0.5 - 0.1 * 2.0));  // (0.95, -1.9, 0.3)
    sgd.step(p, g2);
    // p2 = p1 - 0.1 g2
    require_close(p, vec(0.95 - 0.15, -1.9 - 0.025, 0.3 + 0.05));  // (0.8, -1.925, 0.35)
  }

  SECTION("heavy-ball momentum") {
    latent::SgdOptions options;
    options.learning_rate = 0.1;
    options.momentum = 0.9;
    latent::Sgd<double> sgd(options);
    sgd.step(p, g1);
    // v1 = g1 = (0.5, -1, 2); p1 = p0 - 0.1 v1
    require_close(p, vec(0.95, -1.9, 0.3));
    sgd.step(p, g2);
    // v2 = 0.9 v1 + g2 = (0.45 + 1.5, -0.9 + 0.25, 1.8 - 0.5) = (1.95, -0.65, 1.3)
    // p2 = p1 - 0.1 v2 = (0.95 - 0.195, -1.9 + 0.065, 0.3 - 0.13)
    require_close(p, vec(0.755, -1.835, 0.17));
    sgd.step(p, g3);
    // v3 = 0.9 v2 + g3 = (1.755 - 1, -0.585 + 0, 1.17 + 1) = (0.755, -0.585, 2.17)
    // p3 = p2 - 0.1 v3 = (0.755 - 0.0755, -1.835 + 0.0585, 0.17 - 0.217)
    require_close(p, vec(0.6795, -1.7765, -0.047));
  }

  SECTION("Nesterov momentum") {
    latent::SgdOptions options;
    options.learning_rate = 0.1;
    options.momentum = 0.9;
    options.nesterov = true;
    latent::Sgd<double> sgd(options);
    sgd.step(p, g1);
    // v1 = g1; p1 = p0 - 0.1 (g1 + 0.9 v1) = p0 - 0.1 (0.95, -1.9, 3.8)
    require_close(p, vec(0.905, -1.81, 0.12));
    sgd.step(p, g2);
    // v2 = (1.95, -0.65, 1.3); g2 + 0.9 v2 = (1.5 + 1.755, 0.25 - 0.585, -0.5 + 1.17)
    //                                      = (3.255, -0.335, 0.67)
    // p2 = p1 - 0.1 (3.255, -0.335, 0.67) = (0.905 - 0.3255, -1.81 + 0.0335, 0.12 - 0.067)
    require_close(p, vec(0.5795, -1.7765, 0.053));
    sgd.step(p, g3);
    // v3 = (0.755, -0.585, 2.17); g3 + 0.9 v3 = (-1 + 0.6795, -0.5265, 1 + 1.953)
    //                                         = (-0.3205, -0.5265, 2.953)
    // p3 = p2 - 0.1 (-0.3205, -0.5265, 2.953)
    //    = (0.5795 + 0.03205, -1.7765 + 0.05265, 0.053 - 0.2953)
    require_close(p, vec(0.61155, -1.72385, -0.2423));
  }
}

TEMPLATE_TEST_CASE("Sgd refuses bad options, naming them", "[sgd]", float, double) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();

  SECTION("learning rate zero, negative, NaN or infinite") {
    const double rate = GENERATE_COPY(0.0, -0.1, nan, inf);
    latent::SgdOptions options;
    options.learning_rate = rate;
    REQUIRE_THROWS_AS(latent::Sgd<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::Sgd<TestType>(options), Contains("'learning_rate'"));
    REQUIRE_THROWS_AS(latent::Sgd<TestType>(rate), std::invalid_argument);
  }
  SECTION("momentum 1, above 1, negative or NaN") {
    latent::SgdOptions options;
    options.momentum = GENERATE_COPY(1.0, 1.5, -0.1, nan);
    REQUIRE_THROWS_AS(latent::Sgd<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::Sgd<TestType>(options), Contains("'momentum'"));
  }
  SECTION("Nesterov without momentum") {
    latent::SgdOptions options;
    options.nesterov = true;
    REQUIRE_THROWS_AS(latent::Sgd<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::Sgd<TestType>(options), Contains("'nesterov'"));
  }
  SECTION("the defaults and a valid Nesterov setting are accepted") {
    latent::SgdOptions options;
    REQUIRE_NOTHROW(latent::Sgd<TestType>(options));
    options.momentum = 0.9;
    options.nesterov = true;
    REQUIRE_NOTHROW(latent::Sgd<TestType>(options));
  }
}

TEMPLATE_TEST_CASE("Sgd validates set_learning_rate and then steps with the new rate", "[sgd]",
                   float, double) {
  latent::Sgd<TestType> sgd(0.1);
  const double rate = GENERATE(0.0, -1.0, std::numeric_limits<double>::quiet_NaN());
  REQUIRE_THROWS_AS(sgd.set_learning_rate(rate), std::invalid_argument);
  REQUIRE_THROWS_WITH(sgd.set_learning_rate(rate), Contains("'learning_rate'"));
  REQUIRE(sgd.learning_rate() == 0.1);  // a refused rate leaves the old one

  sgd.set_learning_rate(0.5);
  REQUIRE(sgd.learning_rate() == 0.5);
  latent::Vector<TestType> p = latent::Vector<TestType>::Constant(2, TestType(1));
  const latent::Vector<TestType> g = latent::Vector<TestType>::Constant(2, TestType(1));
  sgd.step(p, g);
  REQUIRE(p(0) == TestType(0.5));  // 1 - 0.5 * 1
  REQUIRE(p(1) == TestType(0.5));
}

TEMPLATE_TEST_CASE("Sgd refuses a step with mismatched sizes and leaves the parameters",
                   "[sgd]", float, double) {
  latent::SgdOptions options;
  options.momentum = GENERATE(0.0, 0.9);
  latent::Sgd<TestType> sgd(options);
  latent::Vector<TestType> p = latent::Vector<TestType>::Constant(3, TestType(1));
  const latent::Vector<TestType> g = latent::Vector<TestType>::Constant(2, TestType(1));
  REQUIRE_THROWS_AS(sgd.step(p, g), std::invalid_argument);
  REQUIRE((p.array() == TestType(1)).all());
}

TEMPLATE_TEST_CASE("Sgd with momentum refuses a model of another size until reset", "[sgd]",
                   float, double) {
  latent::SgdOptions options;
  options.learning_rate = 0.1;
  options.momentum = 0.9;
  latent::Sgd<TestType> sgd(options);
  latent::Vector<TestType> small = latent::Vector<TestType>::Ones(3);
  sgd.step(small, latent::Vector<TestType>::Ones(3));

  latent::Vector<TestType> big = latent::Vector<TestType>::Ones(4);
  const latent::Vector<TestType> g = latent::Vector<TestType>::Ones(4);
  REQUIRE_THROWS_AS(sgd.step(big, g), std::invalid_argument);
  REQUIRE_THROWS_WITH(sgd.step(big, g), Contains("reset()"));
  REQUIRE((big.array() == TestType(1)).all());

  sgd.reset();
  sgd.step(big, g);
  // A fresh velocity: v = g, p = 1 - 0.1 * 1 (a stale velocity would have added 0.9 * 1).
  for (Eigen::Index i = 0; i < 4; ++i)
    REQUIRE_THAT(static_cast<double>(big(i)), WithinRel(0.9, 1e-6));
}
