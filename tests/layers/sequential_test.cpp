#include <latent/layers/sequential.hpp>

#include <latent/layers/dense.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "support/data.hpp"
#include "support/gradient_check.hpp"

// Sequential chains layers: the gradient of the whole chain against central differences, the
// checks between neighbours, placement in the arena, copies that share nothing, and const
// inference that agrees with forward without touching the workspaces.

namespace {

using Catch::Matchers::Contains;
using latent::Dense;
using latent::Index;
using latent::testing::numerical_gradient;
using latent::testing::relative_error;
using latent::testing::uniform_matrix;

template <class S>
using Matrix = latent::Matrix<S>;

/// Three layers with mixed activations: 4 -> 5 (Tanh) -> 3 (LeakyReLU 0.1) -> 2 (Sigmoid),
/// 25 + 18 + 8 = 51 parameters.
template <class S>
auto three_layers() {
  return latent::Sequential<Dense<S, latent::Tanh>, Dense<S, latent::LeakyReLU>,
                            Dense<S, latent::Sigmoid>>(
      Dense<S, latent::Tanh>(4, 5), Dense<S, latent::LeakyReLU>(5, 3, latent::LeakyReLU(0.1)),
      Dense<S, latent::Sigmoid>(3, 2));
}

/// The const path against the workspace path: equal but for a few roundings (their GEMMs may
/// block a product differently once a workspace has held a larger batch).
template <class S>
bool same_up_to_rounding(const Matrix<S>& actual, const Matrix<S>& expected) {
  const S tolerance = 8 * std::numeric_limits<S>::epsilon();
  return actual.rows() == expected.rows() && actual.cols() == expected.cols() &&
         ((actual - expected).array().abs() <= tolerance * expected.array().abs().max(S(1))).all();
}

}  // namespace

TEST_CASE("Sequential backward matches central differences of the whole chain",
          "[sequential]") {
  const Index n = GENERATE(1, 3);
  const std::uint64_t seed = GENERATE(1, 2);
  const Index offset = 3;
  CAPTURE(n, seed);

  auto chain = three_layers<double>();
  const Index end = chain.place(offset);
  const Index size = end + 2;
  Eigen::VectorXd arena = uniform_matrix<double>(size, 1, seed);
  Eigen::VectorXd x = uniform_matrix<double>(4 * n, 1, seed + 10);
  const Eigen::Map<const Matrix<double>> X(x.data(), 4, n);
  const Matrix<double> C = uniform_matrix<double>(2, n, seed + 20);

  const Matrix<double> Y = chain.forward(arena.data(), X);
  REQUIRE(Y.rows() == 2);
  REQUIRE(Y.cols() == n);
  // The LeakyReLU kink at 0 must stay out of reach of a difference step of 1e-5.
  REQUIRE((chain.layer<1>().preactivation().array().abs() > 1e-3).all());

  SECTION("from dL/dY") {
    Eigen::VectorXd gradients = Eigen::VectorXd::Zero(size);
    const Matrix<double> dX = chain.backward(arena.data(), gradients.data(), X, C, true);
    REQUIRE(dX.rows() == 4);
    REQUIRE(dX.cols() == n);

    auto loss = [&] {
      const Matrix<double> out = chain.forward(arena.data(), X);
      return (C.array() * out.array()).sum();
    };
    const Eigen::VectorXd numeric_parameters = numerical_gradient(loss, arena);
    const Eigen::VectorXd numeric_input = numerical_gradient(loss, x);
    CHECK(gradients.head(offset).isZero(0.0));
    CHECK(gradients.tail(size - end).isZero(0.0));
    CHECK(relative_error(gradients, numeric_parameters) < 1e-6);
    const Eigen::VectorXd dx = Eigen::Map<const Eigen::VectorXd>(dX.data(), dX.size());
    CHECK(relative_error(dx, numeric_input) < 1e-6);
  }
  SECTION("from dL/dZ of the last layer") {
    Eigen::VectorXd gradients = Eigen::VectorXd::Zero(size);
    const Matrix<double> dX =
        chain.backward_preactivation(arena.data(), gradients.data(), X, C, true);

    auto loss = [&] {
      chain.forward(arena.data(), X);
      return (C.array() * chain.last().preactivation().array()).sum();
    };
    const Eigen::VectorXd numeric_parameters = numerical_gradient(loss, arena);
    const Eigen::VectorXd numeric_input = numerical_gradient(loss, x);
    CHECK(relative_error(gradients, numeric_parameters) < 1e-6);
    const Eigen::VectorXd dx = Eigen::Map<const Eigen::VectorXd>(dX.data(), dX.size());
    CHECK(relative_error(dx, numeric_input) < 1e-6);
  }
  SECTION("without the input gradient: the same parameter gradients, an empty view") {
    Eigen::VectorXd with = Eigen::VectorXd::Zero(size);
    chain.backward(arena.data(), with.data(), X, C, true);
    Eigen::VectorXd without = Eigen::VectorXd::Zero(size);
    const auto none = chain.backward(arena.data(), without.data(), X, C, false);
    CHECK(none.size() == 0);
    CHECK_FALSE(without.isZero(0.0));
    CHECK(without == with);
  }
}

TEST_CASE("Sequential refuses neighbours whose sizes do not match, naming both", "[sequential]") {
  using L1 = Dense<float, latent::ReLU>;
  using L2 = Dense<float, latent::Sigmoid>;
  SECTION("between layers 0 and 1") {
    auto make = [] { return latent::Sequential<L1, L2>(L1(4, 3), L2(5, 2)); };
    CHECK_THROWS_AS(make(), std::invalid_argument);
    CHECK_THROWS_WITH(make(), Contains("layer 0") && Contains("Dense<ReLU>(4 -> 3)") &&
                                  Contains("3 outputs") && Contains("layer 1") &&
                                  Contains("Dense<Sigmoid>(5 -> 2)") && Contains("5 inputs"));
  }
  SECTION("between layers 1 and 2") {
    auto make = [] {
      return latent::Sequential<L1, L1, L2>(L1(4, 3), L1(3, 6), L2(7, 2));
    };
    CHECK_THROWS_WITH(make(), Contains("layer 1") && Contains("Dense<ReLU>(3 -> 6)") &&
                                  Contains("6 outputs") && Contains("layer 2") &&
                                  Contains("Dense<Sigmoid>(7 -> 2)") && Contains("7 inputs"));
  }
  SECTION("matching sizes are accepted") {
    CHECK_NOTHROW(latent::Sequential<L1, L2>(L1(4, 3), L2(3, 2)));
  }
}

TEMPLATE_TEST_CASE("Sequential forward refuses an input with the wrong number of rows",
                   "[sequential]", float, double) {
  using S = TestType;
  auto chain = three_layers<S>();
  chain.place(0);
  const Matrix<S> arena = uniform_matrix<S>(chain.parameter_count(), 1, 3);
  const Index rows = GENERATE(3, 5);
  const Matrix<S> X = uniform_matrix<S>(rows, 2, 4);
  CHECK_THROWS_AS(chain.forward(arena.data(), X), std::invalid_argument);
  CHECK_THROWS_WITH(chain.forward(arena.data(), X),
                    Contains(std::to_string(rows) + " rows") && Contains("takes 4"));
}

TEMPLATE_TEST_CASE("Sequential infer gives forward's output through buffers of its own, at any depth",
                   "[sequential]", float, double) {
  using S = TestType;
  const Matrix<S> arena = uniform_matrix<S>(60, 1, 31);
  const Matrix<S> X = uniform_matrix<S>(4, 9, 32);
  const Matrix<S> other = uniform_matrix<S>(4, 5, 33);
  // Depth 1, 2 and 3: the layers alternate between the caller's matrix and a spare one, so
  // the parity of the depth decides which the first layer writes.
  const auto check = [&](auto chain) {
    const Matrix<S> expected = chain.forward(arena.data(), X);
    const auto& shared = chain;
    Matrix<S> out;
    shared.infer(arena.data(), X, out);
    CHECK(same_up_to_rounding(out, expected));
    shared.infer(arena.data(), other, out);
    CHECK(out.cols() == 5);
    CHECK(Matrix<S>(chain.output()) == expected);  // the workspaces hold the last forward's
  };
  check(latent::Sequential{Dense<S, latent::Tanh>(4, 3)});
  check(latent::Sequential{Dense<S, latent::Tanh>(4, 5), Dense<S, latent::Sigmoid>(5, 2)});
  check(three_layers<S>());

  const auto chain = three_layers<S>();
  Matrix<S> out;
  CHECK_THROWS_WITH(chain.infer(arena.data(), other.topRows(3), out),
                    Contains("latent::Sequential::infer: input has 3 rows") && Contains("takes 4"));
}

TEST_CASE("Sequential counts its parameters and places its layers one after another",
          "[sequential]") {
  auto chain = three_layers<float>();
  STATIC_REQUIRE(decltype(chain)::depth == 3);
  CHECK(chain.input_size() == 4);
  CHECK(chain.output_size() == 2);
  CHECK(chain.parameter_count() == (5 * 4 + 5) + (3 * 5 + 3) + (2 * 3 + 2));

  const Index offset = GENERATE(0, 11);
  const Index end = chain.place(offset);
  CHECK(chain.layer<0>().offset() == offset);
  CHECK(chain.layer<1>().offset() == offset + 25);
  CHECK(chain.layer<2>().offset() == offset + 25 + 18);
  CHECK(end == offset + 51);

  SECTION("its weight segments are those of its layers, in order") {
    std::vector<latent::Segment> segments;
    chain.weights(segments);
    REQUIRE(segments.size() == 3);
    CHECK(segments[0].offset == offset);
    CHECK(segments[0].size == 20);
    CHECK(segments[1].offset == offset + 25);
    CHECK(segments[1].size == 15);
    CHECK(segments[2].offset == offset + 43);
    CHECK(segments[2].size == 6);
  }
  SECTION("initialize fills exactly its layers' places") {
    const float sentinel = 12345.f;
    Matrix<float> arena = Matrix<float>::Constant(end + 2, 1, sentinel);
    latent::Rng rng(9);
    chain.initialize(arena.data(), rng);
    CHECK((arena.topRows(offset).array() == sentinel).all());
    CHECK((arena.bottomRows(2).array() == sentinel).all());
    CHECK((arena.middleRows(offset, 51).array() != sentinel).all());
    // The biases are zero, the weights are not.
    CHECK(arena.middleRows(offset + 20, 5).isZero(0.f));
    CHECK(arena.middleRows(offset + 25 + 15, 3).isZero(0.f));
    CHECK(arena.middleRows(offset + 43 + 6, 2).isZero(0.f));
    CHECK((arena.middleRows(offset, 20).array() != 0.f).all());
  }
}

TEMPLATE_TEST_CASE("A copied Sequential computes the same outputs and shares no state",
                   "[sequential]", float, double) {
  using S = TestType;
  using Chain = decltype(three_layers<S>());
  auto original = std::make_unique<Chain>(three_layers<S>());
  original->place(2);
  const Matrix<S> arena = uniform_matrix<S>(2 + original->parameter_count(), 1, 5);
  const Matrix<S> X = uniform_matrix<S>(4, 3, 6);
  const Matrix<S> other = uniform_matrix<S>(4, 3, 7);

  const Matrix<S> expected = original->forward(arena.data(), X);
  Chain copy = *original;  // after a forward: the workspaces are copied, not shared

  SECTION("both give the same outputs on one arena") {
    const Matrix<S> from_copy = copy.forward(arena.data(), X);
    const Matrix<S> from_original = original->forward(arena.data(), X);
    CHECK(from_copy == expected);
    CHECK(from_original == expected);
  }
  SECTION("running the original does not change the copy's output") {
    original->forward(arena.data(), other);
    const Matrix<S> copy_output = copy.output();
    CHECK(copy_output == expected);
    CHECK(original->output() != expected);
  }
  SECTION("the copy works after the original is gone") {
    original.reset();
    const Matrix<S> kept = copy.output();
    CHECK(kept == expected);
    const Matrix<S> from_copy = copy.forward(arena.data(), X);
    CHECK(from_copy == expected);
    Matrix<S> gradients = Matrix<S>::Zero(arena.rows(), 1);
    const Matrix<S> dY = Matrix<S>::Ones(2, 3);
    copy.backward(arena.data(), gradients.data(), X, dY, true);
    CHECK(gradients.allFinite());
    CHECK_FALSE(gradients.isZero(0));
  }
  SECTION("a copy assigned over another chain takes its state") {
    Chain target = three_layers<S>();
    target = copy;
    CHECK(target.template layer<2>().offset() == copy.template layer<2>().offset());
    const Matrix<S> from_target = target.forward(arena.data(), X);
    CHECK(from_target == expected);
  }
}

TEST_CASE("Sequential names itself after its layers", "[sequential]") {
  const auto chain = three_layers<float>();
  CHECK(chain.name() ==
        "Sequential(Dense<Tanh>(4 -> 5), Dense<LeakyReLU>(5 -> 3), Dense<Sigmoid>(3 -> 2))");
  const latent::Sequential<Dense<double>> single{Dense<double>(3, 1)};
  CHECK(single.name() == "Sequential(Dense<Identity>(3 -> 1))");
}

TEST_CASE("concatenate chains two Sequentials into one with the same outputs", "[sequential]") {
  auto chain = three_layers<double>();
  const latent::Sequential<Dense<double, latent::Tanh>> front(Dense<double, latent::Tanh>(4, 5));
  const latent::Sequential<Dense<double, latent::LeakyReLU>, Dense<double, latent::Sigmoid>> back(
      Dense<double, latent::LeakyReLU>(5, 3, latent::LeakyReLU(0.1)),
      Dense<double, latent::Sigmoid>(3, 2));
  auto joined = latent::concatenate(front, back);
  STATIC_REQUIRE(std::is_same_v<decltype(joined), decltype(chain)>);
  REQUIRE(joined.layer<1>().offset() == 25);  // placed from 0, one layer after another

  Matrix<double> arena(51, 1);
  latent::Rng rng(3);
  chain.initialize(arena.data(), rng);
  const Matrix<double> X = uniform_matrix(4, 6, 4);
  const Matrix<double> expected = chain.forward(arena.data(), X);
  REQUIRE(joined.forward(arena.data(), X) == expected);

  SECTION("and checks the seam, naming both layers") {
    const latent::Sequential<Dense<double>> narrow(Dense<double>(3, 2));
    REQUIRE_THROWS_WITH(latent::concatenate(front, narrow),
                        Contains("layer 0 Dense<Tanh>(4 -> 5) gives 5 outputs but layer 1 "
                                 "Dense<Identity>(3 -> 2) takes 3 inputs"));
  }
}
