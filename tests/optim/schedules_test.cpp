#include <latent/optim/schedules.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/models/autoencoder.hpp>
#include <latent/optim/sgd.hpp>
#include <latent/train/fit.hpp>

#include <catch2/catch.hpp>

#include "support/data.hpp"

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;

// A 4 -> 2 -> 4 autoencoder and 10 samples: enough to run fit for a few epochs in no time.
template <class S>
auto tiny_autoencoder(latent::Rng& rng) {
  using namespace latent;
  return Autoencoder(Sequential{Dense<S, Tanh>(4, 2)}, Sequential{Dense<S>(2, 4)}, rng);
}

}  // namespace

TEST_CASE("ConstantRate gives the base rate at every epoch", "[schedules]") {
  const latent::ConstantRate schedule;
  const latent::Index epoch = GENERATE(0, 1, 7, 1000);
  REQUIRE(schedule.rate(0.05, epoch) == 0.05);
  REQUIRE(schedule.rate(3.0, epoch) == 3.0);
}

TEST_CASE("StepDecay multiplies by gamma every step_size epochs", "[schedules]") {
  const latent::StepDecay schedule(3, 0.5);
  // base 0.1 * 0.5^floor(epoch / 3)
  CHECK(schedule.rate(0.1, 0) == 0.1);
  CHECK(schedule.rate(0.1, 2) == 0.1);
  CHECK_THAT(schedule.rate(0.1, 3), WithinRel(0.05, 1e-14));
  CHECK_THAT(schedule.rate(0.1, 5), WithinRel(0.05, 1e-14));
  CHECK_THAT(schedule.rate(0.1, 6), WithinRel(0.025, 1e-14));
  CHECK_THAT(schedule.rate(0.1, 10), WithinRel(0.0125, 1e-14));

  const latent::StepDecay defaults;  // every 10 epochs, gamma 0.1
  CHECK(defaults.rate(1.0, 9) == 1.0);
  CHECK_THAT(defaults.rate(1.0, 10), WithinRel(0.1, 1e-14));
  CHECK_THAT(defaults.rate(1.0, 25), WithinRel(0.01, 1e-14));
  const latent::StepDecay constant(1, 1.0);  // gamma 1 is allowed: no decay
  CHECK(constant.rate(0.3, 50) == 0.3);
}

TEST_CASE("CosineAnnealing follows half a cosine from the base to the minimum", "[schedules]") {
  const latent::CosineAnnealing schedule(4, 0.01);
  // 0.01 + (0.1 - 0.01) (1 + cos(pi epoch / 4)) / 2, with cos(pi / 4) = sqrt(0.5)
  CHECK_THAT(schedule.rate(0.1, 0), WithinRel(0.1, 1e-14));
  // 0.08682
  CHECK_THAT(schedule.rate(0.1, 1), WithinRel(0.01 + 0.09 * 0.5 * (1.0 + std::sqrt(0.5)), 1e-14));
  // 0.055
  CHECK_THAT(schedule.rate(0.1, 2), WithinRel(0.01 + 0.09 * 0.5, 1e-14));
  // 0.02318
  CHECK_THAT(schedule.rate(0.1, 3), WithinRel(0.01 + 0.09 * 0.5 * (1.0 - std::sqrt(0.5)), 1e-14));
  // then held at the minimum
  CHECK(schedule.rate(0.1, 4) == 0.01);
  CHECK(schedule.rate(0.1, 100) == 0.01);

  const latent::CosineAnnealing long_period(100, 0.5);
  CHECK_THAT(long_period.rate(2.0, 50), WithinRel(1.25, 1e-14));  // 0.5 + 1.5 * (1 + 0) / 2
  CHECK(long_period.rate(2.0, 99) > 0.5);
  CHECK(long_period.rate(2.0, 99) < long_period.rate(2.0, 98));
}

TEST_CASE("Schedules refuse bad options, naming them", "[schedules]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  SECTION("StepDecay step_size") {
    const latent::Index every = GENERATE(0, -3);
    REQUIRE_THROWS_AS(latent::StepDecay(every, 0.5), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::StepDecay(every, 0.5), Contains("'step_size'"));
  }
  SECTION("StepDecay gamma") {
    const double gamma = GENERATE_COPY(0.0, -0.5, 1.5, nan);
    REQUIRE_THROWS_AS(latent::StepDecay(10, gamma), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::StepDecay(10, gamma), Contains("'gamma'"));
  }
  SECTION("CosineAnnealing period") {
    const latent::Index period = GENERATE(0, -1);
    REQUIRE_THROWS_AS(latent::CosineAnnealing(period, 0.0), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::CosineAnnealing(period, 0.0), Contains("'period'"));
  }
  SECTION("CosineAnnealing minimum") {
    const double minimum = GENERATE_COPY(0.0, -0.1, nan);  // a rate of 0 no optimizer takes
    REQUIRE_THROWS_AS(latent::CosineAnnealing(10, minimum), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::CosineAnnealing(10, minimum), Contains("'minimum'"));
  }
}

TEMPLATE_TEST_CASE("fit sets the scheduled rate before each epoch and records it",
                   "[schedules][fit]", float, double) {
  latent::Rng rng(3);
  auto model = tiny_autoencoder<TestType>(rng);
  const latent::Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(4, 10, 11);
  latent::Sgd<TestType> sgd(0.1);
  latent::FitOptions options;
  options.epochs = 7;
  options.batch_size = 4;

  SECTION("StepDecay") {
    const latent::History history =
        latent::fit(model, sgd, X, options, rng, latent::StepDecay(3, 0.5));
    REQUIRE(history.epochs.size() == 7);
    const std::vector<double> expected{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025};
    for (std::size_t e = 0; e < expected.size(); ++e) {
      INFO("epoch " << e);
      CHECK_THAT(history.epochs[e].learning_rate, WithinRel(expected[e], 1e-14));
    }
    REQUIRE(sgd.learning_rate() == 0.1);  // the schedule held for that run only
  }
  SECTION("CosineAnnealing") {
    const latent::History history =
        latent::fit(model, sgd, X, options, rng, latent::CosineAnnealing(4, 0.01));
    REQUIRE(history.epochs.size() == 7);
    const std::vector<double> expected{0.1,
                                       0.01 + 0.09 * 0.5 * (1.0 + std::sqrt(0.5)),
                                       0.055,
                                       0.01 + 0.09 * 0.5 * (1.0 - std::sqrt(0.5)),
                                       0.01,
                                       0.01,
                                       0.01};
    for (std::size_t e = 0; e < expected.size(); ++e) {
      INFO("epoch " << e);
      CHECK_THAT(history.epochs[e].learning_rate, WithinRel(expected[e], 1e-14));
    }
  }
  SECTION("ConstantRate, or no schedule at all") {
    const latent::History with = latent::fit(model, sgd, X, options, rng, latent::ConstantRate{});
    const latent::History without = latent::fit(model, sgd, X, options, rng);
    for (const latent::History* history : {&with, &without}) {
      REQUIRE(history->epochs.size() == 7);
      for (const latent::EpochRecord& record : history->epochs) CHECK(record.learning_rate == 0.1);
    }
  }
}

TEST_CASE("The default cosine schedule can run past its period in fit", "[schedules][fit]") {
  // The default CosineAnnealing anneals down to its minimum (1e-6) and then holds it; every
  // optimizer refuses a learning rate of 0, so training for more epochs than the period must
  // not end in std::invalid_argument from set_learning_rate.
  latent::Rng rng(5);
  auto model = tiny_autoencoder<double>(rng);
  const latent::Matrix<double> X = latent::testing::uniform_matrix<double>(4, 8, 12);
  latent::Sgd<double> sgd(0.1);
  latent::CosineAnnealing schedule;  // defaults: period 100, minimum 1e-6
  schedule.period = 3;               // shortened to keep the test fast
  latent::FitOptions options;
  options.epochs = 5;
  options.batch_size = 8;
  latent::History history;
  REQUIRE_NOTHROW(history = latent::fit(model, sgd, X, options, rng, schedule));
  REQUIRE(history.epochs.size() == 5);
  CHECK(history.epochs[4].learning_rate == schedule.rate(0.1, 4));
  CHECK(model.parameters().allFinite());
  // The schedule held for that run only: the optimizer is back at its own rate.
  CHECK(sgd.learning_rate() == 0.1);
}
