#include <latent/layers/conv2d.hpp>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <latent/core/random.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"
#include "support/layer_gradient.hpp"

// Conv2d against a direct convolution written here from its definition, its gradients against
// central differences over a grid of kernels, strides, paddings and channel counts, its shapes,
// refusals, initialisation and a steady-state step that allocates nothing.

namespace {

using latent::Conv2d;
using latent::ImageShape;
using latent::Index;
using latent::Kernel;
using latent::testing::uniform_matrix;

template <class S>
using Matrix = latent::Matrix<S>;

struct Case {
  ImageShape input;
  Index out_channels;
  Index size, stride, padding;
};

std::string describe(const Case& c) {
  return latent::to_string(c.input) + " -> " + std::to_string(c.out_channels) + " channels, " +
         Kernel(c.size).stride(c.stride).padding(c.padding).describe();
}

/// Z(o y x, j) = b_o + sum over c, u, v of K[o][c][u][v] X(c, y s + u - p, x s + v - p), with K
/// in PyTorch's row-major [out][in][size][size] layout at `offset` of the arena, then b.
template <class S>
Matrix<S> direct_convolution(const S* arena, Index offset, const Case& c, const Matrix<S>& X) {
  const Index k = c.size, s = c.stride, p = c.padding;
  const Index out_h = (c.input.height + 2 * p - k) / s + 1;
  const Index out_w = (c.input.width + 2 * p - k) / s + 1;
  const S* K = arena + offset;
  const S* b = K + c.out_channels * c.input.channels * k * k;
  Matrix<S> Z(c.out_channels * out_h * out_w, X.cols());
  for (Index j = 0; j < X.cols(); ++j)
    for (Index o = 0; o < c.out_channels; ++o)
      for (Index y = 0; y < out_h; ++y)
        for (Index x = 0; x < out_w; ++x) {
          S z = b[o];
          for (Index ch = 0; ch < c.input.channels; ++ch)
            for (Index u = 0; u < k; ++u)
              for (Index v = 0; v < k; ++v) {
                const Index row = y * s + u - p, col = x * s + v - p;
                if (row < 0 || row >= c.input.height || col < 0 || col >= c.input.width) continue;
                z += K[((o * c.input.channels + ch) * k + u) * k + v] *
                     X((ch * c.input.height + row) * c.input.width + col, j);
              }
          Z((o * out_h + y) * out_w + x, j) = z;
        }
  return Z;
}

const std::vector<Case> grid = {
    {{1, 5, 5}, 1, 1, 1, 0},  {{1, 5, 5}, 2, 3, 1, 0},  {{2, 5, 4}, 3, 3, 1, 1},
    {{2, 6, 6}, 2, 3, 2, 1},  {{3, 7, 5}, 2, 2, 2, 0},  {{1, 6, 7}, 2, 4, 2, 1},
    {{2, 5, 5}, 1, 3, 3, 2},  {{2, 4, 4}, 2, 5, 1, 2},  {{1, 3, 3}, 2, 3, 1, 2},
};

}  // namespace

TEMPLATE_TEST_CASE("Conv2d equals a direct convolution, on the workspace and the const path",
                   "[conv2d]", float, double) {
  using S = TestType;
  for (const Case& c : grid) {
    INFO(describe(c));
    Conv2d<S, latent::Tanh> layer(c.input, c.out_channels,
                                  Kernel(c.size).stride(c.stride).padding(c.padding));
    layer.place(4);
    const Matrix<S> arena = uniform_matrix<S>(4 + layer.parameter_count() + 3, 1, 21);
    const Matrix<S> X = uniform_matrix<S>(c.input.size(), 3, 22);
    const Matrix<S> Z = direct_convolution(arena.data(), 4, c, X);
    const Matrix<S> A = layer.forward(arena.data(), X);
    Matrix<S> inferred;
    layer.infer(arena.data(), X, inferred);
    const double eps = std::is_same_v<S, float> ? 1e-5 : 1e-13;
    REQUIRE(Z.rows() == layer.output_size());
    CHECK((layer.preactivation() - Z).cwiseAbs().maxCoeff() < eps);
    CHECK((A - Matrix<S>(Z.array().tanh())).cwiseAbs().maxCoeff() < eps);
    CHECK((inferred - A).cwiseAbs().maxCoeff() < eps);
  }
}

TEST_CASE("Conv2d's gradients match central differences over kernels, strides and paddings",
          "[conv2d][gradient]") {
  for (const Case& c : grid) {
    INFO(describe(c));
    Conv2d<double, latent::Tanh> layer(c.input, c.out_channels,
                                       Kernel(c.size).stride(c.stride).padding(c.padding));
    const auto errors = latent::testing::layer_gradient_errors(layer, 2, 31);
    CHECK(errors.parameters < 1e-6);
    CHECK(errors.input < 1e-6);
  }
}

TEMPLATE_TEST_CASE("Conv2d's gradients hold for every activation", "[conv2d][gradient]",
                   latent::Identity, latent::Sigmoid, latent::ReLU, latent::Softplus) {
  Conv2d<double, TestType> layer({2, 6, 5}, 3, Kernel(3).stride(2).padding(1));
  const auto errors = latent::testing::layer_gradient_errors(layer, 3, 41);
  // The ReLU's kink at 0 must be farther than the difference step from every pre-activation.
  CHECK((layer.preactivation().array().abs() > 1e-3).all());
  CHECK(errors.parameters < 1e-6);
  CHECK(errors.input < 1e-6);
}

TEST_CASE("Conv2d's shapes, name and weight segment", "[conv2d]") {
  Conv2d<float, latent::ReLU> layer({1, 28, 28}, 16, Kernel(3).stride(2).padding(1));
  CHECK(layer.output_shape() == ImageShape{16, 14, 14});
  CHECK(layer.input_size() == 784);
  CHECK(layer.output_size() == 16 * 14 * 14);
  CHECK(layer.parameter_count() == 16 * 9 + 16);
  CHECK(layer.name() == "Conv2d<ReLU>(1x28x28 -> 16x14x14, kernel 3, stride 2, padding 1)");
  layer.place(5);
  std::vector<latent::Segment> weights;
  layer.weights(weights);
  REQUIRE(weights.size() == 1);
  CHECK(weights[0].offset == 5);
  CHECK(weights[0].size == 16 * 9);  // the kernels, not the biases
  CHECK(weights[0].rows == 9);
  // Windows that do not reach the far edge: (7 + 0 - 3) / 3 + 1 = 2.
  CHECK(Conv2d<float>({2, 7, 7}, 1, Kernel(3).stride(3)).output_shape() == ImageShape{1, 2, 2});
}

TEST_CASE("Conv2d refuses kernels that do not fit and malformed options, naming itself",
          "[conv2d]") {
  using Catch::Matchers::Contains;
  using Layer = Conv2d<float>;
  CHECK_THROWS_WITH(Layer({1, 4, 4}, 2, Kernel(5)),
                    Contains("latent::Conv2d") && Contains("does not fit the 1x4x4"));
  CHECK_NOTHROW(Layer({1, 4, 4}, 2, Kernel(5).padding(1)));
  CHECK_THROWS_WITH(Layer({1, 4, 4}, 2, Kernel(0)), Contains("size and stride must be positive"));
  CHECK_THROWS_WITH(Layer({1, 4, 4}, 2, Kernel(3).stride(0)), Contains("latent::Conv2d"));
  CHECK_THROWS_WITH(Layer({1, 4, 4}, 2, Kernel(3).padding(-1)), Contains("padding non-negative"));
  CHECK_THROWS_WITH(Layer({1, 4, 4}, 0, Kernel(3)), Contains("out_channels must be positive"));
  CHECK_THROWS_WITH(Layer({0, 4, 4}, 2, Kernel(3)), Contains("0x4x4"));
  CHECK_THROWS_WITH(Layer({1, 4, 4}, 2, Kernel(3).stride(2).output_padding(1)),
                    Contains("ConvTranspose2d"));
}

TEST_CASE("Conv2d draws its kernels with the convolution's fans and zero biases", "[conv2d]") {
  // He: fan_in = in_channels size^2 = 3 * 25. Glorot: fan_out = out_channels size^2 / stride^2
  // = 8 * 25 / 4, so the limit is sqrt(6 / (75 + 50)).
  latent::Rng rng(3);
  const auto kernels_of = [&](const auto& layer) {
    Eigen::VectorXd values(layer.parameter_count());
    layer.initialize(values.data(), rng);
    CHECK(values.tail(8).isZero(0.0));
    return Eigen::VectorXd(values.head(8 * 75));
  };
  const Eigen::VectorXd he = kernels_of(Conv2d<double, latent::ReLU>({3, 9, 9}, 8, Kernel(5).stride(2)));
  const Eigen::VectorXd glorot =
      kernels_of(Conv2d<double, latent::Tanh>({3, 9, 9}, 8, Kernel(5).stride(2)));
  const double he_limit = std::sqrt(6.0 / 75), glorot_limit = std::sqrt(6.0 / 125);
  CHECK(he.cwiseAbs().maxCoeff() <= he_limit);
  CHECK(he.cwiseAbs().maxCoeff() > 0.95 * he_limit);  // the whole range is used
  CHECK(glorot.cwiseAbs().maxCoeff() <= glorot_limit);
  CHECK(glorot.cwiseAbs().maxCoeff() > 0.95 * glorot_limit);
}

TEMPLATE_TEST_CASE("A Conv2d step of MNIST size allocates nothing after warm-up, at any batch",
                   "[conv2d][allocation]", float, double) {
  using S = TestType;
  Conv2d<S, latent::ReLU> layer({1, 28, 28}, 16, Kernel(3).stride(2).padding(1));
  const Matrix<S> arena = uniform_matrix<S>(layer.parameter_count(), 1, 51, -0.3, 0.3);
  const Matrix<S> big = uniform_matrix<S>(784, 32, 52, 0, 1);
  const Matrix<S> dA_big = uniform_matrix<S>(layer.output_size(), 32, 53);
  Matrix<S> gradients = Matrix<S>::Zero(layer.parameter_count(), 1);
  layer.forward(arena.data(), big);
  layer.backward(arena.data(), gradients.data(), big, dA_big, true);

  std::size_t allocations = 0;
  {
    const latent::testing::NoAllocationScope scope;
    layer.forward(arena.data(), big);
    layer.backward(arena.data(), gradients.data(), big, dA_big, true);
    layer.forward(arena.data(), big.leftCols(7));
    layer.backward(arena.data(), gradients.data(), big.leftCols(7), dA_big.leftCols(7), true);
    allocations = scope.allocations();
  }
  CHECK(allocations == 0);
  CHECK(gradients.allFinite());
}
