#include <latent/optim/state.hpp>

#include <stdexcept>

#include <catch2/catch.hpp>

#include <latent/optim/adagrad.hpp>
#include <latent/optim/adam.hpp>
#include <latent/optim/rmsprop.hpp>
#include <latent/optim/sgd.hpp>

#include "support/data.hpp"

// Every optimizer's state() taken after some steps and restore()d into a new optimizer makes
// the new one step exactly as the old one does; a state of another optimizer class or shape
// is refused before anything changes.

namespace {

using Catch::Matchers::Contains;
using latent::OptimizerState;
using Vector = latent::Vector<double>;

Vector gradient(std::uint64_t seed) { return latent::testing::uniform_matrix(11, 1, seed).col(0); }

/// Three steps of `make()`, then the state into a fresh `make()`: the next two steps of both
/// are bit for bit the same.
template <class Make>
void check_round_trip(Make make) {
  auto original = make();
  Vector parameters = latent::testing::uniform_matrix(11, 1, 1).col(0);
  for (std::uint64_t step = 0; step < 3; ++step) original.step(parameters, gradient(10 + step));
  const OptimizerState<double> state = original.state();
  CHECK_FALSE(state.buffers.empty());
  for (const Vector& buffer : state.buffers) CHECK((buffer.size() == 0 || buffer.size() == 11));

  auto restored = make();
  restored.restore(state);
  Vector copy = parameters;
  for (std::uint64_t step = 3; step < 5; ++step) {
    original.step(parameters, gradient(10 + step));
    restored.step(copy, gradient(10 + step));
  }
  CHECK(copy == parameters);
}

}  // namespace

TEST_CASE("An optimizer restored from another's state steps exactly as that one", "[optim][state]") {
  SECTION("Sgd with Nesterov momentum") {
    check_round_trip([] { return latent::Sgd<double>(latent::SgdOptions{0.1, 0.9, true}); });
  }
  SECTION("Adam, with its step count") {
    check_round_trip([] { return latent::Adam<double>(0.1); });
    latent::Adam<double> adam(0.1);
    Vector parameters = Vector::Zero(11);
    adam.step(parameters, gradient(1));
    adam.step(parameters, gradient(2));
    CHECK(adam.state().steps == 2);
  }
  SECTION("AdamW") { check_round_trip([] { return latent::AdamW<double>(0.1); }); }
  SECTION("RmsProp with momentum, and without (an empty buffer)") {
    check_round_trip([] { return latent::RmsProp<double>(latent::RmsPropOptions{0.01, 0.99, 1e-8, 0.5}); });
    check_round_trip([] { return latent::RmsProp<double>(0.01); });
  }
  SECTION("AdaGrad") { check_round_trip([] { return latent::AdaGrad<double>(0.1); }); }
}

TEST_CASE("restore refuses a state of another class or shape and keeps its own",
          "[optim][state][errors]") {
  latent::Adam<double> adam(0.1);
  Vector parameters = Vector::Zero(11);
  adam.step(parameters, gradient(1));
  const OptimizerState<double> before = adam.state();

  latent::AdamW<double> adamw(0.1);
  adamw.step(parameters, gradient(2));
  CHECK_THROWS_AS(adam.restore(adamw.state()), std::invalid_argument);
  CHECK_THROWS_WITH(adam.restore(adamw.state()), Contains("latent::AdamW"));
  CHECK_THROWS_WITH(adam.restore(latent::Sgd<double>(0.1).state()), Contains("latent::Sgd"));

  OptimizerState<double> bad = before;
  bad.buffers.pop_back();
  CHECK_THROWS_WITH(adam.restore(bad), Contains("1 buffers") && Contains("keeps 2"));
  bad = before;
  bad.buffers[1] = Vector::Zero(12);
  CHECK_THROWS_WITH(adam.restore(bad), Contains("differ in length"));
  bad = before;
  bad.steps = -1;
  CHECK_THROWS_WITH(adam.restore(bad), Contains("negative"));

  const OptimizerState<double> after = adam.state();
  CHECK(after.steps == before.steps);
  CHECK(after.buffers[0] == before.buffers[0]);
  CHECK(after.buffers[1] == before.buffers[1]);
}
