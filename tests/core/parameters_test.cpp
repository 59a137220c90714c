#include <latent/core/parameters.hpp>

#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using Catch::Matchers::WithinRel;

// An arena of 10 values laid out as two layers: weights [0, 4) and [6, 8), biases [4, 6) and
// [8, 10). Values are 1, 2, ..., 10; gradients start at 0.5, 1.0, ..., 5.0 (decay adds to them).
template <class S>
latent::ParameterArena<S> two_layer_arena() {
  latent::ParameterArena<S> arena(10, {{0, 4}, {6, 2}});
  for (latent::Index i = 0; i < 10; ++i) {
    arena.values()(i) = static_cast<S>(i + 1);
    arena.gradients()(i) = static_cast<S>(0.5 * static_cast<double>(i + 1));
  }
  return arena;
}

}  // namespace

TEMPLATE_TEST_CASE("A new arena holds zeros and the weight segments it was given",
                   "[parameters]", float, double) {
  const latent::ParameterArena<TestType> arena(7, {{0, 3}, {5, 1}});
  REQUIRE(arena.size() == 7);
  REQUIRE(arena.values().size() == 7);
  REQUIRE(arena.gradients().size() == 7);
  REQUIRE(arena.values().isZero(0));
  REQUIRE(arena.gradients().isZero(0));
  REQUIRE(arena.weights().size() == 2);
  REQUIRE(arena.weights()[1].offset == 5);
  REQUIRE(arena.weights()[1].size == 1);
  REQUIRE(latent::ParameterArena<TestType>().size() == 0);
}

TEMPLATE_TEST_CASE("add_weight_decay adds lambda w to the weights' gradients only and returns "
                   "lambda / 2 sum w^2",
                   "[parameters]", float, double) {
  latent::ParameterArena<TestType> arena = two_layer_arena<TestType>();
  const latent::Vector<TestType> values_before = arena.values();
  const latent::Vector<TestType> before = arena.gradients();
  const double lambda = GENERATE(0.5, 0.01);
  INFO("lambda " << lambda);

  const TestType penalty = arena.add_weight_decay(static_cast<TestType>(lambda));

  // sum w^2 over the weights 1, 2, 3, 4 and 7, 8: 1 + 4 + 9 + 16 + 49 + 64 = 143
  REQUIRE_THAT(static_cast<double>(penalty), WithinRel(lambda / 2 * 143.0, 1e-6));
  const std::vector<latent::Index> weights{0, 1, 2, 3, 6, 7};
  for (const latent::Index i : weights) {
    INFO("weight " << i);
    // gradient 0.5 (i + 1) plus lambda (i + 1)
    REQUIRE_THAT(static_cast<double>(arena.gradients()(i)),
                 WithinRel((0.5 + lambda) * static_cast<double>(i + 1), 1e-6));
  }
  const std::vector<latent::Index> biases{4, 5, 8, 9};
  for (const latent::Index i : biases) {
    INFO("bias " << i);
    REQUIRE(arena.gradients()(i) == before(i));
  }
  REQUIRE(arena.values() == values_before);  // decay touches gradients, not values
}

TEMPLATE_TEST_CASE("add_weight_decay with lambda 0 changes nothing and returns 0",
                   "[parameters]", float, double) {
  latent::ParameterArena<TestType> arena = two_layer_arena<TestType>();
  const latent::Vector<TestType> before = arena.gradients();
  REQUIRE(arena.add_weight_decay(TestType(0)) == TestType(0));
  REQUIRE(arena.gradients() == before);
}

TEMPLATE_TEST_CASE("weight_penalty equals add_weight_decay's value without touching the "
                   "gradients",
                   "[parameters]", float, double) {
  latent::ParameterArena<TestType> arena = two_layer_arena<TestType>();
  const latent::Vector<TestType> before = arena.gradients();
  const TestType penalty = arena.weight_penalty(TestType(0.5));
  REQUIRE(arena.gradients() == before);
  REQUIRE_THAT(static_cast<double>(penalty), WithinRel(0.25 * 143.0, 1e-6));
  REQUIRE(arena.add_weight_decay(TestType(0.5)) == penalty);
}

TEMPLATE_TEST_CASE("An arena without weight segments has no penalty", "[parameters]", float,
                   double) {
  latent::ParameterArena<TestType> arena(3, {});
  arena.values().setConstant(TestType(2));
  REQUIRE(arena.add_weight_decay(TestType(1)) == TestType(0));
  REQUIRE(arena.gradients().isZero(0));
}

TEMPLATE_TEST_CASE("Copies of an arena are independent values", "[parameters]", float, double) {
  latent::ParameterArena<TestType> arena = two_layer_arena<TestType>();
  latent::ParameterArena<TestType> copy = arena;
  copy.values()(0) = TestType(-1);
  copy.gradients()(0) = TestType(-1);
  REQUIRE(arena.values()(0) == TestType(1));
  REQUIRE(arena.gradients()(0) == TestType(0.5));
  REQUIRE(copy.weights().size() == arena.weights().size());

  latent::ParameterArena<TestType> moved = std::move(copy);
  REQUIRE(moved.values()(0) == TestType(-1));
  REQUIRE(moved.size() == 10);
  // (2 / 2) ((-1)^2 + 2^2 + 3^2 + 4^2 + 7^2 + 8^2) = 143
  REQUIRE_THAT(static_cast<double>(moved.weight_penalty(TestType(2))), WithinRel(143.0, 1e-6));
}
