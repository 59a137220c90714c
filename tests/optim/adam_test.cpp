#include <latent/optim/adam.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include <catch2/catch.hpp>

// Expected values are worked out by hand from Kingma and Ba (2015), Algorithm 1:
//   m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,
//   p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps),
// and for AdamW (Loshchilov and Hutter, 2019, as torch.optim.AdamW) p <- p (1 - lr lambda) first.
// Every test uses p0 = (1, -2, 0.5), g1 = (0.5, -1, 2), g2 = (1.5, 0.25, -0.5), lr = 0.1,
// b1 = 0.9, b2 = 0.999, eps = 1e-8.

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

latent::AdamOptions options_with_rate(double rate) {
  latent::AdamOptions options;
  options.learning_rate = rate;
  return options;
}

// The Adam moves of the two steps, by hand:
// t = 1: m1 = 0.1 g1 = (0.05, -0.1, 0.2), v1 = 0.001 g1^2 = (0.00025, 0.001, 0.004);
//        m-hat = m1 / 0.1 = g1, v-hat = v1 / 0.001 = g1^2, so the move is 0.1 g / (|g| + 1e-8).
const Eigen::VectorXd move1 = vec(0.1 * 0.5 / (0.5 + 1e-8), 0.1 * -1.0 / (1.0 + 1e-8),
                                  0.1 * 2.0 / (2.0 + 1e-8));
// t = 2: m2 = 0.9 m1 + 0.1 g2 = (0.045 + 0.15, -0.09 + 0.025, 0.18 - 0.05) = (0.195, -0.065, 0.13)
//        v2 = 0.999 v1 + 0.001 g2^2
//           = (0.00024975 + 0.00225, 0.000999 + 0.0000625, 0.003996 + 0.00025)
//           = (0.00249975, 0.0010615, 0.004246)
//        corrections 1 - 0.9^2 = 0.19 and 1 - 0.999^2 = 0.001999.
const Eigen::VectorXd move2 =
    vec(0.1 * (0.195 / 0.19) / (std::sqrt(0.00249975 / 0.001999) + 1e-8),
        0.1 * (-0.065 / 0.19) / (std::sqrt(0.0010615 / 0.001999) + 1e-8),
        0.1 * (0.13 / 0.19) / (std::sqrt(0.004246 / 0.001999) + 1e-8));

}  // namespace

TEST_CASE("Adam steps match hand-computed updates", "[adam]") {
  Eigen::VectorXd p = vec(1.0, -2.0, 0.5);
  latent::Adam<double> adam(options_with_rate(0.1));
  REQUIRE(adam.steps() == 0);

  adam.step(p, vec(0.5, -1.0, 2.0));
  REQUIRE(adam.steps() == 1);
  require_close(p, vec(1.0 - move1(0), -2.0 - move1(1), 0.5 - move1(2)));
  // about (0.9, -1.9, 0.4)
  require_close(p, vec(0.900000002, -1.900000001, 0.4000000005));

  adam.step(p, vec(1.5, 0.25, -0.5));
  REQUIRE(adam.steps() == 2);
  require_close(p, vec(1.0 - move1(0) - move2(0), -2.0 - move1(1) - move2(1),
                       0.5 - move1(2) - move2(2)));
  // about (0.80822189, -1.85305318, 0.35305318)
  REQUIRE_THAT(p(0), WithinRel(0.8082218909226944, 1e-12));
}

TEMPLATE_TEST_CASE("Adam's first step is lr * sign(g) whatever the gradient's scale", "[adam]",
                   float, double) {
  // With bias correction, m-hat = g and v-hat = g^2 at t = 1: the move is lr g / (|g| + eps).
  const double scale = GENERATE(1e-3, 1.0, 1e3);
  latent::Adam<TestType> adam(options_with_rate(0.01));
  latent::Vector<TestType> p(3);
  p << TestType(1), TestType(-2), TestType(0.5);
  const latent::Vector<TestType> p0 = p;
  latent::Vector<TestType> g(3);
  g << TestType(scale), TestType(-scale * 3), TestType(scale / 7);
  adam.step(p, g);
  const double tolerance = 1e-4;  // eps / |g| <= 7e-5, and float's rounding of p - p0
  INFO("scale " << scale);
  REQUIRE_THAT(static_cast<double>(p(0) - p0(0)), WithinRel(-0.01, tolerance));
  REQUIRE_THAT(static_cast<double>(p(1) - p0(1)), WithinRel(0.01, tolerance));
  REQUIRE_THAT(static_cast<double>(p(2) - p0(2)), WithinRel(-0.01, tolerance));
}

TEST_CASE("Adam's bias corrections advance once per step over the whole vector", "[adam]") {
  // 3000 parameters span several of the optimizer's internal blocks; every one of them must
  // see t = 1 on the first step (a per-block count would give later blocks t = 2, 3).
  latent::Adam<double> adam(options_with_rate(0.1));
  Eigen::VectorXd p = Eigen::VectorXd::Zero(3000);
  const Eigen::VectorXd g = Eigen::VectorXd::Constant(3000, 2.0);
  adam.step(p, g);
  const Eigen::VectorXd expected = Eigen::VectorXd::Constant(3000, -0.1 * 2.0 / (2.0 + 1e-8));
  REQUIRE(p.isApprox(expected, 1e-12));
}

TEST_CASE("AdamW decays the parameters by (1 - lr * lambda) before the Adam step",
          "[adam][adamw]") {
  latent::AdamWOptions options;
  options.learning_rate = 0.1;
  options.weight_decay = 0.1;  // keep = 1 - 0.1 * 0.1 = 0.99

  SECTION("hand-computed steps") {
    latent::AdamW<double> adamw(options);
    Eigen::VectorXd p = vec(1.0, -2.0, 0.5);
    adamw.step(p, vec(0.5, -1.0, 2.0));
    // p1 = 0.99 p0 - move1
    const Eigen::VectorXd p1 = vec(0.99 * 1.0 - move1(0), 0.99 * -2.0 - move1(1),
                                   0.99 * 0.5 - move1(2));
    require_close(p, p1);
    require_close(p, vec(0.890000002, -1.880000001, 0.3950000005));
    adamw.step(p, vec(1.5, 0.25, -0.5));
    // The moments do not depend on p: the Adam move of step 2 is Adam's.
    require_close(p, vec(0.99 * p1(0) - move2(0), 0.99 * p1(1) - move2(1),
                         0.99 * p1(2) - move2(2)));
  }

  SECTION("a zero gradient leaves only the decay, biases included") {
    latent::AdamW<double> adamw(options);
    Eigen::VectorXd p = vec(1.0, -2.0, 0.5);
    adamw.step(p, Eigen::VectorXd::Zero(3));
    require_close(p, vec(0.99, -1.98, 0.495));
    adamw.step(p, Eigen::VectorXd::Zero(3));
    require_close(p, vec(0.99 * 0.99, -1.98 * 0.99, 0.495 * 0.99));
  }

  SECTION("the decay uses the current learning rate") {
    latent::AdamW<double> adamw(options);
    adamw.set_learning_rate(0.5);  // keep = 1 - 0.5 * 0.1 = 0.95
    Eigen::VectorXd p = vec(1.0, -2.0, 0.5);
    adamw.step(p, Eigen::VectorXd::Zero(3));
    require_close(p, vec(0.95, -1.9, 0.475));
  }

  SECTION("AdamW(learning_rate) and AdamWOptions{} decay by the same default lambda 0.01") {
    REQUIRE(latent::AdamWOptions{}.weight_decay == 0.01);
    latent::AdamW<double> adamw(0.1);  // keep = 1 - 0.1 * 0.01 = 0.999
    REQUIRE(adamw.weight_decay() == 0.01);
    Eigen::VectorXd p = vec(1.0, -2.0, 0.5);
    adamw.step(p, Eigen::VectorXd::Zero(3));
    require_close(p, vec(0.999, -1.998, 0.4995));
  }

  SECTION("Adam itself does not decay") {
    latent::Adam<double> adam(options_with_rate(0.1));
    Eigen::VectorXd p = vec(1.0, -2.0, 0.5);
    adam.step(p, Eigen::VectorXd::Zero(3));
    require_close(p, vec(1.0, -2.0, 0.5));
  }
}

TEMPLATE_TEST_CASE("Adam and AdamW refuse bad options, naming them", "[adam][adamw]", float,
                   double) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  latent::AdamWOptions options;  // Adam takes its AdamOptions part

  SECTION("learning rate zero, negative or NaN") {
    options.learning_rate = GENERATE_COPY(0.0, -1e-3, nan);
    REQUIRE_THROWS_AS(latent::Adam<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::Adam<TestType>(options), Contains("'learning_rate'"));
    REQUIRE_THROWS_WITH(latent::AdamW<TestType>(options), Contains("'learning_rate'"));
    REQUIRE_THROWS_WITH(latent::AdamW<TestType>(options), Contains("AdamW"));
    REQUIRE_THROWS_AS(latent::Adam<TestType>(options.learning_rate), std::invalid_argument);
    REQUIRE_THROWS_AS(latent::AdamW<TestType>(options.learning_rate), std::invalid_argument);
  }
  SECTION("beta1 of 1, above 1, negative or NaN") {
    options.beta1 = GENERATE_COPY(1.0, 1.2, -0.1, nan);
    REQUIRE_THROWS_AS(latent::Adam<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::Adam<TestType>(options), Contains("'beta1'"));
    REQUIRE_THROWS_WITH(latent::AdamW<TestType>(options), Contains("'beta1'"));
  }
  SECTION("beta2 of 1 or negative") {
    options.beta2 = GENERATE(1.0, -0.5);
    REQUIRE_THROWS_AS(latent::Adam<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::Adam<TestType>(options), Contains("'beta2'"));
  }
  SECTION("epsilon zero, negative or NaN") {
    options.epsilon = GENERATE_COPY(0.0, -1e-8, nan);
    REQUIRE_THROWS_AS(latent::Adam<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::Adam<TestType>(options), Contains("'epsilon'"));
  }
  SECTION("negative or NaN weight decay") {
    options.weight_decay = GENERATE_COPY(-0.01, nan);
    REQUIRE_THROWS_AS(latent::AdamW<TestType>(options), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::AdamW<TestType>(options), Contains("'weight_decay'"));
  }
  SECTION("the defaults are accepted") {
    REQUIRE_NOTHROW(latent::Adam<TestType>(options));
    REQUIRE_NOTHROW(latent::AdamW<TestType>(options));
    REQUIRE_NOTHROW(latent::AdamW<TestType>());
  }
}

TEMPLATE_TEST_CASE("Adam validates set_learning_rate", "[adam][adamw]", float, double) {
  latent::Adam<TestType> adam(options_with_rate(0.1));
  latent::AdamW<TestType> adamw(0.1);
  const double rate = GENERATE(0.0, -1.0, std::numeric_limits<double>::quiet_NaN(),
                               std::numeric_limits<double>::infinity());
  REQUIRE_THROWS_AS(adam.set_learning_rate(rate), std::invalid_argument);
  REQUIRE_THROWS_WITH(adam.set_learning_rate(rate), Contains("'learning_rate'"));
  REQUIRE_THROWS_WITH(adamw.set_learning_rate(rate), Contains("AdamW"));
  REQUIRE(adam.learning_rate() == 0.1);
  REQUIRE(adamw.learning_rate() == 0.1);
  adam.set_learning_rate(0.25);
  REQUIRE(adam.learning_rate() == 0.25);

  // The first step moves by the new rate.
  latent::Vector<TestType> p = latent::Vector<TestType>::Zero(2);
  adam.step(p, latent::Vector<TestType>::Constant(2, TestType(3)));
  REQUIRE_THAT(static_cast<double>(p(0)), WithinRel(-0.25, 1e-5));
}

TEMPLATE_TEST_CASE("Adam refuses a step with mismatched sizes and leaves its state", "[adam]",
                   float, double) {
  latent::Adam<TestType> adam(options_with_rate(0.1));
  latent::Vector<TestType> p = latent::Vector<TestType>::Ones(3);
  const latent::Vector<TestType> short_gradient = latent::Vector<TestType>::Ones(2);
  REQUIRE_THROWS_AS(adam.step(p, short_gradient), std::invalid_argument);
  REQUIRE((p.array() == TestType(1)).all());
  REQUIRE(adam.steps() == 0);
}

TEMPLATE_TEST_CASE("Adam and AdamW refuse a model of another size until reset", "[adam][adamw]",
                   float, double) {
  latent::AdamWOptions options;
  options.learning_rate = 0.1;
  options.weight_decay = 0.0;  // a plain Adam step
  latent::Adam<TestType> adam(options);
  latent::AdamW<TestType> adamw(options);
  for (latent::Adam<TestType>* optimizer : {&adam, static_cast<latent::Adam<TestType>*>(&adamw)}) {
    latent::Vector<TestType> small = latent::Vector<TestType>::Ones(3);
    optimizer->step(small, latent::Vector<TestType>::Ones(3));
    optimizer->step(small, latent::Vector<TestType>::Ones(3));

    latent::Vector<TestType> big = latent::Vector<TestType>::Zero(5);
    const latent::Vector<TestType> g = latent::Vector<TestType>::Constant(5, TestType(-4));
    REQUIRE_THROWS_AS(optimizer->step(big, g), std::invalid_argument);
    REQUIRE_THROWS_WITH(optimizer->step(big, g), Contains("reset()"));
    REQUIRE(optimizer->steps() == 2);

    optimizer->reset();
    REQUIRE(optimizer->steps() == 0);
    optimizer->step(big, g);
    REQUIRE(optimizer->steps() == 1);
    // t = 1 again: the move is lr sign(g) = +0.1.
    for (Eigen::Index i = 0; i < 5; ++i)
      REQUIRE_THAT(static_cast<double>(big(i)), WithinRel(0.1, 1e-5));
  }
}
