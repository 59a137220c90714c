#include <latent/layers/dense.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"
#include "support/gradient_check.hpp"

// Dense against the layer contract written on it: the forward pass read by hand from the
// arena, const inference against it, every gradient against central differences,
// accumulation, initialisation, and a steady-state step that allocates nothing.

namespace {

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using latent::Index;
using latent::testing::numerical_gradient;
using latent::testing::relative_error;
using latent::testing::uniform_matrix;

template <class S>
using Matrix = latent::Matrix<S>;

/// The activation under test, with a non-default constant where it has one.
template <class Act>
Act sample_activation() {
  return Act{};
}
template <>
latent::LeakyReLU sample_activation<latent::LeakyReLU>() {
  return latent::LeakyReLU(0.2);
}
template <>
latent::ELU sample_activation<latent::ELU>() {
  return latent::ELU(0.5);
}

struct Shape {
  Index inputs;
  Index outputs;
  Index n;
};

/// Z = W X + b read entry by entry from the arena: W column-major at `offset`, then b.
template <class S>
Matrix<S> preactivation_by_hand(const S* arena, Index offset, Index inputs, Index outputs,
                                const Matrix<S>& X) {
  Matrix<S> Z(outputs, X.cols());
  for (Index j = 0; j < X.cols(); ++j)
    for (Index i = 0; i < outputs; ++i) {
      S z = arena[offset + outputs * inputs + i];  // b_i
      for (Index k = 0; k < inputs; ++k) z += arena[offset + i + k * outputs] * X(k, j);  // W_ik
      Z(i, j) = z;
    }
  return Z;
}

/// Checks each entry of `actual` against `expected`: relative `eps`, or absolute `tiny`.
template <class A, class B>
void check_matrix(const A& actual, const B& expected, double eps, double tiny) {
  REQUIRE(actual.rows() == expected.rows());
  REQUIRE(actual.cols() == expected.cols());
  for (Index j = 0; j < actual.cols(); ++j)
    for (Index i = 0; i < actual.rows(); ++i) {
      INFO("entry (" << i << ", " << j << ")");
      CHECK_THAT(static_cast<double>(actual(i, j)),
                 WithinRel(static_cast<double>(expected(i, j)), eps) ||
                     WithinAbs(static_cast<double>(expected(i, j)), tiny));
    }
}

/// The const path against the workspace path: equal but for a few roundings (their GEMMs may
/// block a product differently once a workspace has held a larger batch).
template <class S>
bool same_up_to_rounding(const Matrix<S>& actual, const Matrix<S>& expected) {
  const S tolerance = 8 * std::numeric_limits<S>::epsilon();
  return actual.rows() == expected.rows() && actual.cols() == expected.cols() &&
         ((actual - expected).array().abs() <= tolerance * expected.array().abs().max(S(1))).all();
}

/// An arena of `size` with random parameters in [-1, 1]: the bias is not zero, so a bias that
/// is ignored shows.
Eigen::VectorXd random_arena(Index size, std::uint64_t seed) {
  return latent::testing::uniform_matrix<double>(size, 1, seed);
}

}  // namespace

TEMPLATE_TEST_CASE("Dense forward is f(W X + b) read from its place in the arena", "[dense]",
                   float, double) {
  using S = TestType;
  const Shape shape = GENERATE(Shape{3, 2, 4}, Shape{5, 4, 1}, Shape{1, 3, 2});
  const Index offset = GENERATE(0, 7);
  const Index pad = 5;  // parameters after the layer, which it must not read as its own
  latent::Dense<S, latent::Tanh> layer(shape.inputs, shape.outputs);
  layer.place(offset);
  REQUIRE(layer.offset() == offset);
  REQUIRE(layer.parameter_count() == shape.outputs * shape.inputs + shape.outputs);

  Matrix<S> arena = uniform_matrix<S>(offset + layer.parameter_count() + pad, 1, 11);
  const Matrix<S> X = uniform_matrix<S>(shape.inputs, shape.n, 12);
  const Matrix<S> Z = preactivation_by_hand(arena.data(), offset, shape.inputs, shape.outputs, X);
  const Matrix<S> expected = Z.array().tanh().matrix();
  const double eps = std::is_same_v<S, float> ? 1e-5 : 1e-12;

  const Matrix<S> A = layer.forward(arena.data(), X);
  check_matrix(A, expected, eps, 1e-6);
  check_matrix(layer.output(), expected, eps, 1e-6);
  check_matrix(layer.preactivation(), Z, eps, 1e-6);

  SECTION("the weight and bias views show the same layout") {
    for (Index k = 0; k < shape.inputs; ++k)
      for (Index i = 0; i < shape.outputs; ++i)
        CHECK(layer.weight(arena.data())(i, k) == arena(offset + i + k * shape.outputs));
    for (Index i = 0; i < shape.outputs; ++i)
      CHECK(layer.bias(static_cast<const S*>(arena.data()))(i) ==
            arena(offset + shape.outputs * shape.inputs + i));
  }
  SECTION("the Identity layer returns Z itself") {
    latent::Dense<S, latent::Identity> linear(shape.inputs, shape.outputs);
    linear.place(offset);
    const Matrix<S> Y = linear.forward(arena.data(), X);
    check_matrix(Y, Z, eps, 1e-6);
    check_matrix(linear.output(), Z, eps, 1e-6);
  }
}

TEMPLATE_TEST_CASE("Dense infer gives forward's output in caller storage and leaves the layer alone",
                   "[dense]", float, double) {
  using S = TestType;
  // Small products take Eigen's coefficient path, one column its matrix-vector path, the
  // larger ones its blocked GEMM.
  const Shape shape = GENERATE(Shape{3, 2, 4}, Shape{5, 4, 1}, Shape{40, 30, 70});
  CAPTURE(shape.inputs, shape.outputs, shape.n);
  latent::Dense<S, latent::Tanh> layer(shape.inputs, shape.outputs);
  latent::Dense<S, latent::Identity> linear(shape.inputs, shape.outputs);
  layer.place(3);
  linear.place(3);
  const Matrix<S> arena = uniform_matrix<S>(3 + layer.parameter_count(), 1, 21);
  const Matrix<S> X = uniform_matrix<S>(shape.inputs, shape.n, 22);
  const Matrix<S> other = uniform_matrix<S>(shape.inputs, 2 * shape.n, 23);

  const Matrix<S> A = layer.forward(arena.data(), X);
  const Matrix<S> Z = layer.preactivation();
  Matrix<S> out(1, 1);  // of another shape: infer resizes it
  const latent::Dense<S, latent::Tanh>& shared = layer;
  shared.infer(arena.data(), X, out);
  CHECK(same_up_to_rounding(out, A));
  linear.infer(arena.data(), X, out);  // the same parameters without the activation
  CHECK(same_up_to_rounding(out, Z));

  // The workspace still holds the last forward's results.
  shared.infer(arena.data(), other, out);
  CHECK(out.cols() == 2 * shape.n);
  CHECK(Matrix<S>(layer.output()) == A);
  CHECK(Matrix<S>(layer.preactivation()) == Z);
}

TEMPLATE_TEST_CASE("Dense backward matches central differences of sum(C .* A)", "[dense]",
                   latent::Identity, latent::Sigmoid, latent::Tanh, latent::ReLU,
                   latent::LeakyReLU, latent::ELU, latent::Softplus) {
  using Act = TestType;
  const Shape shape = GENERATE(Shape{3, 2, 4}, Shape{4, 3, 1}, Shape{1, 4, 3}, Shape{5, 1, 2});
  const std::uint64_t seed = GENERATE(1, 2);
  const Index offset = 3;
  const Index pad = 2;
  CAPTURE(shape.inputs, shape.outputs, shape.n, seed);

  latent::Dense<double, Act> layer(shape.inputs, shape.outputs, sample_activation<Act>());
  layer.place(offset);
  const Index size = offset + layer.parameter_count() + pad;
  Eigen::VectorXd arena = random_arena(size, seed);
  Eigen::VectorXd x = uniform_matrix<double>(shape.inputs * shape.n, 1, seed + 100);
  const Eigen::Map<const Matrix<double>> X(x.data(), shape.inputs, shape.n);
  const Matrix<double> C = uniform_matrix<double>(shape.outputs, shape.n, seed + 200);

  // Analytic gradients first: backward reads the Z and A of the last forward.
  const Matrix<double> A = layer.forward(arena.data(), X);
  // The ReLU family has a kink at 0 that a difference step of 1e-5 must not cross.
  REQUIRE((layer.preactivation().array().abs() > 1e-3).all());
  Eigen::VectorXd gradients = Eigen::VectorXd::Zero(size);
  const Matrix<double> dX = layer.backward(arena.data(), gradients.data(), X, C, true);
  REQUIRE(dX.rows() == shape.inputs);
  REQUIRE(dX.cols() == shape.n);

  auto loss = [&] {
    const Matrix<double> out = layer.forward(arena.data(), X);
    return (C.array() * out.array()).sum();
  };
  const Eigen::VectorXd numeric_parameters = numerical_gradient(loss, arena);
  const Eigen::VectorXd numeric_input = numerical_gradient(loss, x);

  // The padding around the layer has no gradient, numerically and analytically.
  CHECK(gradients.head(offset).isZero(0.0));
  CHECK(gradients.tail(pad).isZero(0.0));
  CHECK(relative_error(gradients, numeric_parameters) < 1e-6);
  const Eigen::VectorXd dx = Eigen::Map<const Eigen::VectorXd>(dX.data(), dX.size());
  CHECK(relative_error(dx, numeric_input) < 1e-6);
}

TEMPLATE_TEST_CASE("Dense backward_preactivation matches central differences of sum(C .* Z)",
                   "[dense]", latent::Sigmoid, latent::ReLU, latent::Identity) {
  using Act = TestType;
  const Shape shape = GENERATE(Shape{3, 2, 4}, Shape{2, 3, 1});
  latent::Dense<double, Act> layer(shape.inputs, shape.outputs);
  layer.place(2);
  const Index size = 2 + layer.parameter_count() + 1;
  Eigen::VectorXd arena = random_arena(size, 5);
  Eigen::VectorXd x = uniform_matrix<double>(shape.inputs * shape.n, 1, 6);
  const Eigen::Map<const Matrix<double>> X(x.data(), shape.inputs, shape.n);
  const Matrix<double> C = uniform_matrix<double>(shape.outputs, shape.n, 7);

  layer.forward(arena.data(), X);
  Eigen::VectorXd gradients = Eigen::VectorXd::Zero(size);
  const Matrix<double> dX =
      layer.backward_preactivation(arena.data(), gradients.data(), X, C, true);

  // The pre-activation is smooth in every parameter whatever f is.
  auto loss = [&] {
    layer.forward(arena.data(), X);
    return (C.array() * layer.preactivation().array()).sum();
  };
  const Eigen::VectorXd numeric_parameters = numerical_gradient(loss, arena);
  const Eigen::VectorXd numeric_input = numerical_gradient(loss, x);
  CHECK(relative_error(gradients, numeric_parameters) < 1e-6);
  const Eigen::VectorXd dx = Eigen::Map<const Eigen::VectorXd>(dX.data(), dX.size());
  CHECK(relative_error(dx, numeric_input) < 1e-6);
}

TEMPLATE_TEST_CASE("Dense backward adds into the gradients instead of overwriting them",
                   "[dense]", float, double) {
  using S = TestType;
  latent::Dense<S, latent::Sigmoid> layer(3, 2);
  const Matrix<S> arena = uniform_matrix<S>(layer.parameter_count(), 1, 21);
  const Matrix<S> X = uniform_matrix<S>(3, 4, 22);
  const Matrix<S> dA = uniform_matrix<S>(2, 4, 23);
  layer.forward(arena.data(), X);
  const double eps = std::is_same_v<S, float> ? 1e-6 : 1e-14;

  Matrix<S> once = Matrix<S>::Zero(layer.parameter_count(), 1);
  layer.backward(arena.data(), once.data(), X, dA, false);
  REQUIRE_FALSE(once.isZero(0));

  SECTION("twice doubles them") {
    Matrix<S> twice = Matrix<S>::Zero(layer.parameter_count(), 1);
    layer.backward(arena.data(), twice.data(), X, dA, false);
    layer.backward(arena.data(), twice.data(), X, dA, false);
    check_matrix(twice, (S(2) * once).eval(), eps, 1e-12);
  }
  SECTION("onto earlier values, it adds") {
    const Matrix<S> start = uniform_matrix<S>(layer.parameter_count(), 1, 24);
    Matrix<S> sum = start;
    layer.backward(arena.data(), sum.data(), X, dA, true);
    check_matrix(sum, (start + once).eval(), eps, 1e-6);
  }
}

TEMPLATE_TEST_CASE("Dense backward without input gradient returns an empty view",
                   "[dense]", float, double) {
  using S = TestType;
  latent::Dense<S, latent::ReLU> layer(4, 3);
  layer.place(1);
  const Index size = 1 + layer.parameter_count();
  const Matrix<S> arena = uniform_matrix<S>(size, 1, 31);
  const Matrix<S> X = uniform_matrix<S>(4, 5, 32);
  const Matrix<S> dA = uniform_matrix<S>(3, 5, 33);
  layer.forward(arena.data(), X);

  Matrix<S> with = Matrix<S>::Zero(size, 1);
  const auto dX = layer.backward(arena.data(), with.data(), X, dA, true);
  CHECK(dX.size() == 4 * 5);

  Matrix<S> without = Matrix<S>::Zero(size, 1);
  const auto none = layer.backward(arena.data(), without.data(), X, dA, false);
  CHECK(none.size() == 0);
  CHECK_FALSE(without.isZero(0));
  CHECK(without == with);
}

TEMPLATE_TEST_CASE("Dense initialises biases to zero and weights within the Glorot or He limit",
                   "[dense]", float, double) {
  using S = TestType;
  using Vector = latent::Vector<S>;
  const Index inputs = 30;
  const Index outputs = 20;
  const Index offset = 4;
  const S nan = std::numeric_limits<S>::quiet_NaN();

  auto draw = [&](auto layer, std::uint64_t seed) {
    layer.place(offset);
    // Everything starts as NaN: what the layer does not write stays NaN.
    Vector arena = Vector::Constant(offset + layer.parameter_count() + 3, nan);
    latent::Rng rng(seed);
    layer.initialize(arena.data(), rng);
    return arena;
  };
  auto check_layout = [&](const Vector& arena, double limit) {
    const Vector W = arena.segment(offset, outputs * inputs);
    const Vector b = arena.segment(offset + outputs * inputs, outputs);
    CHECK(arena.head(offset).array().isNaN().all());
    CHECK(arena.tail(3).array().isNaN().all());
    CHECK(b.isZero(S(0)));
    REQUIRE(W.allFinite());
    // Rounding to S is monotonic: a draw inside the limit stays inside the limit rounded to S.
    CHECK(W.cwiseAbs().maxCoeff() <= static_cast<S>(limit));
    // 600 draws of U(-l, l): all inside 0.9 l has probability 0.9^600. A smaller limit shows.
    CHECK(W.cwiseAbs().maxCoeff() > static_cast<S>(0.9 * limit));
    CHECK(W.minCoeff() < S(0));
    CHECK(W.maxCoeff() > S(0));
  };
  const double glorot = std::sqrt(6.0 / (inputs + outputs));
  const double he = std::sqrt(6.0 / inputs);

  SECTION("Sigmoid takes Glorot uniform") {
    check_layout(draw(latent::Dense<S, latent::Sigmoid>(inputs, outputs), 1), glorot);
  }
  SECTION("ReLU takes He uniform") {
    check_layout(draw(latent::Dense<S, latent::ReLU>(inputs, outputs), 1), he);
  }
  SECTION("an explicit Init overrides the activation's") {
    check_layout(draw(latent::Dense<S, latent::ReLU>(inputs, outputs, latent::ReLU{},
                                                    latent::Init::glorot_uniform),
                      1),
                 glorot);
  }
  SECTION("the same seed gives the same numbers, another seed others") {
    using Layer = latent::Dense<S, latent::Tanh>;
    const Vector a = draw(Layer(inputs, outputs), 5);
    const Vector b = draw(Layer(inputs, outputs), 5);
    const Vector c = draw(Layer(inputs, outputs), 6);
    const Vector wa = a.segment(offset, outputs * inputs);
    const Vector wb = b.segment(offset, outputs * inputs);
    const Vector wc = c.segment(offset, outputs * inputs);
    CHECK(wa == wb);
    CHECK((wa.array() != wc.array()).count() > outputs * inputs / 2);
  }
}

TEST_CASE("Dense refuses empty sizes and names itself", "[dense]") {
  CHECK_THROWS_AS((latent::Dense<float, latent::ReLU>(0, 3)), std::invalid_argument);
  CHECK_THROWS_AS((latent::Dense<float, latent::ReLU>(3, 0)), std::invalid_argument);
  CHECK_THROWS_AS((latent::Dense<double>(-1, 3)), std::invalid_argument);
  CHECK_THROWS_WITH((latent::Dense<float, latent::ReLU>(3, 0)),
                    Catch::Matchers::Contains("3 -> 0"));

  CHECK(latent::Dense<float, latent::ReLU>(784, 128).name() == "Dense<ReLU>(784 -> 128)");
  CHECK(latent::Dense<double, latent::Sigmoid>(128, 784).name() == "Dense<Sigmoid>(128 -> 784)");
  CHECK(latent::Dense<double>(2, 1).name() == "Dense<Identity>(2 -> 1)");
  CHECK(latent::Dense<float, latent::LeakyReLU>(3, 4, latent::LeakyReLU(0.3)).name() ==
        "Dense<LeakyReLU>(3 -> 4)");

  const latent::Dense<float, latent::ReLU> layer(784, 128);
  CHECK(layer.input_size() == 784);
  CHECK(layer.output_size() == 128);
  CHECK(layer.parameter_count() == 784 * 128 + 128);
}

TEST_CASE("Dense lists its weights, not its biases, for weight decay", "[dense]") {
  latent::Dense<double, latent::Tanh> layer(5, 3);
  layer.place(10);
  std::vector<latent::Segment> segments{{0, 2}};
  layer.weights(segments);
  REQUIRE(segments.size() == 2);
  CHECK(segments[1].offset == 10);
  CHECK(segments[1].size == 15);
}

TEMPLATE_TEST_CASE("A Dense step on a smaller batch reuses the workspace and allocates nothing",
                   "[dense]", float, double) {
  using S = TestType;
  latent::Dense<S, latent::Sigmoid> layer(6, 5);
  layer.place(2);
  const Index size = 2 + layer.parameter_count();
  const Matrix<S> arena = uniform_matrix<S>(size, 1, 41);
  const Matrix<S> big = uniform_matrix<S>(6, 8, 42);
  const Matrix<S> big_dA = uniform_matrix<S>(5, 8, 43);
  const Matrix<S> X = uniform_matrix<S>(6, 4, 44);
  const Matrix<S> dA = uniform_matrix<S>(5, 4, 45);
  Matrix<S> gradients = Matrix<S>::Zero(size, 1);

  // Warm-up on 8 columns: every workspace grows to 8 columns.
  layer.forward(arena.data(), big);
  layer.backward(arena.data(), gradients.data(), big, big_dA, true);
  gradients.setZero();

  std::size_t allocations = 0;
  const S* output_data = nullptr;
  Index output_cols = 0;
  const S* input_gradient_data = nullptr;
  Index input_gradient_cols = 0;
  {
    const latent::testing::NoAllocationScope scope;
    const auto A = layer.forward(arena.data(), X);
    const auto dX = layer.backward(arena.data(), gradients.data(), X, dA, true);
    output_data = A.data();
    output_cols = A.cols();
    input_gradient_data = dX.data();
    input_gradient_cols = dX.cols();
    allocations = scope.allocations();
  }
  CHECK(allocations == 0);
  REQUIRE(output_cols == 4);
  REQUIRE(input_gradient_cols == 4);

  // The results of the reused workspace equal those of a fresh layer.
  latent::Dense<S, latent::Sigmoid> fresh(6, 5);
  fresh.place(2);
  Matrix<S> fresh_gradients = Matrix<S>::Zero(size, 1);
  const Matrix<S> fresh_A = fresh.forward(arena.data(), X);
  const Matrix<S> fresh_dX = fresh.backward(arena.data(), fresh_gradients.data(), X, dA, true);
  const double eps = std::is_same_v<S, float> ? 1e-6 : 1e-14;
  const Matrix<S> A = Eigen::Map<const Matrix<S>>(output_data, 5, 4);
  const Matrix<S> dX = Eigen::Map<const Matrix<S>>(input_gradient_data, 6, 4);
  check_matrix(A, fresh_A, eps, 1e-12);
  check_matrix(dX, fresh_dX, eps, 1e-12);
  check_matrix(gradients, fresh_gradients, eps, 1e-12);
}

TEMPLATE_TEST_CASE("A Dense step of MNIST size allocates nothing after warm-up",
                   "[dense][allocation]", float, double) {
  // The contract on Dense promises a steady-state step without allocation at any size, not only
  // for the small layers above. 784 -> 128 on 32 samples is the first layer of the MNIST
  // autoencoder. Eigen reports a forbidden allocation by assert, so a failure aborts this test.
  using S = TestType;
  const Index inputs = 784, outputs = 128, n = 32;
  latent::Dense<S, latent::ReLU> layer(inputs, outputs);
  const Matrix<S> arena = uniform_matrix<S>(layer.parameter_count(), 1, 51, -0.05, 0.05);
  const Matrix<S> X = uniform_matrix<S>(inputs, n, 52, 0, 1);
  const Matrix<S> dA = uniform_matrix<S>(outputs, n, 53);
  Matrix<S> gradients = Matrix<S>::Zero(layer.parameter_count(), 1);
  layer.forward(arena.data(), X);
  layer.backward(arena.data(), gradients.data(), X, dA, true);

  std::size_t allocations = 0;
  {
    const latent::testing::NoAllocationScope scope;
    layer.forward(arena.data(), X);
    layer.backward(arena.data(), gradients.data(), X, dA, true);
    allocations = scope.allocations();
  }
  CHECK(allocations == 0);
  CHECK(gradients.allFinite());
}
